// The extension's one context object: owns every disposable in two scopes, the extension's and
// the model's (ModelLoader), wires settings and editor events to the parts that react (documents,
// overlay, hover, status bar, panel controller), and reports errors once with their reason.
import * as vscode from 'vscode';
import { incrementalNote, tokenAt } from '../core/reading/analysis';
import type { Inspection } from '../core/inspection-types';
import type { ModelRunner } from '../core/engine/runner';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import { MODES, MODE_LABELS, clampSelection } from '../shared/vocabulary';
import { isLargeModel, largeRunNotice } from '../core/engine/run-estimate';
import { Config, SECTION } from './config';
import { legendLines } from './color-legend';
import { HoverProvider } from './hover';
import type { ProgressKind, ShownInspection } from './inspected-documents';
import { InspectedDocuments, displayName } from './inspected-documents';
import { ModelLoader } from './model-loader';
import { Overlay } from './overlay';
import type { OverlayView } from './overlay';
import { joinedRowReads } from './row-reads';
import { PassingKeys } from './passing-keys';
import { PANEL_VIEW_ID } from './panel';
import { PanelController } from './panel-controller';
import type { Probe } from './probe';
import { StatusBar } from './status-bar';
import type { ViewChange } from './view-state';
import { ViewState } from './view-state';

/** Sibling runs wait this long after a Follow Cursor row request before they go on. */
const SIBLING_HOLD_MS = 1000;

