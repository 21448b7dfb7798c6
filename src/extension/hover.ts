// Hover over an inspected token: focus, entropy and surprisal under the shown mode and its partner
// (Softmax and SSMax by default) side by side, and the top attended tokens, each a link that
// reveals it. Only the reveal command is trusted. The partner comes from the background run that
// started when the inspection landed (or, with background runs off, that the hover asks for); a
// hover waits briefly for it (cancellable) and otherwise says how far along it is. Under screening
// the numbers are relevances: the hover says how many keys pass, and puts the partner's weights on a
// line of their own, labelled as weights (Softmax's heads do not pair with screening's tiles).
import * as vscode from 'vscode';
import { tokenAt } from '../core/reading/analysis';
import type { HeadFading } from '../core/reading/fading-metrics';
import { supportTokensText } from '../core/reading/fading-metrics';
import type { Inspection } from '../core/inspection-types';
import { entropyOf, focusOf, headFadingOf, keysOf, roleOf } from '../core/reading/selection';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import { MODE_LABELS, clipText, isRelevance, selectionLabel } from '../shared/vocabulary';
import { shownPair } from '../shared/compare';
import { relevanceLines } from './relevance-hover';
import type { InspectedDocuments, ShownInspection } from './inspected-documents';
import type { Probe } from './probe';
import { clampSelection } from '../shared/vocabulary';

export const REVEAL_COMMAND = 'attentionLens.revealToken';
const TOP = 5;
/** How long a hover waits for a sibling run still under way. */
export const SIBLING_WAIT_MS = 300;

