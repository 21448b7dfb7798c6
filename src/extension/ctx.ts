// The extension's one context object (rust-analyzer style): owns every disposable in two
// scopes, the extension's and the model's (ModelHost), wires settings, editors, overlay, hover,
// status bar and panel together, and reports errors once with their reason.
import * as vscode from 'vscode';
import { tokenAt } from '../core/analysis';
import type { Mode } from '../shared/vocabulary';
import type { Inspection } from '../core/inspection-types';
import type { HeadSelection } from '../shared/vocabulary';
import type { DrawTimingMessage, FadingSeries, PanelDocument, PanelHead, PanelState } from '../protocol';
import { Config, SECTION, clampSelection } from './config';
import { HoverProvider } from './hover';
import type { DocInspection, ProgressKind } from './inspector';
import { Inspector, displayName } from './inspector';
import { ModelHost } from './model-host';
import { Overlay } from './overlay';
import type { OverlayView } from './overlay';
import type { PanelHost } from './panel';
import { PANEL_VIEW_ID, Panel } from './panel';
import { documentId, fadingSeries, panelDocument, panelHead, payloadBytes } from './panel-payload';
import { StatusBar } from './status-bar';

export interface Metrics {
  /** Last hover built from cache. */
  hoverMs: number;
  /** Last single-editor overlay update (a cursor move in Follow Cursor). */
  overlayMs: number;
  /** Last heatmap draw reported by the panel. */
  heatmapMs: number;
  heatmapBins: number;
  /** Bytes sent to the panel for the last inspection (document + selected head). */
  payloadBytes: number;
  inspectMs: number;
}

