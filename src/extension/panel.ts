// The side panel: a webview view in the panel area. Serves the page under a strict CSP, validates
// every message from it, and posts typed messages (full state on `ready`, then only changes).
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import type { HostMessage, PanelState } from '../protocol';
import { isDrawTimingMessage, isReadyMessage, isRequestFadingMessage, isRevealTokenMessage, isSelectHeadMessage, isSelectModeMessage } from '../protocol';

export const PANEL_VIEW_ID = 'attentionLens.panel';

/** What the panel asks of the rest of the extension. */
export interface PanelHost {
  state(): PanelState;
  /** The full state went out: later messages are changes to it. */
  sentState(state: PanelState): void;
  selectHead(selection: HeadSelection): void;
  selectMode(mode: Mode): void;
  reveal(documentId: number, token: number): void;
  requestFading(documentId: number): void;
  recordTiming(what: 'heatmap' | 'strip', ms: number, tokens: number, bins: number): void;
}

export class Panel implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  /** True between the webview's `ready` and its disposal: only then can messages land. */
  private ready = false;
  private readonly viewScope: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: PanelHost,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get isReady(): boolean {
    return this.ready;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposeView();
    this.view = view;
    const webview = view.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    webview.html = this.html(webview);
    this.viewScope.push(
      webview.onDidReceiveMessage((m: unknown) => this.receive(m)),
      // retainContextWhenHidden is off: a hidden view loses its page and says `ready` again when shown.
      view.onDidChangeVisibility(() => {
        if (!view.visible) this.ready = false;
      }),
      view.onDidDispose(() => {
        if (this.view === view) this.disposeView();
      }),
    );
  }

  /** Posts when the page is there to receive; otherwise the full state goes out on the next `ready`. */
  post(message: HostMessage): void {
    if (!this.view || !this.ready) return;
    void this.view.webview.postMessage(message);
  }

  private receive(m: unknown): void {
    if (isReadyMessage(m)) {
      this.ready = true;
      const state = this.host.state();
      this.post({ type: 'state', state });
      this.host.sentState(state);
    } else if (isSelectHeadMessage(m)) {
      this.host.selectHead(m.selection);
    } else if (isSelectModeMessage(m)) {
      this.host.selectMode(m.mode);
    } else if (isRevealTokenMessage(m)) {
      this.host.reveal(m.documentId, m.token);
    } else if (isRequestFadingMessage(m)) {
      this.host.requestFading(m.documentId);
    } else if (isDrawTimingMessage(m)) {
      this.host.recordTiming(m.what, m.ms, m.tokens, m.bins);
    } else {
      this.log.warn(`panel: ignored an invalid message: ${JSON.stringify(m)?.slice(0, 200)}`);
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'main.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'panel.css'));
    const csp = [
      "default-src 'none'",
      // The nonce lets the toolkit's feature probe (an empty <style> tagged from the csp-nonce meta) pass.
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>Attention Lens</title>
</head>
<body>
<main id="app" data-testid="attention-panel" aria-label="Attention Lens"></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  private disposeView(): void {
    this.ready = false;
    this.view = undefined;
    while (this.viewScope.length) this.viewScope.pop()?.dispose();
  }

  dispose(): void {
    this.disposeView();
  }
}