export class HoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly documents: InspectedDocuments,
    private readonly view: () => { selection: HeadSelection; modes: readonly Mode[] },
    private readonly probe: Probe,
  ) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    let doc = this.documents.get(document.uri);
    if (!doc || doc.version !== document.version) return undefined;
    const t = tokenAt(doc.inspection, document.offsetAt(position));
    if (t < 0) return undefined;
    const { modes } = this.view();
    const missing = this.columns(doc, modes).filter((m) => !this.documents.cachedIn(doc as ShownInspection, m));
    if (missing.length) {
      this.documents.ensureSiblings(doc, missing);
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      await this.documents.siblings.wait(doc.uri, doc.inspection, missing, SIBLING_WAIT_MS, abort.signal);
      sub.dispose();
      if (token.isCancellationRequested) return undefined;
      // The document may have changed or been inspected again meanwhile.
      doc = this.documents.get(document.uri);
      if (!doc || doc.version !== document.version || tokenAt(doc.inspection, document.offsetAt(position)) !== t) return undefined;
    }
    // The probe times the hover from cache: building it, not the wait.
    const done = this.probe.start('hoverMs');
    // The view's selection may be made for another mode's shape until this document's new run lands.
    const selection = clampSelection(this.view().selection, doc.inspection.model.layers, doc.inspection.model.heads);
    const md = new vscode.MarkdownString(this.markdown(doc, t, selection, modes));
    md.isTrusted = { enabledCommands: [REVEAL_COMMAND] };
    md.supportHtml = false;
    const hover = new vscode.Hover(md, doc.ranges[t]);
    done();
    return hover;
  }

  /** The shown mode and its partner. */
  private columns(doc: ShownInspection, modes: readonly Mode[]): Mode[] {
    return shownPair(modes, doc.inspection.mode);
  }

  private markdown(doc: ShownInspection, t: number, selection: HeadSelection, modes: readonly Mode[]): string {
    const insp = doc.inspection;
    const range = doc.ranges[t];
    const where = `line ${range.start.line + 1}, col ${range.start.character + 1}`;
    const lines: string[] = [
      `**Attention Lens** · ${shownToken(insp.tokens[t].text)} · token ${t + 1} of ${insp.tokens.length} · ${where}`,
      '',
    ];

    const columns = this.columns(doc, modes);
    const cells = columns.map((m) => ({ mode: m, insp: this.documents.cachedIn(doc, m) }));
    const missing = cells.filter((c) => !c.insp).map((c) => c.mode);
    const value = (f: (i: Inspection) => number): string[] => cells.map((c) => (c.insp ? f(c.insp).toFixed(3) : '…'));
    const relevance = isRelevance(insp.mode);
    if (relevance) {
      lines.push(...relevanceLines(cells, insp, t, selection));
    } else {
      lines.push(
        `| ${selectionLabel(selection)} | ${columns.map((m) => MODE_LABELS[m]).join(' | ')} |`,
        `|:--|${columns.map(() => '--:').join('|')}|`,
        `| focus | ${value((i) => focusOf(i, selection)[t]).join(' | ')} |`,
        `| entropy (nats) | ${value((i) => entropyOf(i, selection, t)).join(' | ')} |`,
        `| surprisal (nats) | ${value((i) => i.surprisal[t]).join(' | ')} |`,
        '',
      );
    }
    // Roles and fading metrics read weights (mass, entropy): they say nothing of a relevance row.
    if (selection.kind === 'head' && !relevance) {
      const role = roleOf(insp, selection.layer, selection.head);
      if (role) lines.push(`${selectionLabel(selection)} role on this document (${MODE_LABELS[insp.mode]}): **${role.role}**, score ${role.score.toFixed(2)}`, '');
      const f = headFadingOf(insp)[selection.layer * insp.model.heads + selection.head];
      if (f) lines.push(`${selectionLabel(selection)} fading: ${fadingLine(f, insp.pooled.binSize)}`, '');
    }
    for (const m of missing) lines.push(`_${MODE_LABELS[m]}: ${this.siblingNote(doc, m)}_`, '');

    const keys = keysOf(insp, selection, t, TOP);
    lines.push(
      relevance
        ? `Strongest passing keys (${MODE_LABELS[insp.mode]}, ${selectionLabel(selection)}, relevance${selection.kind === 'aggregate' ? `, ${selection.how} over tiles` : ''}):`
        : `Top attended tokens (${MODE_LABELS[insp.mode]}, ${selectionLabel(selection)}):`,
      '',
    );
    keys.forEach(({ token, weight }, i) => {
      const args = encodeURIComponent(JSON.stringify([doc.uri, insp.tokens[token].start]));
      const line = doc.ranges[token].start.line + 1;
      lines.push(`${i + 1}. [${shownToken(insp.tokens[token].text)}](command:${REVEAL_COMMAND}?${args} "Reveal") ${weight.toFixed(3)} · line ${line}`);
    });
    if (insp.windowed) lines.push('', `_Window of ${insp.tokens.length} of ${insp.documentTokensEstimated ? 'about ' : ''}${insp.documentTokens} tokens around the cursor._`);
    return lines.join('\n');
  }

  /** Where the sibling run of a missing column stands, in words. */
  private siblingNote(doc: ShownInspection, mode: Mode): string {
    const status = this.documents.siblings.status(doc.uri, doc.inspection, mode);
    if (!status) return 'not computed for this window';
    switch (status.state) {
      case 'running':
        return `running in the background, ${Math.floor(status.done * 100)}% done`;
      case 'queued':
        return 'queued in the background, after the run under way';
      case 'skipped':
      case 'failed':
        return `not computed in the background: ${status.reason ?? 'unknown reason'}; Switch Attention runs it`;
      case 'done':
        return 'computed, but the cache no longer holds it';
    }
  }
}

/** A head's fading metrics in one line (core/reading/fading-metrics.ts); every value exact, the support a median of measured tokens. */
function fadingLine(f: HeadFading, binSize: number): string {
  const near = (f.distanceMass['0'] ?? 0) + (f.distanceMass['1-7'] ?? 0);
  return (
    `entropy / ln n ${f.entropyRatio.toFixed(2)} · sink mass ${f.sinkMass.toFixed(2)}${f.sinkHead ? ' (sink head)' : ''} · ` +
    `90 % in ${f.supportSize} keys (median over ${supportTokensText(f, binSize)}) · ${(100 * near).toFixed(0)} % within 7 tokens back · all exact`
  );
}

/** A token as Markdown text: whitespace made visible, Markdown syntax escaped, long tokens cut. */
export function shownToken(text: string): string {
  const visible = text.replace(/\r?\n/g, '⏎').replace(/\t/g, '→').replace(/ /g, '·');
  return `"${clipText(visible).replace(/[\\`*_{}[\]()#+\-.!|<>~&"]/g, (c) => `\\${c}`)}"`;
}
