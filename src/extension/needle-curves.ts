// The needle's exact curves for the panel: every head under the given modes, the shown mode's
// from the keys the model worker kept, each other mode by a run of its own over the same window
// (core/reading/span-mass.ts), with progress and Cancel. Curves of the same span computed before are kept.
import * as vscode from 'vscode';
import type { Inspection } from '../core/inspection-types';
import type { ModelRunner } from '../core/engine/runner';
import { exactNeedle } from '../core/engine/runner';
import type { NeedleCurve, TokenSpan } from '../core/reading/needle';
import type { Mode } from '../shared/vocabulary';
import { MODE_LABELS } from '../shared/vocabulary';

/** The curves computed for one span of one inspection, per mode. */
export interface NeedleCurves {
  documentId: number;
  span: TokenSpan;
  curves: Map<Mode, NeedleCurve>;
}

/**
 * `all`: every curve of this span so far (kept ones included, also when cancelled); `shown`: the
 * wanted modes' curves in their order, undefined when cancelled.
 */
export async function needleCurves(
  runner: ModelRunner,
  insp: Inspection,
  span: TokenSpan,
  text: string,
  modes: readonly Mode[],
  kept: NeedleCurves | undefined,
): Promise<{ all: NeedleCurves; shown?: Map<Mode, NeedleCurve> }> {
  const ordered = [insp.mode, ...modes.filter((m) => m !== insp.mode)].filter((m) => modes.includes(m));
  const same = kept && kept.documentId === insp.id && kept.span.start === span.start && kept.span.end === span.end;
  const curves = new Map<Mode, NeedleCurve>(same ? kept.curves : []);
  const done = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Attention Lens: needle', cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    try {
      for (const [i, mode] of ordered.entries()) {
        if (curves.has(mode)) continue;
        progress.report({ message: `${MODE_LABELS[mode]} (${i + 1} of ${ordered.length})`, increment: i === 0 ? 0 : 100 / ordered.length });
        curves.set(mode, await exactNeedle(runner, insp, span, { text, signal: abort.signal }, mode));
      }
      return true;
    } catch (err) {
      if (abort.signal.aborted) return false;
      throw err;
    } finally {
      sub.dispose();
    }
  });
  const all = { documentId: insp.id, span, curves };
  return { all, shown: done ? new Map(modes.filter((m) => curves.has(m)).map((m) => [m, curves.get(m) as NeedleCurve])) : undefined };
}
