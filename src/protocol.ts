// Every message between the extension host and the side panel's webview, typed, with a guard per
// message. The webview says `ready`; the host answers with the full state; later only changes
// travel. Both sides validate what they receive: a webview is a browser page, trust nothing.
// Imports only the shared vocabulary: the webview bundle holds nothing else from the host side.
import type { ColorScale } from './shared/color-scale';
import { isColorScale } from './shared/color-scale';
import type { HeadSelection, Mode } from './shared/vocabulary';
import { isHeadSelection, isIndex, isMode, isRelevance } from './shared/vocabulary';

/** The inspected document as the panel draws it; sent when an inspection lands. */
export interface PanelDocument {
  /** Changes with every inspection; later messages name it so that stale ones are dropped. */
  id: number;
  label: string;
  mode: Mode;
  layers: number;
  heads: number;
  windowed: boolean;
  documentTokens: number;
  /** True when documentTokens is estimated (a long document is tokenized only around its window). */
  documentTokensEstimated: boolean;
  texts: string[];
  /** [token]: document offset of the token's start. */
  starts: Int32Array;
  /** [layer * heads + head]: mean focus of each head. */
  headMeans: Float32Array;
  /**
   * [layer * heads + head]: what each head does on this document (core/reading/head-roles.ts), and
   * its score in [0, 1]. Empty under screening: the role rules read normalised rows, relevance rows are not.
   */
  roles: string[];
  roleScores: Float32Array;
  /** Head grid thumbnails: [layer][head][row][col], thumbSize a side, max-pooled from the pooled map. */
  thumbSize: number;
  thumbs: Float32Array;
  /** [layer]: a sliding layer's window, null for full attention; absent when no layer slides. */
  windows?: (number | null)[];
  /** Screening only, [layer * tiles + tile]: each tile's window w (Infinity: every earlier key), acceptance width r, and share of the keys in its window that pass (core/reading/relevance.ts). */
  tiles?: { window: Float32Array; acceptance: Float32Array; passShare: Float32Array };
}

/** The selected head's data for the current document; sent with the document and on every selection change. */
export interface PanelHead {
  documentId: number;
  selection: HeadSelection;
  /** [token]: focus of each token under the selection. */
  focus: Float32Array;
  /** attentionLens.colorScale: the token strip colours tokens exactly as the editor overlay does. */
  scale: ColorScale;
  /** Tokens per pooled bin, bins a side, and the bins x bins map (row = query bin, col = key bin). */
  binSize: number;
  bins: number;
  pooled: Float32Array;
  /** Screening only, [token]: keys that pass, keys in the window and total relevance of each query; an aggregate gives the mean over tiles. */
  relevance?: { passCount: Float32Array; keys: Float32Array; total: Float32Array };
}

/** The fading tabs' curves of one mode: attention weights (AttentionFading) or screening's relevance (RelevanceFading), never on one axis. */
export type FadingSeries = AttentionFading | RelevanceFading;

export interface AttentionFading {
  quantity: 'weight';
  mode: Mode;
  /** [bucket]: first token index of each position bucket. */
  starts: Int32Array;
  /** [bucket]: mean focus over every layer, head and query in the bucket. */
  meanFocus: Float32Array;
  /** The head (or mean over heads) the metrics below describe (core/reading/fading-metrics.ts). */
  selection: HeadSelection;
  /** [bucket]: mean entropy / ln(keys seen); exact. */
  entropyRatio: Float32Array;
  /** [bucket]: median exact keys holding 90 % of the weight, over the tokens measured (one in supportStride); NaN where none was. */
  supportSize: Float32Array;
  /** The support size is measured on the tokens at multiples of this (the pooling bin; 1 = every token). */
  supportStride: number;
  /** [bucket]: mean weight on token 0; exact. */
  sinkMass: Float32Array;
  /** Distance bucket labels ("0", "1-7", ...), and [bucket][label] the mean exact mass at that distance. */
  distanceLabels: string[];
  distanceMass: Float32Array;
}

/** Screening's curves (core/reading/relevance.ts): entropy, support and mass shares mean nothing for unnormalised rows. */
export interface RelevanceFading {
  quantity: 'relevance';
  mode: Mode;
  /** [bucket]: first token index of each position bucket. */
  starts: Int32Array;
  /** The tile (or mean over tiles) the curves describe. */
  selection: HeadSelection;
  /** [bucket]: keys that pass over keys in the window, summed over the bucket's queries. */
  passShare: Float32Array;
  /** [bucket]: mean total relevance of a query. */
  totalRelevance: Float32Array;
  /** [bucket]: mean largest relevance of a query (its focus). */
  largest: Float32Array;
}

