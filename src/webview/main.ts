// The side panel's page. Receives typed messages (src/protocol.ts), validates each, and draws:
// controls, heatmap, head grid, fading chart, token strip. Says `ready` on load; the host answers
// with the full state. What must survive hiding (zoom, selected token) goes to vscode.setState.
//
// data-testid attributes, for the UI tests:
//   attention-panel   the page root (<main>)
//   mode-select       attention dropdown (Softmax / SSMax / SSMax on Softmax weights)
//   head-select       head dropdown ("all heads: mean", "all heads: max", "L1 H1", ...)
//   zoom-reset        button resetting the heatmap zoom
//   panel-status      document label, token count, busy/error text
//   heatmap           the heatmap <canvas>
//   heatmap-readout   text under the heatmap: "query #12 "x" → key #3 "y": weight 0.412"
//   head-grid         the grid of heads; head-cell: one per layer and head,
//                     aria-label "L2 H3, mean focus 0.412", data-layer / data-head 0-based
//   fading-chart      the fading chart (<figure>, legend names each mode)
//   token-strip       the token strip; token: one span per token, data-i = token index
import type { HeadSelection } from '../shared/vocabulary';
import { MODE_LABELS, allSelections, isHeadSelection, selectionLabel } from '../shared/vocabulary';
import type { FadingSeries, PanelDocument, PanelHead, PanelState, WebviewMessage } from '../protocol';
import { isCursorMessage, isDocumentMessage, isFadingMessage, isHeadMessage, isStateMessage, isStatusMessage } from '../protocol';
import { FadingChart } from './fading-chart';
import { HeadGrid } from './head-grid';
import type { Zoom } from './heatmap';
import { Heatmap } from './heatmap';
import { onThemeChange } from './theme-color';
import { TokenStrip } from './token-strip';
import type { Choice } from './toolkit/controls';
import { createButton, createDropdown } from './toolkit/controls';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: SavedState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** What survives the page being discarded while hidden. */
interface SavedState {
  zoom?: Zoom;
  activeToken?: number;
  scrollTop?: number;
}

const vscode = acquireVsCodeApi();
const saved = readSaved(vscode.getState());

let state: PanelState | undefined;
let fadingAsked = -1;

const app = document.getElementById('app') ?? document.body;
const status = document.createElement('div');
status.className = 'panel-status';
status.dataset.testid = 'panel-status';
status.setAttribute('aria-live', 'polite');

const modeSelect = createDropdown('mode-select', 'Attention', (value) => {
  const mode = state?.modes.find((m) => m === value);
  if (mode) vscode.postMessage({ type: 'selectMode', mode });
});
const headSelect = createDropdown('head-select', 'Layer and head', (value) => {
  const sel: unknown = JSON.parse(value);
  if (isHeadSelection(sel)) vscode.postMessage({ type: 'selectHead', selection: sel });
});

const strip = new TokenStrip((token) => {
  save();
  if (state?.document) vscode.postMessage({ type: 'revealToken', documentId: state.document.id, token });
});
const heatmap = new Heatmap(
  (token) => {
    if (state?.document) vscode.postMessage({ type: 'revealToken', documentId: state.document.id, token });
  },
  (ms, bins) => {
    if (state?.probe && state.document) vscode.postMessage({ type: 'drawTiming', documentId: state.document.id, what: 'heatmap', ms, tokens: state.document.texts.length, bins });
  },
  () => save(),
);
const zoomReset = createButton('zoom-reset', 'Reset zoom', () => heatmap.setZoom(undefined));
const grid = new HeadGrid((selection) => vscode.postMessage({ type: 'selectHead', selection }));
const chart = new FadingChart();

layout();
window.addEventListener('message', (e: MessageEvent<unknown>) => receive(e.data));
onThemeChange(() => redrawAll());
new ResizeObserver(() => redrawAll()).observe(document.body);
strip.element.addEventListener('scroll', () => save(), { passive: true });
vscode.postMessage({ type: 'ready' });

function layout(): void {
  const controls = document.createElement('header');
  controls.className = 'controls';
  controls.append(modeSelect.element, headSelect.element, zoomReset, status);
  const top = document.createElement('section');
  top.className = 'views';
  const tokens = section('Tokens', strip.element);
  tokens.classList.add('tokens');
  top.append(section('Attention map', heatmap.element), section('Heads', grid.element), section('Fading', chart.element), tokens);
  app.append(controls, top);
  renderEmpty();
}

function section(title: string, body: HTMLElement): HTMLElement {
  const el = document.createElement('section');
  el.className = 'view';
  const h = document.createElement('h2');
  h.textContent = title;
  el.append(h, body);
  return el;
}

function receive(m: unknown): void {
  if (isStateMessage(m)) {
    state = m.state;
    renderControls();
    renderDocument(true);
  } else if (!state) {
    return;
  } else if (isDocumentMessage(m)) {
    state.document = m.document;
    state.head = m.head;
    state.mode = m.mode;
    state.fading = [];
    renderControls();
    renderDocument(false);
  } else if (isHeadMessage(m)) {
    state.selection = m.selection;
    if (state.document && m.head.documentId === state.document.id) state.head = m.head;
    renderControls();
    renderHead();
  } else if (isCursorMessage(m)) {
    if (state.document && m.documentId === state.document.id) {
      state.cursorToken = m.token;
      strip.setCursor(m.token);
    }
  } else if (isFadingMessage(m)) {
    if (state.document && m.documentId === state.document.id) {
      state.fading = m.fading;
      renderFading();
    }
  } else if (isStatusMessage(m)) {
    state.busy = m.busy;
    state.error = m.error;
    state.followCursor = m.followCursor;
    renderStatus();
  } else {
    console.warn('Attention Lens panel: ignored an invalid message', m);
  }
}

