// The panel's page, shown in the bottom panel (quick looks) and in an editor tab (full size): the
// host says which (body data-host), and the layout uses the space it gets. Receives typed messages
// (src/protocol.ts; page-state.ts validates and applies them) and draws: controls, heatmap (or
// Compare: two modes side by side and their difference), head grid with roles, fading chart,
// needle, token strip. Says
// `ready` on load; the host answers with the full state. What must survive the page being
// discarded while hidden (zoom, selected token) goes to vscode.setState.
//
// data-testid attributes, for the UI tests:
//   attention-panel   the page root (<main>); data-host "panel" or "editor"
//   mode-select       attention dropdown (Softmax / SSMax / SSMax on Softmax weights)
//   head-select       head dropdown ("all heads: mean", "all heads: max", "L1 H1", ...)
//   compare-toggle    button turning Compare on and off (aria-pressed)
//   needle-button     button: needle of the editor's selection
//   zoom-reset        button resetting the heatmap zoom
//   panel-status      document label, token count, busy/error text
//   heatmap           the heatmap <canvas>
//   heatmap-readout   text under the heatmap: "query #12 "x" → key #3 "y": weight 0.412"
//                     (screening: "relevance"); map-legend the relevance map's key (screening)
//   compare-view      Compare: compare-map-a, compare-map-b, compare-diff (canvases),
//                     compare-readout (weight under each mode), compare-note, compare-mode-a/-b,
//                     compare-focus-strip (two canvases), compare-chart
//   head-grid         the grid of heads; head-cell: one per layer and head,
//                     aria-label "L2 H3, mean focus 0.412, role local (score 0.61)",
//                     data-layer / data-head 0-based, data-role; head-role: its role tag.
//                     Screening: one head-cell per layer and tile, aria-label "L3 H5, tile 5 of
//                     layer 3: window 17.5, acceptance 0.65, 2.1 % of the keys in its window
//                     pass", tile-window / tile-acceptance / tile-pass its lines, no roles;
//                     tile-note the line above saying why
//   fading-view       the fading section's tabs and charts (fading-view.ts); fading-chart the
//                     mean focus chart (<figure>, legend names each mode)
//   needle-view       the needle section; needle-chart its chart, needle-caption its text,
//                     needle-heads the small multiple of every head (needle-view.ts)
//   token-strip       the token strip; token: one span per token, data-i = token index
//                     (class finds-nothing: a screening query with total relevance 0);
//                     cursor-info: the cursor token's passes and total relevance (screening)
import { MODE_LABELS, isHeadSelection, isRelevance } from '../shared/vocabulary';
import type { PanelState, WebviewMessage } from '../protocol';
import { CompareView } from './compare-view';
import { FadingView } from './fading-view';
import { HeadGrid } from './head-grid';
import type { Zoom } from './heatmap';
import { Heatmap } from './heatmap';
import { NeedleView } from './needle-view';
import { compareSide, singleSide } from './layout';
import type { SavedState } from './page-state';
import { applyMessage, fadingMissing, headChoices, readSaved, statusText } from './page-state';
import { onThemeChange } from './theme-color';
import { ColorLegend, MapKey } from './color-legend';
import { cursorText } from './screening-text';
import { TokenStrip } from './token-strip';
import { createButton, createDropdown } from './toolkit/controls';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: SavedState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const saved = readSaved(vscode.getState());
const inEditor = document.body.dataset.host === 'editor';

let state: PanelState | undefined;
let fadingAsked = -1;
/** The zoom region asked for last: only its answer is drawn. */
let regionAsked = 0;

const app = document.getElementById('app') ?? document.body;
app.dataset.host = inEditor ? 'editor' : 'panel';
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
const compareToggle = createButton('compare-toggle', 'Compare', () => vscode.postMessage({ type: 'setCompare', compare: { on: !state?.compare } }));
const needleButton = createButton('needle-button', 'Needle', () => vscode.postMessage({ type: 'needleRequest' }));
needleButton.title = 'How much attention reaches the text selected in the editor, from every later token, under each mode';

const legend = new ColorLegend();
const mapKey = new MapKey();
const cursorInfo = document.createElement('p');
cursorInfo.className = 'cursor-info';
cursorInfo.dataset.testid = 'cursor-info';
cursorInfo.setAttribute('aria-live', 'polite');
cursorInfo.hidden = true;
const strip = new TokenStrip((token) => {
  save();
  reveal(token);
});
const heatmap = new Heatmap({
  testId: 'heatmap',
  title: 'Attention map',
  side: () => singleSide(inEditor, window.innerWidth, window.innerHeight),
  onRevealQuery: reveal,
  onZoom: () => {
    save();
    requestRegion();
  },
  onDrawn: (ms, bins) => {
    if (state?.probe && state.document) vscode.postMessage({ type: 'drawTiming', documentId: state.document.id, what: 'heatmap', ms, tokens: state.document.texts.length, bins });
  },
});
const compare = new CompareView({
  side: () => compareSide(inEditor, window.innerWidth, window.innerHeight),
  onModes: (modes) => vscode.postMessage({ type: 'setCompare', compare: { on: true, modes } }),
  onRevealQuery: reveal,
  onZoom: () => save(),
});
const zoomReset = createButton('zoom-reset', 'Reset zoom', () => {
  heatmap.setZoom(undefined);
  if (state?.compare && state.document) compare.set(state.compare, state.document, state.modes, undefined);
});
const grid = new HeadGrid((selection) => vscode.postMessage({ type: 'selectHead', selection }));
const fading = new FadingView();
const needleView = new NeedleView();