/** Where a page is shown: the bottom panel (quick looks) or an editor tab (full size). */
export type PagePlace = 'panel' | 'editor';

/** Two modes of the same window side by side, for the selected head or aggregate. */
export interface PanelCompare {
  documentId: number;
  modes: [Mode, Mode];
  /** Both modes run the same weights, so head L H is the same head in both; else heads match by index only. */
  sameWeights: boolean;
  /** The selected head under each mode, in the order of `modes`; absent while the other mode runs. */
  heads?: [PanelHead, PanelHead];
  /** Why a comparison cannot be shown (e.g. the window left the cache). */
  error?: string;
}

/** Turn Compare on (with a pair of modes, or the default pair) or off. */
export interface CompareRequest {
  on: boolean;
  modes?: [Mode, Mode];
}

export interface NeedleSeries {
  mode: Mode;
  /** [point]: first query token of the point (points are max-pooled buckets of queries). */
  starts: Int32Array;
  /** [point]: attention mass on the span from the best head, the largest in the bucket. */
  values: Float32Array;
  /** Exact weights (core/reading/span-mass.ts) or each query's top-k keys (a lower bound). */
  exact: boolean;
  /** layer * heads + head of the head with the largest mean mass on the span. */
  bestHead: number;
  /** The small multiple: [curve][point] for the mean, the max, then every head (layer * heads + head), at curveStarts. */
  curveStarts: Int32Array;
  curves: Float32Array;
}

/** How much attention reaches a span of tokens from every later query, under each mode. */
export interface PanelNeedle {
  documentId: number;
  /** Token indices [start, end). */
  start: number;
  end: number;
  /** The span's text, shortened. */
  text: string;
  selection: HeadSelection;
  series: NeedleSeries[];
}

/** A zoomed region of the selected head's map, in token indices: queries [q0, q1), keys [k0, k1). */
export interface RegionRequest {
  requestId: number;
  documentId: number;
  selection: HeadSelection;
  q0: number;
  q1: number;
  k0: number;
  k1: number;
}

/** The region at full resolution (cells of qBin x kBin tokens, the largest weight each), or why not. */
export interface PanelRegion {
  requestId: number;
  documentId: number;
  q0: number;
  q1: number;
  k0: number;
  k1: number;
  qBin: number;
  kBin: number;
  rows: number;
  cols: number;
  /** rows x cols; absent when the model worker no longer holds this inspection's keys. */
  data?: Float32Array;
}

export interface PanelState {
  mode: Mode;
  modes: Mode[];
  selection: HeadSelection;
  followCursor: boolean;
  busy: boolean;
  error?: string;
  document?: PanelDocument;
  head?: PanelHead;
  cursorToken: number;
  fading: FadingSeries[];
  compare?: PanelCompare;
  needle?: PanelNeedle;
  /** Measurements are on (tests): the page reports its draw timings. */
  probe: boolean;
}

// Host -> webview notifications.
export const STATE = 'state';
export const DOCUMENT = 'document';
export const HEAD = 'head';
export const CURSOR = 'cursor';
export const FADING = 'fading';
export const STATUS = 'status';
export const COMPARE = 'compare';
export const NEEDLE = 'needle';
export const REGION = 'region';

export interface StateMessage { type: typeof STATE; state: PanelState }
export interface DocumentMessage { type: typeof DOCUMENT; document: PanelDocument | undefined; head: PanelHead | undefined; mode: Mode }
export interface HeadMessage { type: typeof HEAD; head: PanelHead; selection: HeadSelection }
export interface CursorMessage { type: typeof CURSOR; documentId: number; token: number }
export interface FadingMessage { type: typeof FADING; documentId: number; fading: FadingSeries[] }
export interface StatusMessage { type: typeof STATUS; busy: boolean; error?: string; followCursor: boolean }

export interface CompareMessage { type: typeof COMPARE; compare: PanelCompare | undefined }
export interface NeedleMessage { type: typeof NEEDLE; needle: PanelNeedle | undefined }
export interface RegionMessage { type: typeof REGION; region: PanelRegion }

export type HostMessage = StateMessage | DocumentMessage | HeadMessage | CursorMessage | FadingMessage | StatusMessage | CompareMessage | NeedleMessage | RegionMessage;