function renderControls(): void {
  if (!state) return;
  modeSelect.set(
    state.modes.map((m) => ({ value: m, label: MODE_LABELS[m] })),
    state.mode,
  );
  const doc = state.document;
  const choices: Choice[] = allSelections(doc?.layers ?? 0, doc?.heads ?? 0).map((sel) => ({ value: JSON.stringify(sel), label: selectionLabel(sel) }));
  headSelect.set(choices, JSON.stringify(canonical(state.selection)));
  renderStatus();
}

/** Key order fixed, so that a selection compares equal to its dropdown value. */
function canonical(sel: HeadSelection): HeadSelection {
  return sel.kind === 'head' ? { kind: 'head', layer: sel.layer, head: sel.head } : { kind: 'aggregate', how: sel.how };
}

function renderStatus(): void {
  if (!state) return;
  const doc = state.document;
  const parts = doc
    ? [`${doc.label} · ${MODE_LABELS[doc.mode]} · ${doc.texts.length} tokens${doc.windowed ? ` (window of ${doc.documentTokens})` : ''}`]
    : ['Run "Attention Lens: Inspect Current Document" to fill this panel.'];
  if (state.busy) parts.push('inspecting…');
  if (state.error) parts.push(`error: ${state.error}`);
  if (state.followCursor) parts.push('following the cursor');
  status.textContent = parts.join(' · ');
  status.classList.toggle('error', state.error !== undefined);
}

function renderEmpty(): void {
  strip.setTokens([]);
  chart.render([], 0);
}

function renderDocument(restoring: boolean): void {
  const doc = state?.document;
  if (!state || !doc) {
    renderEmpty();
    return;
  }
  grid.setHeads(doc.layers, doc.heads, doc.headMeans, doc.thumbSize, doc.thumbs);
  strip.setTokens(doc.texts);
  renderHead(restoring ? saved.zoom : heatmap.currentZoom);
  if (state.cursorToken >= 0) strip.setCursor(state.cursorToken);
  if (restoring) {
    if (saved.activeToken !== undefined && saved.activeToken < doc.texts.length) strip.setActive(saved.activeToken);
    if (saved.scrollTop !== undefined) strip.element.scrollTop = saved.scrollTop;
  }
  renderFading();
}

function renderHead(zoom: Zoom | undefined = heatmap.currentZoom): void {
  const doc = state?.document;
  const head = state?.head;
  if (!state || !doc || !head || head.documentId !== doc.id) return;
  grid.setSelection(state.selection);
  const started = performance.now();
  strip.setFocus(head.focus, head.scale);
  if (state.probe) vscode.postMessage({ type: 'drawTiming', documentId: doc.id, what: 'strip', ms: performance.now() - started, tokens: doc.texts.length, bins: head.bins });
  heatmap.setData({ pooled: head.pooled, bins: head.bins, binSize: head.binSize, texts: doc.texts }, zoom);
}

function renderFading(): void {
  const doc = state?.document;
  if (!state || !doc) return;
  chart.render(state.fading, doc.texts.length);
  const have = new Set(state.fading.map((f: FadingSeries) => f.mode));
  const missing = state.modes.some((m) => m !== 'ssmax-posthoc' && !have.has(m));
  // Ask once per document: the host computes the other mode in the background and answers.
  if (missing && fadingAsked !== doc.id) {
    fadingAsked = doc.id;
    vscode.postMessage({ type: 'requestFading', documentId: doc.id });
  }
}

function redrawAll(): void {
  const doc: PanelDocument | undefined = state?.document;
  const head: PanelHead | undefined = state?.head;
  if (doc) grid.setHeads(doc.layers, doc.heads, doc.headMeans, doc.thumbSize, doc.thumbs);
  if (state && head) grid.setSelection(state.selection);
  heatmap.draw();
}

function save(): void {
  vscode.setState({ zoom: heatmap.currentZoom, activeToken: strip.activeToken, scrollTop: strip.element.scrollTop });
}

function readSaved(raw: unknown): SavedState {
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const z = r.zoom as Record<string, unknown> | undefined;
  const zoom =
    z && ['r0', 'r1', 'c0', 'c1'].every((k) => Number.isInteger(z[k]) && (z[k] as number) >= 0) && (z.r1 as number) > (z.r0 as number) && (z.c1 as number) > (z.c0 as number)
      ? { r0: z.r0 as number, r1: z.r1 as number, c0: z.c0 as number, c1: z.c1 as number }
      : undefined;
  return {
    zoom,
    activeToken: Number.isInteger(r.activeToken) ? (r.activeToken as number) : undefined,
    scrollTop: typeof r.scrollTop === 'number' ? r.scrollTop : undefined,
  };
}
