// The panel's pages: the same webview page shown in two places, the bottom panel (a WebviewView,
// for quick looks) and an editor tab beside the code (a WebviewPanel, full size). A PanelPage
// serves the page under a strict CSP, validates every message from it, and posts typed messages
// (full state on `ready`, then only changes). PanelController drives every page alike.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import type { CompareRequest, HostMessage, PagePlace, PanelState, RegionRequest, ShownMessage } from '../protocol';
import {
  isDrawTimingMessage,
  isNeedleRequestMessage,
  isReadyMessage,
  isRegionRequestMessage,
  isRequestFadingMessage,
  isRevealTokenMessage,
  isSelectHeadMessage,
  isSelectModeMessage,
  isSetCompareMessage,
  isShownMessage,
} from '../protocol';

export const PANEL_VIEW_ID = 'attentionLens.panel';
export const EDITOR_PANEL_TYPE = 'attentionLens.editor';

/** What a page asks of the rest of the extension. */
export interface PageRequests {
  state(): PanelState;
  /** The full state went out to this page: later messages are changes to it. */
  sentState(state: PanelState): void;
  selectHead(selection: HeadSelection): void;
  selectMode(mode: Mode): void;
  reveal(documentId: number, token: number): void;
  requestFading(documentId: number): void;
  setCompare(request: CompareRequest): void;
  needle(): void;
  region(page: PanelPage, request: RegionRequest): void;
  recordTiming(what: 'heatmap' | 'strip', ms: number, tokens: number, bins: number): void;
  recordShown(page: PanelPage, shown: ShownMessage): void;
}

/** One webview showing the panel's page. */
export class PanelPage implements vscode.Disposable {
  /** True between the page's `ready` and its disposal or hiding: only then can messages land. */
  private ready = false;
  private readonly scope: vscode.Disposable[] = [];

  constructor(
    readonly where: PagePlace,
    private readonly webview: vscode.Webview,
    extensionUri: vscode.Uri,
    private readonly host: PageRequests,
    private readonly log: vscode.LogOutputChannel,
  ) {
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
    webview.html = pageHtml(webview, extensionUri, where);
    this.scope.push(webview.onDidReceiveMessage((m: unknown) => this.receive(m)));
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** The page was discarded (hidden without retained context): it says `ready` again when shown. */
  lost(): void {
    this.ready = false;
  }

  /** Posts when the page is there to receive; otherwise the full state goes out on the next `ready`. */
  post(message: HostMessage): void {
    if (this.ready) void this.webview.postMessage(message);
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
    } else if (isSetCompareMessage(m)) {
      this.host.setCompare(m.compare);
    } else if (isNeedleRequestMessage(m)) {
      this.host.needle();
    } else if (isRegionRequestMessage(m)) {
      this.host.region(this, m.request);
    } else if (isDrawTimingMessage(m)) {
      this.host.recordTiming(m.what, m.ms, m.tokens, m.bins);
    } else if (isShownMessage(m)) {
      this.host.recordShown(this, m);
    } else {
      this.log.warn(`panel: ignored an invalid message: ${JSON.stringify(m)?.slice(0, 200)}`);
    }
  }

  dispose(): void {
    this.ready = false;
    while (this.scope.length) this.scope.pop()?.dispose();
  }
}

/** The bottom panel's view: VS Code resolves it when first shown, and again after it was disposed. */
export class PanelViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private page: PanelPage | undefined;
  private readonly scope: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: PageRequests,
    private readonly log: vscode.LogOutputChannel,
    private readonly onPage: (page: PanelPage | undefined) => void,
  ) {}

  get current(): PanelPage | undefined {
    return this.page;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposePage();
    const page = new PanelPage('panel', view.webview, this.extensionUri, this.host, this.log);
    this.page = page;
    this.scope.push(
      // retainContextWhenHidden is off for the bottom view: a hidden view loses its page and says `ready` again when shown.
      view.onDidChangeVisibility(() => {
        if (!view.visible) page.lost();
      }),
      view.onDidDispose(() => {
        if (this.page === page) this.disposePage();
      }),
    );
    this.onPage(page);
  }

  private disposePage(): void {
    this.page?.dispose();
    this.page = undefined;
    while (this.scope.length) this.scope.pop()?.dispose();
    this.onPage(undefined);
  }

  dispose(): void {
    this.disposePage();
  }
}

/** The editor tab: one at a time; opening it again reveals it. Its page is kept while hidden. */
export class EditorPanel implements vscode.Disposable {
  readonly page: PanelPage;
  private readonly panel: vscode.WebviewPanel;
  private readonly scope: vscode.Disposable[] = [];

  constructor(extensionUri: vscode.Uri, host: PageRequests, log: vscode.LogOutputChannel, onDisposed: () => void) {
    this.panel = vscode.window.createWebviewPanel(
      EDITOR_PANEL_TYPE,
      'Attention Lens',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      // Kept while hidden: switching tabs back shows the same zoom, scroll and compare state at once.
      { retainContextWhenHidden: true },
    );
    this.panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    this.page = new PanelPage('editor', this.panel.webview, extensionUri, host, log);
    this.scope.push(
      this.panel.onDidDispose(() => {
        this.page.dispose();
        while (this.scope.length) this.scope.pop()?.dispose();
        onDisposed();
      }),
    );
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  dispose(): void {
    this.panel.dispose();
  }
}

function pageHtml(webview: vscode.Webview, extensionUri: vscode.Uri, where: PagePlace): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'main.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'panel.css'));
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
<body class="host-${where}" data-host="${where}">
<main id="app" data-testid="attention-panel" aria-label="Attention Lens"></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}
