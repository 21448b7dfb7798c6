// Owns what the panel shows, in every place it is shown (the bottom view and the editor tab):
// which document (the active editor's when inspected, else the last one inspected), what was last
// sent, and the answers to the pages' messages (the view's mode, head and Compare live in ViewState;
// the needle and zoom in NeedleAndZoom). ExtensionRoot tells it what changed; it posts the same
// messages to every page, so both stay in sync. Reading the state has no side effects.
import * as vscode from 'vscode';
import { tokenAt } from '../core/reading/analysis';
import type { Inspection } from '../core/inspection-types';
import type { ModelRunner } from '../core/engine/runner';
import type { NeedleCurve, TokenSpan } from '../core/reading/needle';
import type { CompareRequest, FadingSeries, HostMessage, PagePlace, PanelCompare, PanelNeedle, PanelState, RegionRequest, ShownMessage } from '../protocol';
import { compareSelection, defaultComparePair, fadingModes, sameQuantity, sameWeights } from '../shared/compare';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import { MODE_LABELS, clampSelection, isRelevance } from '../shared/vocabulary';
import type { Config } from './config';
import type { InspectedDocuments, ShownInspection } from './inspected-documents';
import { fileName } from './inspected-documents';
import type { PageRequests, PanelPage } from './panel';
import { EditorPanel, PanelViewProvider } from './panel';
import { fadingSeries, panelDocument, panelHead, payloadBytes } from './panel-payload';
import { NeedleAndZoom } from './needle-and-zoom';
import type { Probe } from './probe';
import type { ViewState } from './view-state';

/** What the controller reads from the rest of the extension. */
export interface PanelContext {
  readonly selection: HeadSelection;
  readonly modes: readonly Mode[];
  readonly lastError: string | undefined;
  readonly runner: ModelRunner | undefined;
  revealOffset(uri: vscode.Uri, offset: number): Promise<void>;
  reportError(what: string, err: unknown): void;
}

