// Editor overlay: each token coloured by its focus under the selected head, or, with Follow
// Cursor, the keys the cursor token attends to coloured by their weight: at once from the 16 top
// keys the inspection keeps, then (debounced, stale requests aborted) from the cursor token's full
// attention row when the model worker still holds the run's keys. A screening inspection's numbers
// are relevances, absolute in [0, 1]: they are coloured on a fixed curve (never by rank), and a
// token that finds nothing (no key passes) or a key that does not pass stays untinted. The
// decoration types are created once, kept in one record and disposed together; updates touch
// visible editors only.
import * as vscode from 'vscode';
import { tokenAt } from '../core/reading/analysis';
import { focusOf, keysOf, rowOf } from '../core/reading/selection';
import type { ColorScale } from '../shared/color-scale';
import { STRENGTH_STEPS, absoluteScale, colouredValues, isTinted, stepScale } from '../shared/color-scale';
import type { Inspection } from '../core/inspection-types';
import type { HeadSelection } from '../shared/vocabulary';
import { isRelevance } from '../shared/vocabulary';
import { clampSelection } from '../shared/vocabulary';
import type { ShownInspection } from './inspected-documents';
import type { Probe } from './probe';
import type { RowReader } from './row-reads';

/** Strength steps; each is one decoration type with its own contributed theme colour. */
const BUCKETS = STRENGTH_STEPS;
/** Follow Cursor waits this long after the last cursor move before asking for the full row. */
const FULL_ROW_DEBOUNCE_MS = 60;
/** Keys below this weight stay uncoloured in a full row: every earlier token gets some weight (not so relevance: a key passes or is 0). */
const FULL_ROW_MIN_WEIGHT = 0.005;

/** The scale an inspection's values are coloured on: relevance on a fixed curve, weights as set. */
function scaleOf(insp: Inspection, scale: ColorScale): ColorScale {
  return isRelevance(insp.mode) ? absoluteScale(scale) : scale;
}