// Webview -> host commands.
export const READY = 'ready';
export const SELECT_HEAD = 'selectHead';
export const SELECT_MODE = 'selectMode';
export const REVEAL_TOKEN = 'revealToken';
export const REQUEST_FADING = 'requestFading';
export const DRAW_TIMING = 'drawTiming';
export const SET_COMPARE = 'setCompare';
export const NEEDLE_REQUEST = 'needleRequest';
export const SHOWN = 'shown';
export const REGION_REQUEST = 'regionRequest';

export interface ReadyMessage { type: typeof READY }
export interface SelectHeadMessage { type: typeof SELECT_HEAD; selection: HeadSelection }
export interface SelectModeMessage { type: typeof SELECT_MODE; mode: Mode }
export interface RevealTokenMessage { type: typeof REVEAL_TOKEN; documentId: number; token: number }
export interface RequestFadingMessage { type: typeof REQUEST_FADING; documentId: number }
/** Sent only when PanelState.probe is on. */
export interface DrawTimingMessage { type: typeof DRAW_TIMING; documentId: number; what: 'heatmap' | 'strip'; ms: number; tokens: number; bins: number }
export interface SetCompareMessage { type: typeof SET_COMPARE; compare: CompareRequest }
export interface RegionRequestMessage { type: typeof REGION_REQUEST; request: RegionRequest }
/** Needle for the active editor's selection. */
export interface NeedleRequestMessage { type: typeof NEEDLE_REQUEST }
/** Sent only when PanelState.probe is on: what the page shows after each render. */
export interface ShownMessage { type: typeof SHOWN; documentId: number; mode: Mode; selection: HeadSelection; compare: Mode[]; maps: number; needlePoints: number; roles: number }

export type WebviewMessage =
  | ReadyMessage
  | SetCompareMessage
  | NeedleRequestMessage
  | RegionRequestMessage
  | ShownMessage
  | SelectHeadMessage
  | SelectModeMessage
  | RevealTokenMessage
  | RequestFadingMessage
  | DrawTimingMessage;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isOptionalString(value: unknown): value is string | undefined {
  return value === undefined || typeof value === 'string';
}

export function isReadyMessage(m: unknown): m is ReadyMessage {
  return isRecord(m) && m.type === READY;
}

export function isSelectHeadMessage(m: unknown): m is SelectHeadMessage {
  return isRecord(m) && m.type === SELECT_HEAD && isHeadSelection(m.selection);
}

export function isSelectModeMessage(m: unknown): m is SelectModeMessage {
  return isRecord(m) && m.type === SELECT_MODE && isMode(m.mode);
}

export function isRevealTokenMessage(m: unknown): m is RevealTokenMessage {
  return isRecord(m) && m.type === REVEAL_TOKEN && isId(m.documentId) && isIndex(m.token);
}

export function isRequestFadingMessage(m: unknown): m is RequestFadingMessage {
  return isRecord(m) && m.type === REQUEST_FADING && isId(m.documentId);
}

export function isDrawTimingMessage(m: unknown): m is DrawTimingMessage {
  return (
    isRecord(m) &&
    m.type === DRAW_TIMING &&
    isId(m.documentId) &&
    (m.what === 'heatmap' || m.what === 'strip') &&
    typeof m.ms === 'number' &&
    Number.isFinite(m.ms) &&
    isIndex(m.tokens) &&
    isIndex(m.bins)
  );
}

function isModePair(value: unknown): value is [Mode, Mode] {
  return Array.isArray(value) && value.length === 2 && isMode(value[0]) && isMode(value[1]);
}

export function isSetCompareMessage(m: unknown): m is SetCompareMessage {
  if (!isRecord(m) || m.type !== SET_COMPARE || !isRecord(m.compare)) return false;
  const c = m.compare;
  return typeof c.on === 'boolean' && (c.modes === undefined || isModePair(c.modes));
}

export function isRegionRequestMessage(m: unknown): m is RegionRequestMessage {
  if (!isRecord(m) || m.type !== REGION_REQUEST || !isRecord(m.request)) return false;
  const r = m.request;
  return (
    isId(r.requestId) &&
    isId(r.documentId) &&
    isHeadSelection(r.selection) &&
    [r.q0, r.q1, r.k0, r.k1].every(isIndex) &&
    (r.q1 as number) > (r.q0 as number) &&
    (r.k1 as number) > (r.k0 as number)
  );
}

