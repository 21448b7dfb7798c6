// Under screening, the keys that pass for the token under the cursor, outlined in the editor. For a
// tile: its passing keys, at once the up to topK strongest the inspection keeps and, when more pass,
// every one from the cursor token's full relevance row (debounced, a newer cursor move aborts it).
// For the mean or max over tiles: the topK keys with the largest relevance in any tile (exact from
// the kept top keys: a key's largest relevance is in that tile's own top keys, or topK keys beat it).
// Keys that are whitespace alone (indentation, line ends) pass too but are not drawn, as the overlay
// leaves them untinted; the note says how many. One decoration type, created once and disposed by
// its owner; each update touches one editor.
import * as vscode from 'vscode';
import { tokenAt } from '../core/reading/analysis';
import { keysOf, rowOf } from '../core/reading/selection';
import { tileRelevance } from '../core/reading/relevance';
import type { Inspection } from '../core/inspection-types';
import type { HeadSelection } from '../shared/vocabulary';
import { isRelevance, selectionLabel } from '../shared/vocabulary';
import type { ShownInspection } from './inspected-documents';
import type { RowReader } from './row-reads';
import { clampSelection } from '../shared/vocabulary';
import type { Probe } from './probe';

/** The full row is asked for this long after the last cursor move. */
const FULL_ROW_DEBOUNCE_MS = 60;

/** What is outlined: the keys and the sentence that says which. */
interface Outline {
  keys: number[];
  note: string;
}

export class PassingKeys implements vscode.Disposable {
  private readonly type = vscode.window.createTextEditorDecorationType({
    borderWidth: '1px',
    borderStyle: 'dashed',
    borderRadius: '2px',
    borderColor: new vscode.ThemeColor('attentionLens.passingKeyBorder'),
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private readonly noteChanged = new vscode.EventEmitter<void>();
  /** Fires when the sentence about the active editor's outline changes (the status bar shows it). */
  readonly onDidChangeNote = this.noteChanged.event;
  private notes = new Map<vscode.TextEditor, string>();
  private fullRow: { timer: NodeJS.Timeout; abort: AbortController } | undefined;

  constructor(
    private readonly lookup: (uri: vscode.Uri) => ShownInspection | undefined,
    private readonly readRow: RowReader,
    private readonly probe: Probe,
  ) {}

  /** Which keys are outlined in the active editor, in words; undefined when none are. */
  get note(): string | undefined {
    const editor = vscode.window.activeTextEditor;
    return editor && this.notes.get(editor);
  }

  /** Updates the visible editors of one document, or of every document. */
  refresh(selection: HeadSelection, uri?: string): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (uri === undefined || editor.document.uri.toString() === uri) this.update(editor, selection);
    }
    // Editors no longer visible keep no note.
    for (const editor of [...this.notes.keys()]) if (!vscode.window.visibleTextEditors.includes(editor)) this.notes.delete(editor);
  }

  /** Outlines the passing keys of the editor's cursor token, or clears them (not screening, not inspected, no token). */
  update(editor: vscode.TextEditor, shownSelection: HeadSelection): void {
    if (editor === vscode.window.activeTextEditor) this.cancelFullRow();
    const doc = this.lookup(editor.document.uri);
    const offset = editor.document.offsetAt(editor.selection.active);
    const q = doc && doc.version === editor.document.version && isRelevance(doc.inspection.mode) ? tokenAt(doc.inspection, offset) : -1;
    if (!doc || q < 0) {
      // Outside screening a cursor move costs a lookup: only an editor with an outline is cleared.
      if (this.notes.has(editor)) this.apply(editor, undefined, -1, undefined);
      return;
    }
    const insp = doc.inspection;
    const selection = clampSelection(shownSelection, insp.model.layers, insp.model.heads);
    const outline = topOutline(insp, selection, q);
    this.apply(editor, doc, q, outline);
    // Only the active editor asks for rows: one request at a time, for the cursor that moved.
    if (selection.kind === 'head' && editor === vscode.window.activeTextEditor) {
      const { pass } = tileRelevance(insp, selection.layer, selection.head, q);
      if (pass > outline.keys.length) this.askFullRow(editor, doc, q, offset, selection);
    }
  }