/** Whether a full row's key is coloured: a passing key (relevance > 0), or a weight above FULL_ROW_MIN_WEIGHT. */
function shownKey(insp: Inspection, weight: number): boolean {
  return isRelevance(insp.mode) ? weight > 0 : weight >= FULL_ROW_MIN_WEIGHT;
}

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
  /** The pending or running full-row request (one: only the editor with the cursor asks). */
  private fullRow: { timer: NodeJS.Timeout; abort: AbortController } | undefined;
  /** Full-row recolourings so far (the probe reports it). */
  private fullRowUpdates = 0;

  constructor(
    private readonly lookup: (uri: vscode.Uri) => ShownInspection | undefined,
    private readonly readRow: RowReader,
    private readonly probe: Probe,
  ) {}

  /** Updates the visible editors of one document, or of every document. */
  refresh(view: OverlayView, uri?: string): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (uri === undefined || editor.document.uri.toString() === uri) this.update(editor, view);
    }
  }

  /** Updates one editor; in Follow Cursor this runs on every cursor move. */
  update(editor: vscode.TextEditor, shownView: OverlayView): void {
    const done = this.probe.start('overlayMs');
    const doc = this.lookup(editor.document.uri);
    const view = doc ? { ...shownView, selection: clampSelection(shownView.selection, doc.inspection.model.layers, doc.inspection.model.heads) } : shownView;
    let buckets: vscode.Range[][];
    let query: vscode.Range[] = [];
    if (!doc || doc.version !== editor.document.version) {
      buckets = Array.from({ length: BUCKETS }, () => []);
    } else if (view.followCursor) {
      ({ buckets, query } = this.followBuckets(doc, editor, view));
      this.askFullRow(doc, editor, view);
    } else {
      buckets = this.focusBuckets(doc, view);
    }
    this.apply(editor, buckets, query);
    done();
  }

  private apply(editor: vscode.TextEditor, buckets: vscode.Range[][], query: vscode.Range[]): void {
    this.types.strength.forEach((type, b) => editor.setDecorations(type, buckets[b]));
    editor.setDecorations(this.types.query, query);
    this.probe.decorations(() => {
      const offsets = (r: vscode.Range): [number, number] => [editor.document.offsetAt(r.start), editor.document.offsetAt(r.end)];
      return { uri: editor.document.uri.toString(), buckets: buckets.map((b) => b.map(offsets)), query: query.map(offsets) };
    });
  }

  private focusBuckets(doc: ShownInspection, view: OverlayView): vscode.Range[][] {
    const insp = doc.inspection;
    const relevance = isRelevance(insp.mode);
    const focus = focusOf(insp, view.selection);
    const steps = stepScale(scaleOf(insp, view.scale), colouredValues(focus, insp.tokens.map((tok) => tok.text), relevance));
    const buckets: vscode.Range[][] = Array.from({ length: BUCKETS }, () => []);
    insp.tokens.forEach((tok, t) => {
      // Whitespace tokens carry attention too, but colouring indentation and line ends is noise in the editor.
      if (isTinted(tok.text, focus[t], relevance)) buckets[steps.step(focus[t])].push(doc.ranges[t]);
    });
    return buckets;
  }

  private followBuckets(doc: ShownInspection, editor: vscode.TextEditor, view: OverlayView): { buckets: vscode.Range[][]; query: vscode.Range[] } {
    const buckets: vscode.Range[][] = Array.from({ length: BUCKETS }, () => []);
    const offset = editor.document.offsetAt(editor.selection.active);
    const q = tokenAt(doc.inspection, offset);
    if (q < 0) return { buckets, query: [] };
    const keys = keysOf(doc.inspection, view.selection, q, doc.inspection.model.topK);
    // Rank: among the coloured keys.
    const steps = stepScale(scaleOf(doc.inspection, view.scale), keys.map((k) => k.weight));
    for (const { token, weight } of keys) buckets[steps.step(weight)].push(doc.ranges[token]);
    return { buckets, query: [doc.ranges[q]] };
  }

  /** After a pause, recolours from the cursor token's full row; a newer cursor move or update aborts it. */
  private askFullRow(doc: ShownInspection, editor: vscode.TextEditor, view: OverlayView): void {
    this.cancelFullRow();
    const offset = editor.document.offsetAt(editor.selection.active);
    const q = tokenAt(doc.inspection, offset);
    if (q < 0) return;
    const abort = new AbortController();
    const timer = setTimeout(() => {
      this.readRow(doc.inspection, offset, abort.signal)
        .then((row) => {
          if (!row || abort.signal.aborted || this.lookup(editor.document.uri) !== doc || editor.document.version !== doc.version) return;
          const weights = rowOf(doc.inspection, view.selection, row.rows);
          const buckets: vscode.Range[][] = Array.from({ length: BUCKETS }, () => []);
          const insp = doc.inspection;
          const shown = weights.subarray(0, q + 1).filter((w) => shownKey(insp, w));
          const steps = stepScale(scaleOf(insp, view.scale), shown);
          for (let k = 0; k <= q; k++) {
            if (shownKey(insp, weights[k])) buckets[steps.step(weights[k])].push(doc.ranges[k]);
          }
          this.apply(editor, buckets, [doc.ranges[q]]);
          this.probe.record({ fullRowUpdates: ++this.fullRowUpdates });
        })
        .catch(() => undefined); // aborted, or the worker is gone: the top-k colouring stays
    }, FULL_ROW_DEBOUNCE_MS);
    this.fullRow = { timer, abort };
  }

  private cancelFullRow(): void {
    if (!this.fullRow) return;
    clearTimeout(this.fullRow.timer);
    this.fullRow.abort.abort();
    this.fullRow = undefined;
  }

  dispose(): void {
    this.cancelFullRow();
    this.types.strength.forEach((t) => t.dispose());
    this.types.query.dispose();
  }
}
