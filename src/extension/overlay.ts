// Editor overlay: each token coloured by its focus under the selected head, or, with Follow
// Cursor, the keys the cursor token attends to coloured by their weight. The decoration types
// are created once, kept in one record and disposed together; updates touch visible editors only.
import * as vscode from 'vscode';
import { tokenAt } from '../core/analysis';
import type { Inspection } from '../core/inspection-types';
import type { HeadSelection } from '../shared/vocabulary';
import type { ColorScale } from './config';
import type { DocInspection } from './inspector';
import { focusOf, keysOf } from './selection-data';

/** Strength steps; each is one decoration type with its own contributed theme colour. */
export const BUCKETS = 6;

interface DecorationTypes {
  /** [bucket]: weakest first. */
  strength: readonly vscode.TextEditorDecorationType[];
  /** Outline of the cursor token in Follow Cursor. */
  query: vscode.TextEditorDecorationType;
}

function createTypes(): DecorationTypes {
  const strength = Array.from({ length: BUCKETS }, (_, b) =>
    vscode.window.createTextEditorDecorationType({
      backgroundColor: new vscode.ThemeColor(`attentionLens.strength${b + 1}Background`),
      // The two strongest steps also mark the overview ruler, so strong spots are found by scrolling.
      overviewRulerColor: b >= BUCKETS - 2 ? new vscode.ThemeColor(`attentionLens.strength${b + 1}Background`) : undefined,
      overviewRulerLane: vscode.OverviewRulerLane.Center,
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    }),
  );
  const query = vscode.window.createTextEditorDecorationType({
    borderWidth: '1px',
    borderStyle: 'solid',
    borderColor: new vscode.ThemeColor('attentionLens.queryBorder'),
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  return { strength, query };
}

export interface OverlayView {
  selection: HeadSelection;
  scale: ColorScale;
  followCursor: boolean;
}

export interface OverlayCounts {
  /** [bucket]: ranges decorated in the editor last updated. */
  buckets: number[];
  query: number;
  uri: string;
}

export function bucketOf(value: number, scale: ColorScale): number {
  const v = Math.min(Math.max(value, 0), 1);
  const s = scale === 'sqrt' ? Math.sqrt(v) : scale === 'log' ? Math.log1p(99 * v) / Math.log(100) : v;
  return Math.min(BUCKETS - 1, Math.floor(s * BUCKETS));
}

export class Overlay implements vscode.Disposable {
  private readonly types = createTypes();
  /** Focus buckets per inspection and view, so that showing an editor again costs no recomputation. */
  private readonly focusCache = new WeakMap<Inspection, { key: string; buckets: vscode.Range[][] }>();
  private last: { editor: vscode.TextEditor; buckets: vscode.Range[][]; query: vscode.Range[] } | undefined;
  private lastUpdateMs = 0;

  constructor(private readonly lookup: (uri: vscode.Uri) => DocInspection | undefined) {}

  get counts(): OverlayCounts | undefined {
    const last = this.last;
    return last && { buckets: last.buckets.map((r) => r.length), query: last.query.length, uri: last.editor.document.uri.toString() };
  }

  /** Duration of the last single-editor update (ms), for the cursor-follow measurement. */
  get updateMs(): number {
    return this.lastUpdateMs;
  }

  /** Updates the visible editors of one document, or of every document. */
  refresh(view: OverlayView, uri?: string): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (uri === undefined || editor.document.uri.toString() === uri) this.update(editor, view);
    }
  }

  /** Updates one editor; in Follow Cursor this runs on every cursor move. */
  update(editor: vscode.TextEditor, view: OverlayView): void {
    const started = performance.now();
    const doc = this.lookup(editor.document.uri);
    let buckets: vscode.Range[][];
    let query: vscode.Range[] = [];
    if (!doc || doc.version !== editor.document.version) {
      buckets = Array.from({ length: BUCKETS }, () => []);
    } else if (view.followCursor) {
      ({ buckets, query } = this.followBuckets(doc, editor, view));
    } else {
      buckets = this.focusBuckets(doc, view);
    }
    this.types.strength.forEach((type, b) => editor.setDecorations(type, buckets[b]));
    editor.setDecorations(this.types.query, query);
    this.lastUpdateMs = performance.now() - started;
    this.last = { editor, buckets, query };
  }

  /** The ranges set by the last update, as document offsets (for the test-only state command). */
  lastRanges(): { buckets: [number, number][][]; query: [number, number][] } | undefined {
    if (!this.last) return undefined;
    const doc = this.last.editor.document;
    const offsets = (r: vscode.Range): [number, number] => [doc.offsetAt(r.start), doc.offsetAt(r.end)];
    return { buckets: this.last.buckets.map((b) => b.map(offsets)), query: this.last.query.map(offsets) };
  }

  private focusBuckets(doc: DocInspection, view: OverlayView): vscode.Range[][] {
    const key = `${JSON.stringify(view.selection)}:${view.scale}`;
    const hit = this.focusCache.get(doc.inspection);
    if (hit && hit.key === key) return hit.buckets;
    const focus = focusOf(doc.inspection, view.selection);
    const buckets: vscode.Range[][] = Array.from({ length: BUCKETS }, () => []);
    doc.inspection.tokens.forEach((tok, t) => {
      // Whitespace tokens carry attention too, but colouring indentation and line ends is noise in the editor.
      if (tok.text.trim() !== '') buckets[bucketOf(focus[t], view.scale)].push(doc.ranges[t]);
    });
    this.focusCache.set(doc.inspection, { key, buckets });
    return buckets;
  }

  private followBuckets(doc: DocInspection, editor: vscode.TextEditor, view: OverlayView): { buckets: vscode.Range[][]; query: vscode.Range[] } {
    const buckets: vscode.Range[][] = Array.from({ length: BUCKETS }, () => []);
    const offset = editor.document.offsetAt(editor.selection.active);
    const q = tokenAt(doc.inspection, offset);
    if (q < 0) return { buckets, query: [] };
    for (const { token, weight } of keysOf(doc.inspection, view.selection, q, doc.inspection.model.topK)) {
      buckets[bucketOf(weight, view.scale)].push(doc.ranges[token]);
    }
    return { buckets, query: [doc.ranges[q]] };
  }

  dispose(): void {
    this.types.strength.forEach((t) => t.dispose());
    this.types.query.dispose();
  }
}