  private askFullRow(editor: vscode.TextEditor, doc: ShownInspection, q: number, offset: number, selection: HeadSelection & { kind: 'head' }): void {
    const abort = new AbortController();
    const timer = setTimeout(() => {
      this.readRow(doc.inspection, offset, abort.signal)
        .then((row) => {
          if (!row || abort.signal.aborted || this.lookup(editor.document.uri) !== doc || editor.document.version !== doc.version) return;
          const relevance = rowOf(doc.inspection, selection, row.rows);
          const keys: number[] = [];
          for (let k = 0; k <= q; k++) if (relevance[k] > 0) keys.push(k);
          this.apply(editor, doc, q, { keys, note: passingNote(keys.length, keys.length, doc.inspection, q, selection) });
        })
        .catch(() => undefined); // aborted, or the worker is gone: the strongest keys stay outlined
    }, FULL_ROW_DEBOUNCE_MS);
    this.fullRow = { timer, abort };
  }

  private apply(editor: vscode.TextEditor, doc: ShownInspection | undefined, q: number, outline: Outline | undefined): void {
    const drawn = doc && outline ? outline.keys.filter((k) => doc.inspection.tokens[k].text.trim() !== '') : [];
    const ranges = doc ? drawn.map((k) => doc.ranges[k]) : [];
    editor.setDecorations(this.type, ranges);
    const blank = outline ? outline.keys.length - drawn.length : 0;
    const note = outline && (blank > 0 ? `${outline.note} (${blank} of them whitespace, not drawn)` : outline.note);
    const before = this.notes.get(editor);
    if (note) this.notes.set(editor, note);
    else this.notes.delete(editor);
    if (before !== note) this.noteChanged.fire();
    this.probe.passingKeys(() => {
      const offsets = (r: vscode.Range): [number, number] => [editor.document.offsetAt(r.start), editor.document.offsetAt(r.end)];
      return { uri: editor.document.uri.toString(), query: doc && q >= 0 ? offsets(doc.ranges[q]) : null, keys: ranges.map(offsets), note: note ?? null };
    });
  }

  private cancelFullRow(): void {
    if (!this.fullRow) return;
    clearTimeout(this.fullRow.timer);
    this.fullRow.abort.abort();
    this.fullRow = undefined;
  }

  dispose(): void {
    this.cancelFullRow();
    this.type.dispose();
    this.noteChanged.dispose();
  }
}

/** The outline from the inspection's kept top keys: a tile's strongest passing keys, or the strongest in any tile. */
function topOutline(insp: Inspection, selection: HeadSelection, q: number): Outline {
  const { topK, layers, heads } = insp.model;
  if (selection.kind === 'aggregate') {
    const keys = keysOf(insp, { kind: 'aggregate', how: 'max' }, q, topK).map((k) => k.token);
    const note = keys.length
      ? `the ${keys.length} keys with the largest relevance in any of the ${layers * heads} tiles outlined (ranked by their largest relevance)`
      : 'no key passes in any tile: nothing outlined';
    return { keys, note };
  }
  const keys = keysOf(insp, selection, q, topK).map((k) => k.token);
  const { pass } = tileRelevance(insp, selection.layer, selection.head, q);
  return { keys, note: passingNote(keys.length, pass, insp, q, selection) };
}

/** "all 14 passing keys of L3 H5 outlined" or "16 strongest of 214 passing keys of L3 H5 outlined". */
function passingNote(outlined: number, pass: number, insp: Inspection, q: number, selection: HeadSelection): string {
  const of = `of ${selectionLabel(selection)} for ${JSON.stringify(insp.tokens[q].text)}`;
  if (pass === 0) return `no key passes ${of}: nothing outlined`;
  if (outlined >= pass) return `all ${pass.toLocaleString('en-US')} passing key${pass === 1 ? '' : 's'} ${of} outlined`;
  return `${outlined} strongest of ${pass.toLocaleString('en-US')} passing keys ${of} outlined`;
}
