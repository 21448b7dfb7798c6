// The panel's two detail requests that go back to the model: the needle (how much attention
// reaches a span from every later token, exact in every head, per mode) and a zoomed map region at
// full resolution. Both read the worker's kept keys when it still has them.
import * as vscode from 'vscode';
import type { Inspection } from '../core/inspection-types';
import type { ModelRunner } from '../core/engine/runner';
import type { NeedleCurve, TokenSpan } from '../core/reading/needle';
import type { PanelNeedle, RegionMessage, RegionRequest } from '../protocol';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import { clipText } from '../shared/vocabulary';
import type { InspectedDocuments, ShownInspection } from './inspected-documents';
import type { NeedleCurves } from './needle-curves';
import { needleCurves } from './needle-curves';
import { needleSeries } from './needle-payload';

/** A zoomed region is drawn with at most this many cells a side (one token a cell below it). */
const REGION_CELLS = 256;

/** What the needle and zoom read from the rest of the extension. */
export interface DetailContext {
  readonly selection: HeadSelection;
  readonly runner: ModelRunner | undefined;
}

export class NeedleAndZoom {
  /** The needle shown last, for the pages' full state. */
  private shown: PanelNeedle | undefined;
  /** The shown needle's exact curves per mode (the SVG export draws them). */
  private curves: NeedleCurves | undefined;

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
   * The exact needle of a span of a shown document (needle-command.ts picks it) under the given
   * modes; undefined when cancelled, without a model, or when the document changed meanwhile.
   */
  async needle(doc: ShownInspection, span: TokenSpan, modes: readonly Mode[]): Promise<PanelNeedle | undefined> {
    const selection = this.ctx.selection;
    const runner = this.ctx.runner;
    if (!runner) return undefined;
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === doc.uri);
    if (!document) return undefined;
    const { all, shown: curves } = await needleCurves(runner, doc.inspection, span, document.getText(), modes, this.curves);
    this.curves = all;
    if (!curves) return undefined;
    const series = [...curves].map(([mode, curve]) => needleSeries(mode, curve));
    if (this.documents.get(doc.uri) !== doc) return undefined;
    const text = doc.inspection.tokens
      .slice(span.start, span.end)
      .map((t) => t.text)
      .join('');
    this.shown = { documentId: doc.inspection.id, start: span.start, end: span.end, text: clipText(text), selection, series };
    return this.shown;
  }

  /** What the SVG export adds for this inspection: Compare's other mode, and the shown needle's exact curves. */
  figureFor(insp: Inspection, compare: readonly [Mode, Mode] | undefined): { other?: Inspection; needle?: { span: TokenSpan; curves: NeedleCurve[] } } {
    const doc = this.documents.byId(insp.id);
    const otherMode = compare?.find((m) => m !== insp.mode);
    const other = doc && otherMode ? this.documents.cachedIn(doc, otherMode) : undefined;
    // Only the needle the view shows (a cancelled one may have left curves of another span).
    const shown = this.shown;
    const n = this.curves && shown?.documentId === insp.id && shown.start === this.curves.span.start && shown.end === this.curves.span.end ? this.curves : undefined;
    const own = n?.documentId === insp.id ? n.curves.get(insp.mode) : undefined;
    const second = other && n?.documentId === insp.id ? n.curves.get(other.mode) : undefined;
    const needle = n && own ? { span: n.span, curves: second ? [own, second] : [own] } : undefined;
    return { other, needle };
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
}