export class PanelController implements PageRequests, vscode.Disposable {
  /** The bottom panel's view (registered by ExtensionRoot). */
  readonly viewProvider: PanelViewProvider;
  private editor: EditorPanel | undefined;
  /** Document the panel shows, by uri. */
  private uri: string | undefined;
  /** Inspection id last sent in full (0: none). */
  private sentId = -1;
  private readonly details: NeedleAndZoom;
  /** What each page last reported it shows (probe only). */
  readonly shownBy = new Map<PagePlace, ShownMessage>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly documents: InspectedDocuments,
    private readonly config: Config,
    private readonly view: ViewState,
    private readonly ctx: PanelContext,
    private readonly probe: Probe,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.details = new NeedleAndZoom(documents, ctx, log);
    this.viewProvider = new PanelViewProvider(extensionUri, this, log, (page) => {
      if (!page) this.shownBy.delete('panel');
    });
  }

  dispose(): void {
    this.editor?.dispose();
    this.viewProvider.dispose();
  }

  /** Whether the page in this place has said ready. */
  ready(where: PagePlace): boolean {
    return this.pages().some((p) => p.where === where && p.isReady);
  }

  // Commands.

  /** Opens the view in an editor tab beside the code, or reveals the open one. */
  openInEditor(): void {
    if (this.editor) {
      this.editor.reveal();
      return;
    }
    this.editor = new EditorPanel(this.extensionUri, this, this.log, () => {
      this.editor = undefined;
      this.shownBy.delete('editor');
    });
  }

  /** Some page (bottom view or editor tab) is open. */
  get isShownAnywhere(): boolean {
    return this.pages().some((p) => p.isReady);
  }

  // Events from ExtensionRoot.

  /** A document's inspection was replaced or cleared. */
  onInspection(uri: string): void {
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    if (this.documents.get(uri) && (uri === active || !this.uri || !this.documents.get(this.uri))) this.uri = uri;
    this.sync();
  }

  onActiveEditor(): void {
    this.sync();
  }

  onCursor(editor: vscode.TextEditor): void {
    const doc = this.documents.get(editor.document.uri);
    if (doc && doc.uri === this.uri && doc.version === editor.document.version) {
      const token = tokenAt(doc.inspection, editor.document.offsetAt(editor.selection.active));
      this.post({ type: 'cursor', documentId: doc.inspection.id, token });
    }
  }

  /** Settings changed: the colour scale or Follow Cursor may differ. */
  onSettings(): void {
    this.postView();
    this.onStatus();
  }

  /** The view changed: the selection or Compare may differ (a new mode arrives as a new inspection). */
  onView(): void {
    if (!this.view.compare) this.post({ type: 'compare', compare: undefined });
    this.postView();
  }

  onStatus(): void {
    this.post({ type: 'status', busy: this.documents.busy, error: this.ctx.lastError, followCursor: this.config.followCursor });
  }

  // PageRequests: the pages' requests.

  state(): PanelState {
    const doc = this.shown();
    const editor = vscode.window.activeTextEditor;
    const cursorToken =
      doc && editor && editor.document.uri.toString() === doc.uri ? tokenAt(doc.inspection, editor.document.offsetAt(editor.selection.active)) : -1;
    return {
      mode: this.view.mode,
      modes: [...this.ctx.modes],
      selection: this.ctx.selection,
      followCursor: this.config.followCursor,
      busy: this.documents.busy,
      error: this.ctx.lastError,
      document: doc ? panelDocument(doc.inspection, fileName(vscode.Uri.parse(doc.uri))) : undefined,
      head: doc ? panelHead(doc.inspection, this.selectionIn(doc.inspection), this.config.colorScale) : undefined,
      cursorToken,
      fading: doc ? this.fadingFor(doc) : [],
      compare: doc && this.view.compare ? this.compareFor(doc, this.view.compare) : undefined,
      needle: doc ? this.details.needleOf(doc.inspection.id) : undefined,
      probe: this.probe.enabled,
    };
  }

  /** A page got the full state: later changes are relative to it; a missing comparison is computed. */
  sentState(state: PanelState): void {
    this.sentId = state.document?.id ?? 0;
    if (state.document) this.notePayload(payloadBytes(state.document, state.head), state.document.texts.length);
    const doc = this.shown();
    if (doc && state.compare && !state.compare.heads) this.sendCompare(doc);
  }

  selectHead(selection: HeadSelection): void {
    this.view.set({ selection });
  }

  selectMode(mode: Mode): void {
    this.view.set({ mode });
  }

  reveal(id: number, token: number): void {
    const doc = this.documents.byId(id);
    const tok = doc?.inspection.tokens[token];
    if (doc && tok) this.ctx.revealOffset(vscode.Uri.parse(doc.uri), tok.start).catch((err: unknown) => this.ctx.reportError('revealing a token', err));
  }

  requestFading(id: number): void {
    const doc = this.documents.byId(id);
    if (!doc) return;
    void Promise.all(fadingModes(this.ctx.modes, doc.inspection.mode).map((m) => this.documents.ensureIn(doc, m))).then(() => {
      if (this.documents.get(doc.uri) === doc) this.post({ type: 'fading', documentId: id, fading: this.fadingFor(doc) });
    });
  }

  /**
   * Compare on or off. Across checkpoints (Softmax vs SSMax trained) heads match by index only, so
   * turning Compare on there shows the mean over heads unless an aggregate is already selected.
   * Beside screening (relevance per tile) no head pairs with a tile: the mean, whenever the pair changes.
   */
  setCompare(request: CompareRequest): void {
    const modes = this.ctx.modes;
    const pair = request.modes && request.modes.every((m) => modes.includes(m)) && request.modes[0] !== request.modes[1] ? request.modes : undefined;
    const was = this.view.compare;
    const compare = request.on ? (pair ?? was ?? defaultComparePair(modes, this.view.mode)) : undefined;
    const mean = compare && (!was || !sameQuantity(...compare)) && !sameWeights(...compare) && this.ctx.selection.kind === 'head';
    const change = this.view.set({ compare, ...(mean ? { selection: { kind: 'aggregate', how: 'mean' } as const } : {}) });
    // Unchanged: the page that asked still gets the answer.
    if (!change.compare && !change.selection) this.onView();
  }

  /** The view's Needle button: the command, which picks the span and says what is wrong. */
  needle(): void {
    void vscode.commands.executeCommand('attentionLens.needle');
  }

  /** A zoomed region at full resolution, answered to the page that asked; without data when the keys are gone. */
  region(page: PanelPage, request: RegionRequest): void {
    void this.details.region(request).then((answer) => answer && page.post(answer));
  }

  recordTiming(what: 'heatmap' | 'strip', ms: number, tokens: number, bins: number): void {
    if (what === 'heatmap') this.probe.record({ heatmapMs: ms, heatmapBins: bins });
    this.log.info(`panel: ${what} drawn in ${ms.toFixed(1)} ms (${tokens} tokens, ${bins} bins)`);
  }

  recordShown(page: PanelPage, shown: ShownMessage): void {
    this.shownBy.set(page.where, shown);
  }

  /** Shows the exact needle of a span of a shown document (needle-command.ts picks it): under Compare its two modes, else every mode (screening only while shown); resolves when it was posted. */
  async runNeedle(doc: ShownInspection, span: TokenSpan): Promise<PanelNeedle | undefined> {
    // Without Compare every mode, screening only while shown (as the fading chart): its run is the costliest.
    const modes = this.view.compare ?? this.ctx.modes.filter((m) => !isRelevance(m) || m === doc.inspection.mode);
    const needle = await this.details.needle(doc, span, modes);
    if (!needle) return undefined;
    this.uri = doc.uri;
    this.sync();
    this.post({ type: 'needle', needle });
    return needle;
  }

  /** What the SVG export adds for this inspection: Compare's other mode, and the needle's exact curves. */
  figureFor(insp: Inspection): { other?: Inspection; needle?: { span: TokenSpan; curves: NeedleCurve[] } } {
    return this.details.figureFor(insp, this.view.compare);
  }

  /** The shown document, preferring the active editor's. */
  private shown(): ShownInspection | undefined {
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    const uri = active && this.documents.get(active) ? active : this.uri;
    return uri ? this.documents.get(uri) : undefined;
  }

  private pages(): PanelPage[] {
    return [this.viewProvider.current, this.editor?.page].filter((p): p is PanelPage => p !== undefined);
  }

  private post(message: HostMessage): void {
    for (const page of this.pages()) page.post(message);
  }

  /** Sends the pages' document when it changed since last sent. */
  private sync(): void {
    const doc = this.shown();
    if (doc) this.uri = doc.uri;
    const id = doc ? doc.inspection.id : 0;
    if (id === this.sentId || !this.pages().some((p) => p.isReady)) return;
    this.sentId = id;
    if (!doc) {
      this.post({ type: 'document', document: undefined, head: undefined, mode: this.view.mode });
      return;
    }
    const document = panelDocument(doc.inspection, fileName(vscode.Uri.parse(doc.uri)));
    const head = panelHead(doc.inspection, this.selectionIn(doc.inspection), this.config.colorScale);
    this.notePayload(payloadBytes(document, head), document.texts.length);
    this.post({ type: 'document', document, head, mode: doc.inspection.mode });
    if (this.view.compare) this.sendCompare(doc);
  }

  /** The comparison from cache (no heads while a mode is missing). */
  private compareFor(doc: ShownInspection, modes: [Mode, Mode]): PanelCompare {
    const [a, b] = modes.map((m) => this.documents.cachedIn(doc, m));
    // Across weight and relevance, only aggregates: heads and tiles do not pair.
    const sel = compareSelection(modes, this.ctx.selection);
    const scale = this.config.colorScale;
    return {
      documentId: doc.inspection.id,
      modes,
      sameWeights: sameWeights(...modes),
      heads: a && b ? [panelHead(a, this.selectionIn(a, sel), scale), panelHead(b, this.selectionIn(b, sel), scale)] : undefined,
    };
  }

  /** The selection's head and the comparison, for the shown document. */
  private postView(): void {
    const doc = this.shown();
    if (!doc) return;
    this.post({ type: 'head', head: panelHead(doc.inspection, this.selectionIn(doc.inspection), this.config.colorScale), selection: this.ctx.selection });
    // The fading series follow the selection (its distance shares and fading curves are per head).
    this.post({ type: 'fading', documentId: doc.inspection.id, fading: this.fadingFor(doc) });
    this.sendCompare(doc);
  }

  /** Posts the comparison; when a mode is missing, runs it in the background and posts again. */
  private sendCompare(doc: ShownInspection): void {
    const modes = this.view.compare;
    if (!modes) return;
    const now = this.compareFor(doc, modes);
    this.post({ type: 'compare', compare: now });
    if (now.heads) return;
    void Promise.all(modes.map((m) => this.documents.ensureIn(doc, m))).then(() => {
      if (this.view.compare !== modes || this.shown() !== doc) return;
      const later = this.compareFor(doc, modes);
      const error = later.heads ? undefined : `${modes.map((m) => MODE_LABELS[m]).join(' or ')} could not be computed for this window; inspect again.`;
      this.post({ type: 'compare', compare: error ? { ...later, error } : later });
    });
  }

  private notePayload(bytes: number, tokens: number): void {
    this.probe.record({ payloadBytes: bytes });
    this.log.info(`panel payload: ${(bytes / 1024).toFixed(0)} KiB for ${tokens} tokens`);
  }

  /**
   * Every cached mode's fading series, screening only while shown. Screening's tiles and the
   * attention heads do not pair, so a series of the other kind describes the mean over its heads.
   */
  private fadingFor(doc: ShownInspection): FadingSeries[] {
    const shown = doc.inspection.mode;
    return this.ctx.modes.flatMap((m) => {
      const insp = this.documents.cachedIn(doc, m);
      if (!insp || (isRelevance(m) && m !== shown)) return [];
      const pairs = isRelevance(m) === isRelevance(shown);
      return [fadingSeries(insp, pairs ? this.selectionIn(insp) : { kind: 'aggregate', how: 'mean' })];
    });
  }

  /** The view's selection within an inspection's shape: the shown mode's may not fit another mode's (11 x 11 tiles, 6 x 4 heads) or a run not yet redone. */
  private selectionIn(insp: Inspection, selection: HeadSelection = this.ctx.selection): HeadSelection {
    return clampSelection(selection, insp.model.layers, insp.model.heads);
  }
}
