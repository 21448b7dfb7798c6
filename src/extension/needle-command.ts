// Needle: Attention to the Selection. Picks the span: the selection, or with a bare cursor the
// name (or the token) under it. Says what is wrong in words when there is nothing to measure (a
// blank line, the last token) and, only when the span really lies outside the inspected window,
// offers to inspect around it. Shows the view at once and the progress while modes still run.
import * as vscode from 'vscode';
import type { Inspection } from '../core/inspection-types';
import type { TokenSpan } from '../core/reading/needle';
import { tokenSpan } from '../core/reading/needle';
import { clipText } from '../shared/vocabulary';
import type { ExtensionRoot } from './extension-root';
import type { ShownInspection } from './inspected-documents';

/** What the needle command uses of the extension. */
type NeedleServices = Pick<ExtensionRoot, 'documents' | 'panel' | 'inspect'>;

/** What the needle measures, or why there is nothing to measure. */
export type NeedleTarget =
  | { kind: 'span'; span: TokenSpan; text: string }
  /** A bare cursor on whitespace or a blank line, or a selection of whitespace only. */
  | { kind: 'blank' }
  /** The span lies (partly) outside the inspected window. */
  | { kind: 'outside'; start: number; end: number }
  /** No token follows the span, so no attention can reach it. */
  | { kind: 'last'; text: string };

/** The span of a selection, or of the name or token under a bare cursor (document offsets). */
export function selectedRange(document: vscode.TextDocument, selection: vscode.Selection): { start: number; end: number } | undefined {
  if (!selection.isEmpty) {
    const start = document.offsetAt(selection.start);
    const end = document.offsetAt(selection.end);
    return document.getText(selection).trim() === '' ? undefined : { start, end };
  }
  const word = document.getWordRangeAtPosition(selection.active);
  if (word) return { start: document.offsetAt(word.start), end: document.offsetAt(word.end) };
  // Not in a name: the punctuation under the cursor, else just before it ("x = 1|").
  const at = document.offsetAt(selection.active);
  const text = document.getText();
  for (const offset of [at, at - 1]) {
    if (offset >= 0 && offset < text.length && text[offset].trim() !== '') return { start: offset, end: offset + 1 };
  }
  return undefined;
}

export function needleTarget(document: vscode.TextDocument, selection: vscode.Selection, insp: Inspection): NeedleTarget {
  const range = selectedRange(document, selection);
  if (!range) return { kind: 'blank' };
  if (range.start < insp.range.start || range.end > insp.range.end) return { kind: 'outside', ...range };
  const span = tokenSpan(insp, range.start, range.end);
  if (!span) return { kind: 'outside', ...range };
  const text = document.getText().slice(range.start, range.end);
  if (span.end >= insp.tokens.length) return { kind: 'last', text };
  return { kind: 'span', span, text };
}

/** The editor the needle reads: the active one, or (from the view's button) the visible editor of an inspected document. */
function needleEditor(ctx: NeedleServices): vscode.TextEditor | undefined {
  return vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors.find((e) => ctx.documents.get(e.document.uri));
}

export async function needleCommand(ctx: NeedleServices): Promise<{ start: number; end: number; series: { mode: string; points: number; exact: boolean; bestHead: number }[] } | undefined> {
  const editor = needleEditor(ctx);
  const doc: ShownInspection | undefined = editor && ctx.documents.get(editor.document.uri);
  if (!editor || !doc || doc.version !== editor.document.version) {
    void vscode.window.showInformationMessage('Attention Lens: inspect the document first (Attention Lens: Inspect Current Document), then put the cursor on a name or select a span.');
    return undefined;
  }
  const target = needleTarget(editor.document, editor.selection, doc.inspection);
  switch (target.kind) {
    case 'blank':
      void vscode.window.showInformationMessage('Attention Lens: put the cursor on a name, or select a span (a value, a name), to see how much attention reaches it.');
      return undefined;
    case 'last':
      void vscode.window.showInformationMessage(`Attention Lens: no token follows "${clipText(target.text)}", so no attention can reach it. Pick a name earlier in the document.`);
      return undefined;
    case 'outside': {
      const insp = doc.inspection;
      const pick = await vscode.window.showInformationMessage(
        `Attention Lens: the selection is outside the inspected window (offsets ${insp.range.start.toLocaleString('en-US')}–${insp.range.end.toLocaleString('en-US')} of ${editor.document.getText().length.toLocaleString('en-US')}).`,
        'Inspect Around the Selection',
      );
      if (!pick) return undefined;
      const again = await ctx.inspect(editor.document, 'notification', target.start);
      if (!again) return undefined;
      return needleCommand(ctx);
    }
    case 'span':
      break;
  }
  // Something visible at once: the view, then the curves with a progress notification meanwhile.
  if (!ctx.panel.isShownAnywhere) ctx.panel.openInEditor();
  const needle = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Attention Lens: needle of "${clipText(target.text)}" under every mode` },
    () => ctx.panel.runNeedle(doc, target.span),
  );
  return needle && { start: needle.start, end: needle.end, series: needle.series.map((s) => ({ mode: s.mode, points: s.values.length, exact: s.exact, bestHead: s.bestHead })) };
}
