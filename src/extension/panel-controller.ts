// Owns what the side panel shows: which document (the active editor's when inspected, else the
// last one inspected), what was last sent, and the answers to the page's messages. Ctx tells it
// what changed; it decides what to post. Reading the state has no side effects.
import * as vscode from 'vscode';
import { tokenAt } from '../core/analysis';
import type { FadingSeries, PanelState } from '../protocol';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import type { Config } from './config';
import type { InspectedDocuments, ShownInspection } from './inspected-documents';
import type { PanelHost } from './panel';
import { Panel } from './panel';
import { fadingSeries, panelDocument, panelHead, payloadBytes } from './panel-payload';
import type { Probe } from './probe';

/** What the controller reads from the rest of the extension. */
export interface PanelContext {
  readonly selection: HeadSelection;
  readonly modes: readonly Mode[];
  readonly lastError: string | undefined;
  revealOffset(uri: vscode.Uri, offset: number): Promise<void>;
  reportError(what: string, err: unknown): void;
}

export class PanelController implements PanelHost, vscode.Disposable {
  /** The webview view (registered by Ctx); posts only while its page is there. */
  readonly view: Panel;
  /** Document the panel shows, by uri. */
  private uri: string | undefined;
  /** Inspection id last sent in full (0: none). */
  private sentId = -1;

  constructor(
    extensionUri: vscode.Uri,
    private readonly documents: InspectedDocuments,
    private readonly config: Config,
    private readonly ctx: PanelContext,
    private readonly probe: Probe,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.view = new Panel(extensionUri, this, log);
  }

  dispose(): void {
    this.view.dispose();
  }

  // Events from Ctx.

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
      this.view.post({ type: 'cursor', documentId: doc.inspection.id, token });
    }
  }

  /** Settings changed: the selection, colour scale or Follow Cursor may differ. */
  onSettings(): void {
    const doc = this.shown();
    if (!doc) return;
    this.view.post({ type: 'head', head: panelHead(doc.inspection, this.ctx.selection, this.config.colorScale), selection: this.ctx.selection });
    this.onStatus();
  }

  onStatus(): void {
    this.view.post({ type: 'status', busy: this.documents.busy, error: this.ctx.lastError, followCursor: this.config.followCursor });
  }

  // PanelHost: the page's requests.

  state(): PanelState {
    const doc = this.shown();
    const editor = vscode.window.activeTextEditor;
    const cursorToken =
      doc && editor && editor.document.uri.toString() === doc.uri ? tokenAt(doc.inspection, editor.document.offsetAt(editor.selection.active)) : -1;
    return {
      mode: this.config.mode,
      modes: [...this.ctx.modes],
      selection: this.ctx.selection,
      followCursor: this.config.followCursor,
      busy: this.documents.busy,
      error: this.ctx.lastError,
      document: doc ? panelDocument(doc.inspection, label(doc)) : undefined,
      head: doc ? panelHead(doc.inspection, this.ctx.selection, this.config.colorScale) : undefined,
      cursorToken,
      fading: doc ? this.fadingFor(doc) : [],
      probe: this.probe.enabled,
    };
  }

  /** The page sent its full state: later changes are relative to it. */
  sentState(state: PanelState): void {
    this.sentId = state.document?.id ?? 0;
    if (state.document) this.notePayload(payloadBytes(state.document, state.head), state.document.texts.length);
  }

  selectHead(selection: HeadSelection): void {
    this.config.setSelection(selection).catch((err: unknown) => this.ctx.reportError('selecting a head', err));
  }

  selectMode(mode: Mode): void {
    this.config.setMode(mode).catch((err: unknown) => this.ctx.reportError('switching attention', err));
  }

  reveal(id: number, token: number): void {
    const doc = this.documents.byId(id);
    const tok = doc?.inspection.tokens[token];
    if (doc && tok) this.ctx.revealOffset(vscode.Uri.parse(doc.uri), tok.start).catch((err: unknown) => this.ctx.reportError('revealing a token', err));
  }

  requestFading(id: number): void {
    const doc = this.documents.byId(id);
    if (!doc) return;
    const wanted = this.ctx.modes.filter((m) => m !== 'ssmax-posthoc' || doc.inspection.mode === m);
    void Promise.all(wanted.map((m) => this.documents.ensureIn(doc, m))).then(() => {
      if (this.documents.get(doc.uri) === doc) this.view.post({ type: 'fading', documentId: id, fading: this.fadingFor(doc) });
    });
  }

  recordTiming(what: 'heatmap' | 'strip', ms: number, tokens: number, bins: number): void {
    if (what === 'heatmap') this.probe.record({ heatmapMs: ms, heatmapBins: bins });
    this.log.info(`panel: ${what} drawn in ${ms.toFixed(1)} ms (${tokens} tokens, ${bins} bins)`);
  }

  /** The shown document, preferring the active editor's. */
  private shown(): ShownInspection | undefined {
    const active = vscode.window.activeTextEditor?.document.uri.toString();
    const uri = active && this.documents.get(active) ? active : this.uri;
    return uri ? this.documents.get(uri) : undefined;
  }

  /** Sends the panel's document when it changed since last sent. */
  private sync(): void {
    const doc = this.shown();
    if (doc) this.uri = doc.uri;
    const id = doc ? doc.inspection.id : 0;
    if (id === this.sentId || !this.view.isReady) return;
    this.sentId = id;
    if (!doc) {
      this.view.post({ type: 'document', document: undefined, head: undefined, mode: this.config.mode });
      return;
    }
    const document = panelDocument(doc.inspection, label(doc));
    const head = panelHead(doc.inspection, this.ctx.selection, this.config.colorScale);
    this.notePayload(payloadBytes(document, head), document.texts.length);
    this.view.post({ type: 'document', document, head, mode: doc.inspection.mode });
  }

  private notePayload(bytes: number, tokens: number): void {
    this.probe.record({ payloadBytes: bytes });
    this.log.info(`panel payload: ${(bytes / 1024).toFixed(0)} KiB for ${tokens} tokens`);
  }

  private fadingFor(doc: ShownInspection): FadingSeries[] {
    return this.ctx.modes.flatMap((m) => {
      const insp = this.documents.cachedIn(doc, m);
      return insp ? [fadingSeries(insp)] : [];
    });
  }
}

function label(doc: ShownInspection): string {
  return doc.uri.split('/').pop() ?? doc.uri;
}
