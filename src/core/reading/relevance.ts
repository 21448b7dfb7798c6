// Reads a screening inspection's relevance (models/README.md, "Screening variants"): how many keys
// each tile lets through, for the tile grid, the token strip, the fading tabs and the hover.
// Relevance is absolute and unnormalised, so these are counts and sums, never shares of a row. A key
// passes when its relevance is > 0: inside the tile's window (softmask > 0) and above its acceptance
// threshold. For one query of a tile the numbers are the graph's own (passCount, totalRelevance,
// focus); for the mean or max over tiles each tile's share of passing keys is taken first, since
// tiles see different numbers of keys.
import { equalRuns } from '../../shared/buckets';
import type { Aggregate, HeadSelection } from '../../shared/vocabulary';
import type { Inspection } from '../inspection-types';
import { fit, focusOf } from './selection';

/**
 * Keys query i can reach through window w: the softmask (cos(pi d / w) + 1) / 2 is > 0 for
 * distances d < w, i.e. d = 0 .. ceil(w) - 1, and causal attention stops at key 0 (i + 1 keys).
 */
export function keysInWindow(i: number, w: number): number {
  return Number.isFinite(w) ? Math.min(i + 1, Math.ceil(w)) : i + 1;
}

interface ScreeningArrays {
  passCount: Float32Array;
  totalRelevance: Float32Array;
  window: Float32Array;
  acceptance: Float32Array;
}

function screeningArrays(insp: Inspection): ScreeningArrays {
  const { passCount, totalRelevance, screening } = insp;
  if (!passCount || !totalRelevance || !screening) throw new Error(`a ${insp.mode} inspection has no relevance: pass counts and tile windows come from a screening run`);
  return { passCount, totalRelevance, window: screening.window, acceptance: screening.acceptance };
}

/** Each tile's window w (Infinity: every earlier key), acceptance width r, and share of the keys in its window that pass, [layer * tiles + tile]. */
export interface TileFacts {
  window: Float32Array;
  acceptance: Float32Array;
  /** Keys that pass over keys in reach, summed over every query: T(T + 1) / 2 keys in reach for w = Infinity. */
  passShare: Float32Array;
}

export function tileFacts(insp: Inspection): TileFacts {
  const { window, acceptance } = screeningArrays(insp);
  const { layers, heads } = insp.model;
  const passShare = Float32Array.from({ length: layers * heads }, (_, t) => tilePassShare(insp, Math.floor(t / heads), t % heads));
  return { window: window.slice(), acceptance: acceptance.slice(), passShare };
}

/** Per query: keys that pass, keys in reach, and the row's total relevance (0: the query finds nothing). */
export interface QueryRelevance {
  passCount: Float32Array;
  keys: Float32Array;
  total: Float32Array;
}

/**
 * [query]: one tile's counts and total, or for an aggregate the mean over tiles (a max over tiles
 * would mix counts of different tiles). A mean total of 0 means no tile finds anything.
 */
export function queryRelevance(insp: Inspection, selection: HeadSelection): QueryRelevance {
  const { passCount, totalRelevance, window } = screeningArrays(insp);
  const T = insp.tokens.length;
  const heads = insp.model.heads;
  const n = insp.model.layers * heads;
  const sel = fit(insp, selection);
  const tiles = sel.kind === 'head' ? [sel.layer * heads + sel.head] : Array.from({ length: n }, (_, t) => t);
  const out: QueryRelevance = { passCount: new Float32Array(T), keys: new Float32Array(T), total: new Float32Array(T) };
  for (const t of tiles) {
    for (let i = 0; i < T; i++) {
      out.passCount[i] += passCount[t * T + i] / tiles.length;
      out.keys[i] += keysInWindow(i, window[t]) / tiles.length;
      out.total[i] += totalRelevance[t * T + i] / tiles.length;
    }
  }
  return out;
}

/** The screening metrics over query position, in buckets, for one tile or the mean over tiles. */
export interface RelevanceCurves {
  /** [bucket]: first query of each bucket. */
  starts: Int32Array;
  /** [bucket]: keys that pass over keys in reach, summed over the bucket's queries. */
  passShare: Float32Array;
  /** [bucket]: mean total relevance of a query. */
  totalRelevance: Float32Array;
  /** [bucket]: mean largest relevance of a query (its focus). */
  largest: Float32Array;
}

/** Curves for a tile, or for the mean over tiles (an aggregate reads as the mean, as the attention curves do). */
export function relevanceCurves(insp: Inspection, sel: HeadSelection, buckets: number): RelevanceCurves {
  const picked: HeadSelection = sel.kind === 'head' ? fit(insp, sel) : { kind: 'aggregate', how: 'mean' };
  const q = queryRelevance(insp, picked);
  const focus = focusOf(insp, picked);
  const { starts, ends } = equalRuns(insp.tokens.length, buckets);
  const n = starts.length;
  const out: RelevanceCurves = { starts, passShare: new Float32Array(n), totalRelevance: new Float32Array(n), largest: new Float32Array(n) };
  for (let b = 0; b < n; b++) {
    let pass = 0;
    let reach = 0;
    for (let i = starts[b]; i < ends[b]; i++) {
      pass += q.passCount[i];
      reach += q.keys[i];
      out.totalRelevance[b] += q.total[i];
      out.largest[b] += focus[i];
    }
    const count = Math.max(1, ends[b] - starts[b]);
    out.passShare[b] = reach > 0 ? pass / reach : 0;
    out.totalRelevance[b] /= count;
    out.largest[b] /= count;
  }
  return out;
}