const mapSection = section('Attention map', heatmap.element, mapKey.element);
const headsSection = section('Heads', grid.note, grid.element);
const fadingSection = section('Fading', fading.element);
const needleSection = section('Needle', needleView.caption, needleView.chart.element, needleView.relevanceChart.element, needleView.heads);
needleSection.dataset.testid = 'needle-view';
needleSection.classList.add('needle');

layout();
window.addEventListener('message', (e: MessageEvent<unknown>) => receive(e.data));
onThemeChange(() => redrawAll());
new ResizeObserver(() => redrawAll()).observe(document.body);
strip.element.addEventListener('scroll', () => save(), { passive: true });
vscode.postMessage({ type: 'ready' });

function layout(): void {
  const controls = document.createElement('header');
  controls.className = 'controls';
  controls.append(modeSelect.element, headSelect.element, compareToggle, needleButton, zoomReset, status);
  const top = document.createElement('section');
  top.className = 'views';
  const tokens = section('Tokens', legend.element, cursorInfo, strip.element);
  tokens.classList.add('tokens');
  compare.element.classList.add('view');
  top.append(mapSection, compare.element, headsSection, fadingSection, needleSection, tokens);
  app.append(controls, top);
  renderEmpty();
}

function section(title: string, ...body: HTMLElement[]): HTMLElement {
  const el = document.createElement('section');
  el.className = 'view';
  const h = document.createElement('h2');
  h.textContent = title;
  el.append(h, ...body);
  return el;
}

function reveal(token: number): void {
  if (state?.document) vscode.postMessage({ type: 'revealToken', documentId: state.document.id, token });
}

function receive(m: unknown): void {
  const { state: next, redraw } = applyMessage(state, m);
  state = next;
  switch (redraw.part) {
    case 'all':
      renderControls();
      renderDocument(true);
      break;
    case 'document':
      renderControls();
      renderDocument(false);
      break;
    case 'head':
      renderControls();
      renderHead();
      break;
    case 'cursor':
      strip.setCursor(redraw.token);
      renderCursorInfo();
      break;
    case 'fading':
      renderFading();
      break;
    case 'compare':
      renderControls();
      renderCompare();
      break;
    case 'needle':
      renderNeedle();
      break;
    case 'region':
      if (redraw.region.requestId === regionAsked) heatmap.setDetail(redraw.region);
      break;
    case 'status':
      renderStatus();
      break;
    case 'invalid':
      console.warn('Attention Lens panel: ignored an invalid message', m);
      break;
  }
}

function renderControls(): void {
  if (!state) return;
  modeSelect.set(
    state.modes.map((m) => ({ value: m, label: MODE_LABELS[m] })),
    state.mode,
  );
  const heads = headChoices(state.document, state.selection);
  headSelect.set(heads.choices, heads.value);
  compareToggle.setAttribute('aria-pressed', String(state.compare !== undefined));
  compareToggle.classList.toggle('pressed', state.compare !== undefined);
  compareToggle.textContent = state.compare ? 'Compare: on' : 'Compare';
  renderStatus();
}

function renderStatus(): void {
  if (!state) return;
  status.textContent = statusText(state);
  status.classList.toggle('error', state.error !== undefined);
}

function renderEmpty(): void {
  strip.setTokens([]);
  legend.clear();
  mapKey.element.hidden = true;
  cursorInfo.hidden = true;
  fading.render([], 0);
  compare.element.hidden = true;
  needleSection.hidden = true;
}

function renderDocument(restoring: boolean): void {
  const doc = state?.document;
  if (!state || !doc) {
    renderEmpty();
    return;
  }
  renderGrid();
  strip.setTokens(doc.texts);
  renderHead(restoring ? saved.zoom : heatmap.currentZoom);
  if (state.cursorToken >= 0) strip.setCursor(state.cursorToken);
  if (restoring) {
    if (saved.activeToken !== undefined && saved.activeToken < doc.texts.length) strip.setActive(saved.activeToken);
    if (saved.scrollTop !== undefined) strip.element.scrollTop = saved.scrollTop;
  }
  renderFading();
  renderCompare(restoring ? saved.zoom : compare.zoom);
  renderNeedle();
}