export function isRegionMessage(m: unknown): m is RegionMessage {
  if (!isRecord(m) || m.type !== REGION || !isRecord(m.region)) return false;
  const r = m.region;
  return (
    [r.requestId, r.documentId, r.q0, r.q1, r.k0, r.k1, r.qBin, r.kBin, r.rows, r.cols].every(isIndex) &&
    (r.data === undefined || (r.data instanceof Float32Array && r.data.length === (r.rows as number) * (r.cols as number)))
  );
}

export function isNeedleRequestMessage(m: unknown): m is NeedleRequestMessage {
  return isRecord(m) && m.type === NEEDLE_REQUEST;
}

export function isShownMessage(m: unknown): m is ShownMessage {
  return (
    isRecord(m) &&
    m.type === SHOWN &&
    isId(m.documentId) &&
    isMode(m.mode) &&
    isHeadSelection(m.selection) &&
    Array.isArray(m.compare) &&
    m.compare.every(isMode) &&
    isIndex(m.maps) &&
    isIndex(m.needlePoints) &&
    isIndex(m.roles)
  );
}

/** Float32Arrays of n values each, every value passing `ok`. */
function isValues(arrays: unknown[], n: number, ok: (v: number) => boolean): boolean {
  return arrays.every((a) => a instanceof Float32Array && a.length === n && a.every(ok));
}

/** Screening's tile facts: w >= 1 (Infinity allowed), 0 < r <= 1, a share in [0, 1]. */
function isTiles(t: unknown, n: number): boolean {
  return isRecord(t) && isValues([t.window], n, (w) => w >= 1) && isValues([t.acceptance], n, (r) => r > 0 && r <= 1) && isValues([t.passShare], n, (p) => p >= 0 && p <= 1);
}

function isPanelDocument(d: unknown): d is PanelDocument {
  if (!isRecord(d)) return false;
  const relevance = isMode(d.mode) && isRelevance(d.mode);
  const ok =
    isId(d.id) &&
    typeof d.label === 'string' &&
    isMode(d.mode) &&
    isIndex(d.layers) &&
    isIndex(d.heads) &&
    typeof d.windowed === 'boolean' &&
    isIndex(d.documentTokens) &&
    typeof d.documentTokensEstimated === 'boolean' &&
    Array.isArray(d.texts) &&
    d.texts.every((t) => typeof t === 'string') &&
    d.starts instanceof Int32Array &&
    d.starts.length === d.texts.length &&
    d.headMeans instanceof Float32Array &&
    d.headMeans.length === d.layers * d.heads &&
    Array.isArray(d.roles) &&
    d.roles.length === (relevance ? 0 : d.headMeans.length) &&
    d.roles.every((r) => typeof r === 'string') &&
    d.roleScores instanceof Float32Array &&
    d.roleScores.length === d.roles.length &&
    (relevance ? isTiles(d.tiles, d.headMeans.length) : d.tiles === undefined) &&
    isIndex(d.thumbSize) &&
    d.thumbs instanceof Float32Array &&
    (d.windows === undefined ||
      (Array.isArray(d.windows) && d.windows.length === d.layers && d.windows.every((w) => w === null || (Number.isInteger(w) && (w as number) >= 1))));
  return ok && (d.thumbs as Float32Array).length === (d.layers as number) * (d.heads as number) * (d.thumbSize as number) ** 2;
}

function isPanelHead(h: unknown): h is PanelHead {
  return (
    isRecord(h) &&
    isId(h.documentId) &&
    isHeadSelection(h.selection) &&
    h.focus instanceof Float32Array &&
    isColorScale(h.scale) &&
    isIndex(h.binSize) &&
    isIndex(h.bins) &&
    h.pooled instanceof Float32Array &&
    h.pooled.length === (h.bins as number) * (h.bins as number) &&
    (h.relevance === undefined || (isRecord(h.relevance) && isValues([h.relevance.passCount, h.relevance.keys, h.relevance.total], h.focus.length, (v) => v >= 0)))
  );
}

/** Weights in one shape, relevance in the other; each series' quantity must be its mode's. */
function isFadingSeries(f: unknown): f is FadingSeries {
  if (!isRecord(f) || !isMode(f.mode) || !(f.starts instanceof Int32Array) || !isHeadSelection(f.selection)) return false;
  const n = f.starts.length;
  if (isRelevance(f.mode)) return f.quantity === 'relevance' && isValues([f.passShare, f.totalRelevance, f.largest], n, (v) => v >= 0);
  if (f.quantity !== 'weight' || !isIndex(f.supportStride) || f.supportStride < 1) return false;
  const perBucket = [f.meanFocus, f.entropyRatio, f.supportSize, f.sinkMass].every((a) => a instanceof Float32Array && a.length === n);
  const labels = f.distanceLabels;
  return (
    perBucket &&
    Array.isArray(labels) &&
    labels.every((l) => typeof l === 'string') &&
    f.distanceMass instanceof Float32Array &&
    f.distanceMass.length === n * labels.length
  );
}

