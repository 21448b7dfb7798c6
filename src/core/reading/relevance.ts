// Reads a screening inspection's relevance (models/README.md, "Screening variants"): how many keys
// each tile lets through, for the tile grid, the token strip and the fading tabs. Relevance is
// absolute and unnormalised, so these are counts and sums, never shares of a row. A key passes when
// its relevance is > 0: inside the tile's window (softmask > 0) and above its acceptance threshold.
import { equalRuns } from '../../shared/buckets';
import type { HeadSelection } from '../../shared/vocabulary';
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
  const { passCount, window, acceptance } = screeningArrays(insp);
  const T = insp.tokens.length;
  const n = insp.model.layers * insp.model.heads;
  const passShare = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    let pass = 0;
    let reach = 0;
    for (let i = 0; i < T; i++) {
      pass += passCount[t * T + i];
      reach += keysInWindow(i, window[t]);
    }
    passShare[t] = reach > 0 ? pass / reach : 0;
  }
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