export class ExtensionRoot implements vscode.Disposable {
  readonly config = new Config();
  readonly view = new ViewState(this.config);
  readonly log: vscode.LogOutputChannel;
  readonly models: ModelLoader;
  readonly documents: InspectedDocuments;
  readonly overlay: Overlay;
  readonly passingKeys: PassingKeys;
  readonly status = new StatusBar();
  readonly hover: HoverProvider;
  readonly panel: PanelController;
  private error: string | undefined;
  private readonly shownErrors = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly liveTimers = new Map<string, NodeJS.Timeout>();
  private readonly windowNoticeShown = new Set<string>();
  private readonly largeRunConfirmed = new Set<string>();

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly probe: Probe,
  ) {
    this.log = vscode.window.createOutputChannel('Attention Lens', { log: true });
    this.models = new ModelLoader(extension.extensionPath, this.config, this.log);
    this.documents = new InspectedDocuments(this.models, this.config, this.view, this.log, probe);
    const readRow = joinedRowReads(async (insp, offset, signal) => {
      // A cursor move wants its row now: background sibling runs yield the worker for a while.
      this.documents.siblings.hold(SIBLING_HOLD_MS);
      return (await this.models.current?.rows(insp, [offset], signal))?.[0];
    });
    this.overlay = new Overlay((uri) => this.documents.get(uri), readRow, probe);
    this.passingKeys = new PassingKeys((uri) => this.documents.get(uri), readRow, probe);
    this.hover = new HoverProvider(this.documents, () => ({ selection: this.selection, modes: this.modes }), probe);
    this.panel = new PanelController(extension.extensionUri, this.documents, this.config, this.view, this, probe, this.log);
    // Disposed in reverse: listeners first, then the parts they call.
    this.disposables.push(this.log, this.view, this.models, this.documents, this.overlay, this.passingKeys, this.status, this.panel);
  }

  start(): void {
    this.disposables.push(
      // Every document, untitled ones included; documents without an inspection cost a map lookup.
      vscode.languages.registerHoverProvider('*', this.hover),
      vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, this.panel.viewProvider, { webviewOptions: { retainContextWhenHidden: false } }),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfig(e)),
      this.view.onDidChange((change) => this.onView(change)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        if (this.config.modelPath !== '') void this.resetModel('the workspace is now trusted: the custom model applies');
      }),
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.documents.clear(d.uri.toString())),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onCursor(e.textEditor)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshEditors()),
      vscode.window.onDidChangeActiveTextEditor(() => {
        this.renderStatus(); // the tooltip's legend is the active document's
        this.panel.onActiveEditor();
      }),
      this.documents.onDidChange((uri) => this.onInspection(uri)),
      this.documents.onDidChangeSiblings(() => this.renderStatus()),
      this.passingKeys.onDidChangeNote(() => this.renderStatus()),
      this.documents.onDidChangeBusy(() => {
        this.renderStatus();
        this.panel.onStatus();
      }),
      this.models.onDidReset(() => this.documents.clear()),
    );
    this.renderStatus();
    this.log.info(`activated (VS Code ${vscode.version}); the model loads on first use`);
  }

  get runner(): ModelRunner | undefined {
    return this.models.current;
  }

  get modes(): readonly Mode[] {
    return this.models.current?.modes ?? MODES;
  }

  /** The view's selection, clamped to the shape the shown mode runs (a screening variant has its own layers and tiles). */
  get selection(): HeadSelection {
    const model = this.models.current?.modelOf(this.view.mode);
    const sel = this.view.selection;
    return model ? clampSelection(sel, model.layers, model.heads) : sel;
  }

  /** The reason of the last failure, until an inspection succeeds or Clear runs. */
  get lastError(): string | undefined {
    return this.error;
  }

  get overlayView(): OverlayView {
    return { selection: this.selection, scale: this.config.colorScale, followCursor: this.config.followCursor };
  }

  /** Inspects a document in the current mode; errors are reported, not thrown. */
  async inspect(doc: vscode.TextDocument, progress: ProgressKind, centerOffset?: number): Promise<ShownInspection | undefined> {
    try {
      if (!(await this.confirmLargeRun(doc))) return undefined;
      const result = await this.documents.inspect(doc, centerOffset, progress);
      if (result) {
        this.error = undefined;
        this.probe.record({ inspectMs: result.inspection.timings.totalMs });
        this.noteWindow(doc, result.inspection);
      }
      this.renderStatus();
      // The mode was switched while this ran, before the document had an inspection to run again: run the mode now shown.
      if (result && result.inspection.mode !== this.view.mode) return await this.inspect(doc, progress, centerOffset);
      return result;
    } catch (err) {
      this.reportError(`inspecting ${displayName(doc)}`, err);
      return undefined;
    }
  }

  /** Forgets every inspection and the last error. */
  clear(): void {
    this.documents.clear();
    this.error = undefined;
    this.renderStatus();
  }

  /** Logs an error, shows it in the status bar and panel, and pops it up once per distinct reason. */
  reportError(what: string, err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    this.error = reason;
    this.log.error(`${what} failed: ${err instanceof Error && err.stack ? err.stack : reason}`);
    this.renderStatus();
    this.panel.onStatus();
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
    const shown = this.documents.get(uri);
    const t = shown && shown.version === doc.version ? tokenAt(shown.inspection, offset) : -1;
    const range = t >= 0 && shown ? shown.ranges[t] : new vscode.Range(doc.positionAt(offset), doc.positionAt(offset));
    const visible = vscode.window.visibleTextEditors.find((e) => e.document === doc);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn, preserveFocus: false });
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  renderStatus(): void {
    const active = vscode.window.activeTextEditor && this.documents.get(vscode.window.activeTextEditor.document.uri);
    const insp = active?.inspection;
    this.status.render({
      mode: this.view.mode,
      selection: this.selection,
      busy: this.documents.busy,
      error: this.error,
      followCursor: this.config.followCursor,
      liveMode: this.config.liveMode,
      model: this.models.current && { id: this.models.current.model.id, custom: this.models.custom },
      windowNote: insp?.windowed ? `window of ${insp.tokens.length} of ${insp.documentTokensEstimated ? 'about ' : ''}${insp.documentTokens} tokens` : undefined,
      runNote: insp && incrementalNote(insp),
      background: active ? this.documents.computingIn(active).map((m) => MODE_LABELS[m]) : [],
      legend: insp && !this.config.followCursor ? legendLines(insp, clampSelection(this.selection, insp.model.layers, insp.model.heads), this.config.colorScale) : [],
      passingKeys: this.passingKeys.note,
    });
  }

  private onConfig(e: vscode.ConfigurationChangeEvent): void {
    if (!e.affectsConfiguration(SECTION)) return;
    if (this.config.affectsModel(e)) {
      void this.resetModel('attentionLens.modelPath or memoryBudgetMB changed');
      return;
    }
    this.view.onSettings(e);
    if (e.affectsConfiguration(`${SECTION}.maxTokens`)) this.rerunVisible();
    if (e.affectsConfiguration(`${SECTION}.liveMode`) && this.config.liveMode) this.rerunActive();
    this.refreshEditors();
    this.renderStatus();
    this.panel.onSettings();
  }

  /** The view changed in one step: a new mode runs again; every part redraws once. */
  private onView(change: ViewChange): void {
    if (change.mode) this.rerunVisible();
    this.refreshEditors();
    this.renderStatus();
    this.panel.onView();
  }

  /** After a mode or token-limit change: visible documents that were inspected run again (instant when cached). */
  private rerunVisible(): void {
    const active = vscode.window.activeTextEditor;
    for (const editor of vscode.window.visibleTextEditors) {
      if (!this.documents.get(editor.document.uri)) continue;
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
    // A run of the old text is stale: cancel it. Without Live Mode the old result would mislead hovers: drop it.
    this.documents.cancel(uri);
    if (!this.config.liveMode) {
      if (this.documents.get(uri)) this.documents.clear(uri, true);
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

  /** Redraws the overlay and the passing keys in the visible editors, of one document or of all. */
  private refreshEditors(uri?: string): void {
    this.overlay.refresh(this.overlayView, uri);
    this.passingKeys.refresh(this.selection, uri);
  }

  private onCursor(editor: vscode.TextEditor): void {
    if (this.config.followCursor) this.overlay.update(editor, this.overlayView);
    this.passingKeys.update(editor, this.selection);
    this.panel.onCursor(editor);
  }

  private onInspection(uri: string): void {
    this.refreshEditors(uri);
    this.renderStatus();
    this.panel.onInspection(uri);
  }

  /** Once per document, before running a model over 10 x the shipped one: the expected time and memory, Continue or Cancel. */
  private async confirmLargeRun(doc: vscode.TextDocument): Promise<boolean> {
    const uri = doc.uri.toString();
    if (this.largeRunConfirmed.has(uri)) return true;
    const runner = await this.models.get();
    const shipped = this.models.shippedParameters;
    if (!isLargeModel(runner.model, shipped)) return true;
    const text = doc.getText();
    const limit = runner.tokenLimit(this.config.maxTokens || runner.defaultMaxTokens, text.length).tokens;
    // A long document is tokenized only around a window: its count is an estimate, enough here.
    const T = Math.min((await runner.documentTokens(text, 0, limit)).count, limit);
    const notice = largeRunNotice(runner.model, shipped, T, displayName(doc), runner.planFor(T, text.length).peakBytes);
    const pick = await vscode.window.showWarningMessage(notice, 'Continue', 'Cancel');
    if (pick !== 'Continue') return false;
    this.largeRunConfirmed.add(uri);
    return true;
  }

  private noteWindow(doc: vscode.TextDocument, insp: Inspection): void {
    const uri = doc.uri.toString();
    if (!insp.windowed || this.windowNoticeShown.has(uri)) return;
    this.windowNoticeShown.add(uri);
    void vscode.window.showInformationMessage(
      `Attention Lens: ${displayName(doc)} has ${insp.documentTokensEstimated ? 'about ' : ''}${insp.documentTokens.toLocaleString('en-US')} tokens; inspected ${insp.tokens.length.toLocaleString('en-US')} around the cursor, limited by ${insp.windowReason ?? 'the token limit'} (settings attentionLens.maxTokens, attentionLens.memoryBudgetMB).`,
    );
  }

  dispose(): void {
    for (const t of this.liveTimers.values()) clearTimeout(t);
    this.liveTimers.clear();
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