function renderGrid(): void {
  const doc = state?.document;
  if (!doc) return;
  renderTitles(isRelevance(doc.mode));
  grid.setHeads(doc, inEditor ? 72 : 56);
  if (state) grid.setSelection(state.selection);
}

/** Section titles name the quantity: screening's numbers are relevances, its units tiles. */
function renderTitles(relevance: boolean): void {
  title(mapSection, relevance ? 'Relevance map' : 'Attention map');
  title(headsSection, relevance ? 'Tiles' : 'Heads');
}

function title(el: HTMLElement, text: string): void {
  const h = el.querySelector('h2');
  if (h) h.textContent = text;
}

/** Screening: what the editor's cursor token passes under the selection. */
function renderCursorInfo(): void {
  const doc = state?.document;
  const head = state?.head;
  const text = doc && head && head.documentId === doc.id && state ? cursorText(head, state.cursorToken, doc.texts[state.cursorToken] ?? '') : undefined;
  const relevance = head?.relevance !== undefined;
  cursorInfo.hidden = !relevance;
  cursorInfo.textContent = text ?? 'Put the editor cursor in the inspected text: its token’s passes and total relevance show here.';
}

function renderHead(zoom: Zoom | undefined = heatmap.currentZoom): void {
  const doc = state?.document;
  const head = state?.head;
  if (!state || !doc || !head || head.documentId !== doc.id) return;
  grid.setSelection(state.selection);
  const relevance = head.relevance;
  const started = performance.now();
  const steps = strip.setFocus(head.focus, head.scale, relevance?.total);
  legend.set(steps, relevance?.total.reduce((n, v) => n + (v === 0 ? 1 : 0), 0));
  if (state.probe) vscode.postMessage({ type: 'drawTiming', documentId: doc.id, what: 'strip', ms: performance.now() - started, tokens: doc.texts.length, bins: head.bins });
  mapKey.element.hidden = relevance === undefined;
  renderCursorInfo();
  heatmap.setData(
    { pooled: head.pooled, bins: head.bins, binSize: head.binSize, texts: doc.texts, ...(relevance ? { relevance: true, title: `Relevance map, ${MODE_LABELS[doc.mode]}` } : {}) },
    zoom,
  );
  requestRegion();
  reportShown();
}

/** A zoomed single map asks the host for its region at full resolution (pooled cells meanwhile). */
function requestRegion(): void {
  const z = heatmap.currentZoom;
  const doc = state?.document;
  const head = state?.head;
  regionAsked++;
  if (!state || !z || !doc || !head || head.binSize <= 1) return;
  const T = doc.texts.length;
  const b = head.binSize;
  vscode.postMessage({
    type: 'regionRequest',
    request: { requestId: regionAsked, documentId: doc.id, selection: state.selection, q0: z.r0 * b, q1: Math.min(T, z.r1 * b), k0: z.c0 * b, k1: Math.min(T, z.c1 * b) },
  });
}

/** Compare replaces the single map and the fading chart while on. */
function renderCompare(zoom: Zoom | undefined = compare.zoom): void {
  const on = state?.compare !== undefined;
  compare.element.hidden = !on;
  mapSection.hidden = on;
  fadingSection.hidden = on;
  app.classList.toggle('comparing', on);
  if (state?.compare && state.document) compare.set(state.compare, state.document, state.modes, zoom);
  else if (!on) heatmap.draw();
  reportShown();
}

function renderFading(): void {
  const doc = state?.document;
  if (!state || !doc) return;
  fading.render(state.fading, doc.texts.length);
  // Ask once per document: the host computes the other mode in the background and answers.
  if (fadingMissing(state, doc.mode) && fadingAsked !== doc.id) {
    fadingAsked = doc.id;
    vscode.postMessage({ type: 'requestFading', documentId: doc.id });
  }
}

function renderNeedle(): void {
  const needle = state?.needle;
  const doc = state?.document;
  needleSection.hidden = !needle || !doc;
  if (!needle || !doc) return;
  needleView.render(needle, doc.texts.length, doc.heads, isRelevance(doc.mode));
  reportShown();
}

/** Tests (probe on) read what each page draws. */
function reportShown(): void {
  const doc = state?.document;
  if (!state?.probe || !doc) return;
  vscode.postMessage({
    type: 'shown',
    documentId: doc.id,
    mode: doc.mode,
    selection: state.selection,
    compare: state.compare ? [...state.compare.modes] : [],
    maps: state.compare ? compare.mapsShown : 1,
    needlePoints: state.needle ? Math.max(0, ...state.needle.series.map((s) => s.values.length)) : 0,
    roles: doc.roles.length,
  });
}

function redrawAll(): void {
  renderGrid();
  if (state?.compare) compare.draw();
  else heatmap.draw();
}

function save(): void {
  vscode.setState({ zoom: state?.compare ? compare.zoom : heatmap.currentZoom, activeToken: strip.activeToken, scrollTop: strip.element.scrollTop });
}
