// Hover over an inspected token: focus, entropy and surprisal under Softmax and SSMax side by
// side (from cache; a missing mode is computed in the background for the next hover), and the
// top attended tokens, each a link that reveals it. Only the reveal command is trusted.
import * as vscode from 'vscode';
import { tokenAt } from '../core/reading/analysis';
import type { Inspection } from '../core/inspection-types';
import { entropyOf, focusOf, keysOf, roleOf } from '../core/reading/selection';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import { MODE_LABELS, clipText, selectionLabel } from '../shared/vocabulary';
import type { InspectedDocuments, ShownInspection } from './inspected-documents';
import type { Probe } from './probe';

export const REVEAL_COMMAND = 'attentionLens.revealToken';
const TOP = 5;

export class HoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly documents: InspectedDocuments,
    private readonly view: () => { selection: HeadSelection; modes: readonly Mode[] },
    private readonly probe: Probe,
  ) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const done = this.probe.start('hoverMs');
    const doc = this.documents.get(document.uri);
    if (!doc || doc.version !== document.version) return undefined;
    const insp = doc.inspection;
    const t = tokenAt(insp, document.offsetAt(position));
    if (t < 0) return undefined;
    const { selection, modes } = this.view();
    const md = new vscode.MarkdownString(this.markdown(doc, t, selection, modes));
    md.isTrusted = { enabledCommands: [REVEAL_COMMAND] };
    md.supportHtml = false;
    const hover = new vscode.Hover(md, doc.ranges[t]);
    done();
    return hover;
  }

  private markdown(doc: ShownInspection, t: number, selection: HeadSelection, modes: readonly Mode[]): string {
    const insp = doc.inspection;
    const range = doc.ranges[t];
    const where = `line ${range.start.line + 1}, col ${range.start.character + 1}`;
    const lines: string[] = [
      `**Attention Lens** · ${shownToken(insp.tokens[t].text)} · token ${t + 1} of ${insp.tokens.length} · ${where}`,
      '',
    ];

    // Softmax and SSMax side by side, plus the current mode when it is a third one.
    const columns = (['softmax', 'ssmax', insp.mode] as Mode[]).filter((m, i, all) => modes.includes(m) && all.indexOf(m) === i);
    const cells = columns.map((m) => ({ mode: m, insp: this.documents.cachedIn(doc, m) }));
    const missing = cells.filter((c) => !c.insp).map((c) => c.mode);
    for (const m of missing) void this.documents.ensureIn(doc, m);
    const value = (f: (i: Inspection) => number): string[] => cells.map((c) => (c.insp ? f(c.insp).toFixed(3) : '…'));
    lines.push(
      `| ${selectionLabel(selection)} | ${columns.map((m) => MODE_LABELS[m]).join(' | ')} |`,
      `|:--|${columns.map(() => '--:').join('|')}|`,
      `| focus | ${value((i) => focusOf(i, selection)[t]).join(' | ')} |`,
      `| entropy (nats) | ${value((i) => entropyOf(i, selection, t)).join(' | ')} |`,
      `| surprisal (nats) | ${value((i) => i.surprisal[t]).join(' | ')} |`,
      '',
    );
    if (selection.kind === 'head') {
      const role = roleOf(insp, selection.layer, selection.head);
      if (role) lines.push(`${selectionLabel(selection)} role on this document (${MODE_LABELS[insp.mode]}): **${role.role}**, score ${role.score.toFixed(2)}`, '');
    }
    if (missing.length) lines.push(`_${missing.map((m) => MODE_LABELS[m]).join(', ')}: computing in the background; hover again._`, '');

    const keys = keysOf(insp, selection, t, TOP);
    lines.push(`Top attended tokens (${MODE_LABELS[insp.mode]}, ${selectionLabel(selection)}):`, '');
    keys.forEach(({ token, weight }, i) => {
      const args = encodeURIComponent(JSON.stringify([doc.uri, insp.tokens[token].start]));
      const line = doc.ranges[token].start.line + 1;
      lines.push(`${i + 1}. [${shownToken(insp.tokens[token].text)}](command:${REVEAL_COMMAND}?${args} "Reveal") ${weight.toFixed(3)} · line ${line}`);
    });
    if (insp.windowed) lines.push('', `_Window of ${insp.tokens.length} of ${insp.documentTokens} tokens around the cursor._`);
    return lines.join('\n');
  }
}

/** A token as Markdown text: whitespace made visible, Markdown syntax escaped, long tokens cut. */
export function shownToken(text: string): string {
  const visible = text.replace(/\r?\n/g, '⏎').replace(/\t/g, '→').replace(/ /g, '·');
  return `"${clipText(visible).replace(/[\\`*_{}[\]()#+\-.!|<>~&"]/g, (c) => `\\${c}`)}"`;
}
