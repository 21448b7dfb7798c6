// Editor overlay: each token coloured by its focus under the selected head, or, with Follow
// Cursor, the keys the cursor token attends to coloured by their weight. The decoration types
// are created once, kept in one record and disposed together; updates touch visible editors only.
import * as vscode from 'vscode';
import { tokenAt } from '../core/analysis';
import { focusOf, keysOf } from '../core/selection';
import type { ColorScale } from '../shared/color-scale';
import { STRENGTH_STEPS, strengthStep } from '../shared/color-scale';
import type { HeadSelection } from '../shared/vocabulary';
import type { ShownInspection } from './inspected-documents';
import type { Probe } from './probe';

/** Strength steps; each is one decoration type with its own contributed theme colour. */
const BUCKETS = STRENGTH_STEPS;

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

export class Overlay implements vscode.Disposable {
  private readonly types = createTypes();

  constructor(
    private readonly lookup: (uri: vscode.Uri) => ShownInspection | undefined,
    private readonly probe: Probe,
  ) {}

  /** Updates the visible editors of one document, or of every document. */
  refresh(view: OverlayView, uri?: string): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (uri === undefined || editor.document.uri.toString() === uri) this.update(editor, view);
    }
  }

  /** Updates one editor; in Follow Cursor this runs on every cursor move. */
  update(editor: vscode.TextEditor, view: OverlayView): void {
    const done = this.probe.start('overlayMs');
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
    done();
    this.probe.decorations(() => {
      const offsets = (r: vscode.Range): [number, number] => [editor.document.offsetAt(r.start), editor.document.offsetAt(r.end)];
      return { uri: editor.document.uri.toString(), buckets: buckets.map((b) => b.map(offsets)), query: query.map(offsets) };
    });
  }

  private focusBuckets(doc: ShownInspection, view: OverlayView): vscode.Range[][] {
    const focus = focusOf(doc.inspection, view.selection);
    const buckets: vscode.Range[][] = Array.from({ length: BUCKETS }, () => []);
    doc.inspection.tokens.forEach((tok, t) => {
      // Whitespace tokens carry attention too, but colouring indentation and line ends is noise in the editor.
      if (tok.text.trim() !== '') buckets[strengthStep(focus[t], view.scale)].push(doc.ranges[t]);
    });
    return buckets;
  }

  private followBuckets(doc: ShownInspection, editor: vscode.TextEditor, view: OverlayView): { buckets: vscode.Range[][]; query: vscode.Range[] } {
    const buckets: vscode.Range[][] = Array.from({ length: BUCKETS }, () => []);
    const offset = editor.document.offsetAt(editor.selection.active);
    const q = tokenAt(doc.inspection, offset);
    if (q < 0) return { buckets, query: [] };
    for (const { token, weight } of keysOf(doc.inspection, view.selection, q, doc.inspection.model.topK)) {
      buckets[strengthStep(weight, view.scale)].push(doc.ranges[token]);
    }
    return { buckets, query: [doc.ranges[q]] };
  }

  dispose(): void {
    this.types.strength.forEach((t) => t.dispose());
    this.types.query.dispose();
  }
}