export class Ctx implements vscode.Disposable {
  readonly config = new Config();
  readonly log: vscode.LogOutputChannel;
  readonly models: ModelHost;
  readonly inspector: Inspector;
  readonly overlay: Overlay;
  readonly status = new StatusBar();
  readonly hover: HoverProvider;
  readonly panel: Panel;
  readonly metrics: Metrics = { hoverMs: 0, overlayMs: 0, heatmapMs: 0, heatmapBins: 0, payloadBytes: 0, inspectMs: 0 };
  lastError: string | undefined;
  private readonly shownErrors = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly liveTimers = new Map<string, NodeJS.Timeout>();
  private readonly windowNoticeShown = new Set<string>();
  /** Document the panel shows: the active editor's when inspected, else the last one inspected. */
  private panelUri: string | undefined;
  private postedDocumentId = -1;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Attention Lens', { log: true });
    this.models = new ModelHost(extension.extensionPath, this.config, this.log);
    this.inspector = new Inspector(this.models, this.config, this.log);
    this.overlay = new Overlay((uri) => this.inspector.get(uri));
    this.hover = new HoverProvider(this.inspector, () => ({ selection: this.selection, modes: this.modes }));
    this.panel = new Panel(extension.extensionUri, this.panelHost(), this.log);
    // Disposed in reverse: listeners first, then the parts they call.
    this.disposables.push(this.log, this.models, this.inspector, this.overlay, this.status, this.panel);
  }

  start(): void {
    this.disposables.push(
      // Every document, untitled ones included; documents without an inspection cost a map lookup.
      vscode.languages.registerHoverProvider('*', this.hover),
      vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, this.panel, { webviewOptions: { retainContextWhenHidden: false } }),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfig(e)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        if (this.config.modelPath !== '') void this.resetModel('the workspace is now trusted: the custom model applies');
      }),
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.inspector.clear(d.uri.toString())),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onCursor(e.textEditor)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.overlay.refresh(this.overlayView)),
      vscode.window.onDidChangeActiveTextEditor(() => this.syncPanel()),
      this.inspector.onDidChange((uri) => this.onInspection(uri)),
      this.inspector.onDidChangeBusy(() => this.renderStatus()),
      this.models.onDidReset(() => this.inspector.clear()),
    );
    this.renderStatus();
    this.log.info(`activated (VS Code ${vscode.version}); the model loads on first use`);
  }

  get modes(): readonly Mode[] {
    return this.models.current?.modes ?? ['softmax', 'ssmax', 'ssmax-posthoc'];
  }

  /** The configured selection, clamped to the loaded model's shape. */
  get selection(): HeadSelection {
    const model = this.models.current?.model;
    const sel = this.config.selection;
    return model ? clampSelection(sel, model.layers, model.heads) : sel;
  }

  get overlayView(): OverlayView {
    return { selection: this.selection, scale: this.config.colorScale, followCursor: this.config.followCursor };
  }

  /** Inspects a document in the current mode; errors are reported, not thrown. */
  async inspect(doc: vscode.TextDocument, progress: ProgressKind, focusOffset?: number): Promise<DocInspection | undefined> {
    try {
      const result = await this.inspector.inspect(doc, focusOffset, progress);
      if (result) {
        this.lastError = undefined;
        this.metrics.inspectMs = result.inspection.timings.totalMs;
        this.noteWindow(doc, result.inspection);
      }
      this.renderStatus();
      return result;
    } catch (err) {
      this.reportError(`inspecting ${displayName(doc)}`, err);
      return undefined;
    }
  }

  /** Logs an error, shows it in the status bar, and pops it up once per distinct reason. */
  reportError(what: string, err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    this.lastError = reason;
    this.log.error(`${what} failed: ${err instanceof Error && err.stack ? err.stack : reason}`);
    this.renderStatus();
    this.panel.post({ type: 'status', busy: this.inspector.busy, error: reason, followCursor: this.config.followCursor });
    if (this.shownErrors.has(reason)) return;
    this.shownErrors.add(reason);
    void vscode.window.showErrorMessage(`Attention Lens: ${what} failed: ${reason}`, 'Show Log').then((pick) => {
      if (pick) this.log.show(true);
    });
  }

  async resetModel(reason: string): Promise<void> {
    await this.models.reset(reason);
    this.renderStatus();
  }

  /** Selects the token's range in its editor (from a hover link or the panel). */
  async revealOffset(uri: vscode.Uri, offset: number): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(uri);
    const insp = this.inspector.get(uri);
    const t = insp && insp.version === doc.version ? tokenAt(insp.inspection, offset) : -1;
    const range = t >= 0 && insp ? insp.ranges[t] : new vscode.Range(doc.positionAt(offset), doc.positionAt(offset));
    const visible = vscode.window.visibleTextEditors.find((e) => e.document === doc);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn, preserveFocus: false });
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  renderStatus(): void {
    const active = vscode.window.activeTextEditor && this.inspector.get(vscode.window.activeTextEditor.document.uri);
    const insp = active?.inspection;
    this.status.render({
      mode: this.config.mode,
      selection: this.selection,
      busy: this.inspector.busy,
      error: this.lastError,
      followCursor: this.config.followCursor,
      liveMode: this.config.liveMode,
      windowNote: insp?.windowed ? `window of ${insp.tokens.length} of ${insp.documentTokens} tokens` : undefined,
    });
  }

  private onConfig(e: vscode.ConfigurationChangeEvent): void {
    if (!e.affectsConfiguration(SECTION)) return;
    if (this.config.affectsModel(e)) {
      void this.resetModel('attentionLens.modelPath changed');
      return;
    }
    const rerun = ['mode', 'maxTokens'].some((k) => e.affectsConfiguration(`${SECTION}.${k}`));
    if (rerun) this.rerunVisible();
    if (e.affectsConfiguration(`${SECTION}.liveMode`) && this.config.liveMode) this.rerunActive();
    this.overlay.refresh(this.overlayView);
    this.renderStatus();
    this.postSelection();
  }

  /** After a mode change: visible documents that were inspected run again (instant when cached). */
  private rerunVisible(): void {
    const active = vscode.window.activeTextEditor;
    for (const editor of vscode.window.visibleTextEditors) {
      if (!this.inspector.get(editor.document.uri)) continue;
      void this.inspect(editor.document, editor === active ? 'notification' : 'window', editor.document.offsetAt(editor.selection.active));
    }
  }

  private rerunActive(): void {
    const editor = vscode.window.activeTextEditor;
    if (editor) void this.inspect(editor.document, 'window', editor.document.offsetAt(editor.selection.active));
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0) return;
    const uri = e.document.uri.toString();
    const inspected = this.inspector.get(uri) !== undefined;
    // A run of the old text is stale: cancel it. Without Live Mode the old result would mislead hovers: drop it.
    this.inspector.cancel(uri);
    if (!this.config.liveMode) {
      if (inspected) this.inspector.clear(uri);
      return;
    }
    const visible = vscode.window.visibleTextEditors.some((ed) => ed.document === e.document);
    if (!visible) return;
    clearTimeout(this.liveTimers.get(uri));
    this.liveTimers.set(
      uri,
      setTimeout(() => {
        this.liveTimers.delete(uri);
        const editor = vscode.window.visibleTextEditors.find((ed) => ed.document === e.document);
        if (editor) void this.inspect(e.document, 'window', e.document.offsetAt(editor.selection.active));
      }, this.config.liveDebounceMs),
    );
  }

  private onCursor(editor: vscode.TextEditor): void {
    if (this.config.followCursor) {
      this.overlay.update(editor, this.overlayView);
      this.metrics.overlayMs = this.overlay.updateMs;
    }
    const doc = this.inspector.get(editor.document.uri);
    if (doc && doc.uri === this.panelUri && doc.version === editor.document.version) {
      const token = tokenAt(doc.inspection, editor.document.offsetAt(editor.selection.active));
      this.panel.post({ type: 'cursor', documentId: documentId(doc.inspection), token });
    }
  }

  private onInspection(uri: string): void {
    this.overlay.refresh(this.overlayView, uri);
    this.renderStatus();
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    if (this.inspector.get(uri) && (uri === active || !this.panelUri || !this.inspector.get(this.panelUri))) this.panelUri = uri;
    this.syncPanel();
  }

  private noteWindow(doc: vscode.TextDocument, insp: Inspection): void {
    const uri = doc.uri.toString();
    if (!insp.windowed || this.windowNoticeShown.has(uri)) return;
    this.windowNoticeShown.add(uri);
    void vscode.window.showInformationMessage(
      `Attention Lens: ${displayName(doc)} has ${insp.documentTokens} tokens; inspected ${insp.tokens.length} around the cursor (setting attentionLens.maxTokens).`,
    );
  }

  // Panel

  private panelDoc(): DocInspection | undefined {
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    if (active && this.inspector.get(active)) this.panelUri = active;
    return this.panelUri ? this.inspector.get(this.panelUri) : undefined;
  }

  /** Sends the panel's document when it changed since last sent. */
  private syncPanel(): void {
    const doc = this.panelDoc();
    const id = doc ? documentId(doc.inspection) : 0;
    if (id === this.postedDocumentId || !this.panel.isReady) return;
    this.postedDocumentId = id;
    if (!doc) {
      this.panel.post({ type: 'document', document: undefined, head: undefined, mode: this.config.mode });
      return;
    }
    const label = doc.uri.split('/').pop() ?? doc.uri;
    const document = panelDocument(doc.inspection, label);
    const head = panelHead(doc.inspection, this.selection);
    this.notePayload(document, head);
    this.panel.post({ type: 'document', document, head, mode: doc.inspection.mode });
  }

  private postSelection(): void {
    const doc = this.panelDoc();
    if (!doc) return;
    const head = panelHead(doc.inspection, this.selection);
    this.panel.post({ type: 'head', head, selection: this.selection });
    this.panel.post({ type: 'status', busy: this.inspector.busy, error: this.lastError, followCursor: this.config.followCursor });
  }

  private notePayload(document: PanelDocument, head: PanelHead | undefined): void {
    this.metrics.payloadBytes = payloadBytes(document, head);
    this.log.info(`panel payload: ${(this.metrics.payloadBytes / 1024).toFixed(0)} KiB for ${document.texts.length} tokens`);
  }

  private fadingFor(doc: DocInspection): FadingSeries[] {
    return this.modes.flatMap((m) => {
      const insp = this.inspector.cachedIn(doc, m);
      return insp ? [fadingSeries(insp)] : [];
    });
  }

  private panelHost(): PanelHost {
    return {
      state: (): PanelState => {
        const doc = this.panelDoc();
        const editor = vscode.window.activeTextEditor;
        const document = doc ? panelDocument(doc.inspection, doc.uri.split('/').pop() ?? doc.uri) : undefined;
        const head = doc ? panelHead(doc.inspection, this.selection) : undefined;
        this.postedDocumentId = doc ? documentId(doc.inspection) : 0;
        if (document) this.notePayload(document, head);
        const cursorToken =
          doc && editor && editor.document.uri.toString() === doc.uri ? tokenAt(doc.inspection, editor.document.offsetAt(editor.selection.active)) : -1;
        return {
          mode: this.config.mode,
          modes: [...this.modes],
          selection: this.selection,
          followCursor: this.config.followCursor,
          busy: this.inspector.busy,
          error: this.lastError,
          document,
          head,
          cursorToken,
          fading: doc ? this.fadingFor(doc) : [],
        };
      },
      selectHead: (selection) => void this.config.setSelection(selection).catch((err: unknown) => this.reportError('selecting a head', err)),
      selectMode: (mode) => void this.config.setMode(mode).catch((err: unknown) => this.reportError('switching attention', err)),
      reveal: (id, token) => {
        const doc = this.inspector.all().find((d) => documentId(d.inspection) === id);
        const tok = doc?.inspection.tokens[token];
        if (doc && tok) void this.revealOffset(vscode.Uri.parse(doc.uri), tok.start).catch((err: unknown) => this.reportError('revealing a token', err));
      },
      requestFading: (id) => {
        const doc = this.inspector.all().find((d) => documentId(d.inspection) === id);
        if (!doc) return;
        const wanted = this.modes.filter((m) => m !== 'ssmax-posthoc' || doc.inspection.mode === m);
        void Promise.all(wanted.map((m) => this.inspector.ensureIn(doc, m))).then(() => {
          if (this.inspector.get(doc.uri) === doc) this.panel.post({ type: 'fading', documentId: id, fading: this.fadingFor(doc) });
        });
      },
      recordTiming: (t: DrawTimingMessage) => {
        if (t.what === 'heatmap') {
          this.metrics.heatmapMs = t.ms;
          this.metrics.heatmapBins = t.bins;
        }
        this.log.info(`panel: ${t.what} drawn in ${t.ms.toFixed(1)} ms (${t.tokens} tokens, ${t.bins} bins)`);
      },
    };
  }

  dispose(): void {
    for (const t of this.liveTimers.values()) clearTimeout(t);
    this.liveTimers.clear();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
