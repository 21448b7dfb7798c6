// The panel's two detail requests that go back to the model: the needle (how much attention
// reaches the editor's selection from every later token, per mode) and a zoomed map region at
// full resolution. Both read the worker's kept keys when it still has them.
import * as vscode from 'vscode';
import type { Inspection } from '../core/inspection-types';
import type { ModelRunner } from '../core/engine/runner';
import type { TokenSpan } from '../core/reading/needle';
import { inspectionNeedle, needleFromRegion, tokenSpan } from '../core/reading/needle';
import { curveOf } from '../core/reading/selection';
import type { PanelNeedle, RegionMessage, RegionRequest } from '../protocol';
import { downsample } from '../shared/buckets';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import { clipText } from '../shared/vocabulary';
import type { InspectedDocuments, ShownInspection } from './inspected-documents';

/** A zoomed region is drawn with at most this many cells a side (one token a cell below it). */
const REGION_CELLS = 256;
/** Points a needle curve is drawn with: about one per pixel of a wide editor tab. */
const NEEDLE_POINTS = 600;

/** What the needle and zoom read from the rest of the extension. */
export interface DetailContext {
  readonly selection: HeadSelection;
  readonly modes: readonly Mode[];
  readonly runner: ModelRunner | undefined;
}

export class NeedleAndZoom {
  /** The needle shown last, for the pages' full state. */
  private shown: PanelNeedle | undefined;

  constructor(
    private readonly documents: InspectedDocuments,
    private readonly ctx: DetailContext,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** The needle shown for this inspection, if any. */
  needleOf(inspectionId: number): PanelNeedle | undefined {
    return this.shown?.documentId === inspectionId ? this.shown : undefined;
  }

  /**
   * The needle of a span of the editor's selection under every mode the model offers, and the
   * document it belongs to; undefined (after telling the user why) when there is none.
   */
  async needle(editor: vscode.TextEditor | undefined): Promise<{ needle: PanelNeedle; doc: ShownInspection } | undefined> {
    const doc = editor && this.documents.get(editor.document.uri);
    if (!editor || !doc || doc.version !== editor.document.version) {
      void vscode.window.showInformationMessage('Attention Lens: inspect the document, then select a span (a value, a name) to see how much attention reaches it.');
      return undefined;
    }
    const sel = editor.selection;
    const span = tokenSpan(doc.inspection, editor.document.offsetAt(sel.start), editor.document.offsetAt(sel.end));
    if (!span || span.end >= doc.inspection.tokens.length) {
      void vscode.window.showInformationMessage('Attention Lens: the selection is outside the inspected window, or no token follows it.');
      return undefined;
    }
    const selection = this.ctx.selection;
    const inspections = await Promise.all(this.ctx.modes.map((m) => this.documents.ensureIn(doc, m)));
    const series = [];
    for (const insp of inspections) {
      if (!insp) continue;
      const { values, exact } = await this.needleValues(insp, span, selection);
      const points = downsample(values, NEEDLE_POINTS, 'max');
      series.push({ mode: insp.mode, starts: points.starts.map((s) => s + span.end), values: points.values, exact });
    }
    if (this.documents.get(doc.uri) !== doc) return undefined;
    const text = doc.inspection.tokens
      .slice(span.start, span.end)
      .map((t) => t.text)
      .join('');
    this.shown = { documentId: doc.inspection.id, start: span.start, end: span.end, text: clipText(text), selection, series };
    return { needle: this.shown, doc };
  }

  /** A zoomed region at full resolution; without data when the keys are gone or the request is stale. */
  async region(request: RegionRequest): Promise<RegionMessage | undefined> {
    const doc = this.documents.byId(request.documentId);
    const runner = this.ctx.runner;
    const { q0, q1, k0, k1, selection: sel } = request;
    const T = doc?.inspection.tokens.length ?? 0;
    if (!doc || !runner || q1 > T || k1 > T) return undefined;
    const base = { requestId: request.requestId, documentId: request.documentId, q0, q1, k0, k1 };
    const map = await runner.region(doc.inspection, { q0, q1, k0, k1 }, sel, REGION_CELLS).catch((err: unknown) => {
      this.log.warn(`zoom region failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
    const region = map ? { ...base, qBin: map.qBin, kBin: map.kBin, rows: map.rows, cols: map.cols, data: map.data } : { ...base, qBin: 0, kBin: 0, rows: 0, cols: 0 };
    return { type: 'region', region };
  }

  /**
   * The selected head's (or the mean's) mass on the span from every later query. Exact from a
   * full-resolution map region when the worker still holds this run's keys (the latest foreground
   * run: the shown mode); else, and for the max over heads, each query's top-k keys (a lower bound).
   */
  private async needleValues(insp: Inspection, span: TokenSpan, sel: HeadSelection): Promise<{ values: Float32Array; exact: boolean }> {
    const T = insp.tokens.length;
    const runner = this.ctx.runner;
    if (runner && !(sel.kind === 'aggregate' && sel.how === 'max')) {
      const map = await runner.region(insp, { q0: span.end, q1: T, k0: span.start, k1: span.end }, sel, T - span.end).catch(() => undefined);
      const values = map && needleFromRegion(map);
      if (values) return { values, exact: true };
    }
    return { values: curveOf(inspectionNeedle(insp, span), insp, sel), exact: false };
  }
}