function isFadingList(value: unknown): value is FadingSeries[] {
  return Array.isArray(value) && value.every(isFadingSeries);
}

function isPanelCompare(c: unknown): c is PanelCompare {
  return (
    isRecord(c) &&
    isId(c.documentId) &&
    isModePair(c.modes) &&
    typeof c.sameWeights === 'boolean' &&
    (c.heads === undefined || (Array.isArray(c.heads) && c.heads.length === 2 && c.heads.every(isPanelHead))) &&
    isOptionalString(c.error)
  );
}

function isNeedleSeries(s: unknown): s is NeedleSeries {
  return (
    isRecord(s) &&
    isMode(s.mode) &&
    s.starts instanceof Int32Array &&
    s.values instanceof Float32Array &&
    s.starts.length === s.values.length &&
    typeof s.exact === 'boolean' &&
    isIndex(s.bestHead) &&
    s.curveStarts instanceof Int32Array &&
    s.curves instanceof Float32Array &&
    s.curveStarts.length > 0 &&
    s.curves.length % s.curveStarts.length === 0 &&
    s.curves.length / s.curveStarts.length > 2 + s.bestHead
  );
}

function isPanelNeedle(n: unknown): n is PanelNeedle {
  return (
    isRecord(n) &&
    isId(n.documentId) &&
    isIndex(n.start) &&
    isIndex(n.end) &&
    (n.end as number) > (n.start as number) &&
    typeof n.text === 'string' &&
    isHeadSelection(n.selection) &&
    Array.isArray(n.series) &&
    n.series.every(isNeedleSeries)
  );
}

export function isCompareMessage(m: unknown): m is CompareMessage {
  return isRecord(m) && m.type === COMPARE && (m.compare === undefined || isPanelCompare(m.compare));
}

export function isNeedleMessage(m: unknown): m is NeedleMessage {
  return isRecord(m) && m.type === NEEDLE && (m.needle === undefined || isPanelNeedle(m.needle));
}

export function isStateMessage(m: unknown): m is StateMessage {
  if (!isRecord(m) || m.type !== STATE || !isRecord(m.state)) return false;
  const s = m.state;
  return (
    isMode(s.mode) &&
    Array.isArray(s.modes) &&
    s.modes.every(isMode) &&
    isHeadSelection(s.selection) &&
    typeof s.followCursor === 'boolean' &&
    typeof s.busy === 'boolean' &&
    isOptionalString(s.error) &&
    (s.document === undefined || isPanelDocument(s.document)) &&
    (s.head === undefined || isPanelHead(s.head)) &&
    typeof s.cursorToken === 'number' &&
    isFadingList(s.fading) &&
    (s.compare === undefined || isPanelCompare(s.compare)) &&
    (s.needle === undefined || isPanelNeedle(s.needle)) &&
    typeof s.probe === 'boolean'
  );
}

export function isDocumentMessage(m: unknown): m is DocumentMessage {
  return (
    isRecord(m) &&
    m.type === DOCUMENT &&
    isMode(m.mode) &&
    (m.document === undefined || isPanelDocument(m.document)) &&
    (m.head === undefined || isPanelHead(m.head))
  );
}

export function isHeadMessage(m: unknown): m is HeadMessage {
  return isRecord(m) && m.type === HEAD && isPanelHead(m.head) && isHeadSelection(m.selection);
}

export function isCursorMessage(m: unknown): m is CursorMessage {
  return isRecord(m) && m.type === CURSOR && isId(m.documentId) && typeof m.token === 'number' && Number.isInteger(m.token);
}

export function isFadingMessage(m: unknown): m is FadingMessage {
  return isRecord(m) && m.type === FADING && isId(m.documentId) && isFadingList(m.fading);
}

export function isStatusMessage(m: unknown): m is StatusMessage {
  return isRecord(m) && m.type === STATUS && typeof m.busy === 'boolean' && isOptionalString(m.error) && typeof m.followCursor === 'boolean';
}