export interface TileRelevance {
  /** Keys whose relevance is > 0. */
  pass: number;
  /** Keys the tile's window lets the query see. */
  visible: number;
  /** The tile's window w, tokens (Infinity: the whole causal past). */
  window: number;
  /** Sum of the row's relevance (0 when nothing passes). */
  total: number;
  /** Largest relevance of the row (its focus). */
  largest: number;
}

export interface AggregateRelevance {
  how: Aggregate;
  tiles: number;
  /** Tiles in which some key passes. */
  finding: number;
  /** Mean (or max) over tiles of the share of visible keys that pass. */
  passShare: number;
  /** Mean (or max) over tiles of the total relevance. */
  total: number;
  /** Mean (or max) over tiles of the largest relevance. */
  largest: number;
}

/** One tile's relevance for one query. */
export function tileRelevance(insp: Inspection, layer: number, tile: number, query: number): TileRelevance {
  const { passCount, totalRelevance, window } = screeningArrays(insp);
  const T = insp.tokens.length;
  const { layers, heads } = insp.model;
  if (!(layer >= 0 && layer < layers && tile >= 0 && tile < heads)) throw new RangeError(`no tile L${layer + 1} H${tile + 1} in a ${layers} x ${heads} model`);
  if (!(query >= 0 && query < T)) throw new RangeError(`query token ${query} is out of range 0..${T - 1}`);
  const lh = layer * heads + tile;
  return { pass: passCount[lh * T + query], visible: keysInWindow(query, window[lh]), window: window[lh], total: totalRelevance[lh * T + query], largest: insp.focus[lh * T + query] };
}

/** Every tile's relevance for one query, mean or max over tiles. */
export function aggregateRelevance(insp: Inspection, how: Aggregate, query: number): AggregateRelevance {
  const { layers, heads } = insp.model;
  const n = layers * heads;
  const combine = (acc: number, v: number): number => (how === 'max' ? Math.max(acc, v) : acc + v / n);
  const out: AggregateRelevance = { how, tiles: n, finding: 0, passShare: 0, total: 0, largest: 0 };
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const r = tileRelevance(insp, l, h, query);
      if (r.pass > 0) out.finding++;
      out.passShare = combine(out.passShare, r.pass / r.visible);
      out.total = combine(out.total, r.total);
      out.largest = combine(out.largest, r.largest);
    }
  }
  return out;
}

const count = (n: number): string => n.toLocaleString('en-US');

/** "passes: 14 of 3,812 keys, total relevance 0.80, largest 0.420", or "finds nothing: no key passes (of 3,812 keys)". */
export function tileRelevanceText(r: TileRelevance): string {
  // Where the window, not the start of the text, limits the keys, say so.
  const limited = Number.isFinite(r.window) && Math.ceil(r.window) === r.visible;
  const keys = `${count(r.visible)} key${r.visible === 1 ? '' : 's'}${limited ? ` (its window: ${count(r.visible)} tokens)` : ''}`;
  if (r.total === 0) return `finds nothing: no key passes (of ${keys})`;
  return `passes: ${count(r.pass)} of ${keys}, total relevance ${r.total.toFixed(2)}, largest ${r.largest.toFixed(3)}`;
}

/** "mean over 121 tiles: 2.1 % of keys pass, total relevance 0.80, largest 0.052; 87 of 121 tiles find a key". */
export function aggregateRelevanceText(r: AggregateRelevance): string {
  const over = `${r.how} over ${count(r.tiles)} tiles`;
  if (r.finding === 0) return `${over}: finds nothing: no key passes in any tile`;
  const upTo = r.how === 'max' ? 'up to ' : '';
  return (
    `${over}: ${upTo}${(100 * r.passShare).toFixed(1)} % of keys pass, total relevance ${upTo}${r.total.toFixed(2)}, largest ${r.largest.toFixed(3)}; ` +
    `${count(r.finding)} of ${count(r.tiles)} tiles find a key`
  );
}

/** The relevance of one query under the selection, in words (hover). */
export function relevanceText(insp: Inspection, sel: HeadSelection, query: number): string {
  if (sel.kind === 'aggregate') return aggregateRelevanceText(aggregateRelevance(insp, sel.how, query));
  return tileRelevanceText(tileRelevance(insp, sel.layer, sel.head, query));
}

/** A tile's window and acceptance in words: "window 257 tokens · a key passes where q·k > 0.62 (r = 0.38)". */
export function tileParamsText(insp: Inspection, layer: number, tile: number): string {
  const { screening } = insp;
  if (!screening) throw new Error(`a ${insp.mode} inspection has no tiles (screening only)`);
  const i = layer * insp.model.heads + tile;
  const w = screening.window[i];
  const r = screening.acceptance[i];
  const window = Number.isFinite(w) ? `window ${count(Math.ceil(w))} tokens` : 'window: the whole past (w = ∞ beyond the training length)';
  return `${window} · a key passes where q·k > ${(1 - r).toFixed(2)} (r = ${r.toFixed(2)})`;
}

/** A tile's share of the keys in reach that pass, over every query (tileFacts' passShare of one tile). */
export function tilePassShare(insp: Inspection, layer: number, tile: number): number {
  const { passCount, window } = screeningArrays(insp);
  const T = insp.tokens.length;
  const lh = layer * insp.model.heads + tile;
  let pass = 0;
  let reach = 0;
  for (let i = 0; i < T; i++) {
    pass += passCount[lh * T + i];
    reach += keysInWindow(i, window[lh]);
  }
  return reach > 0 ? pass / reach : 0;
}
