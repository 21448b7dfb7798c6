// A screening inspection's relevance for one query, in numbers and in words: how many keys pass
// (relevance > 0) out of the keys its tile sees, the row's total relevance and its largest. For a
// tile the numbers are the graph's own (passCount, totalRelevance, focus); for the mean or max over
// tiles each tile's share of passing keys is taken first, since tiles see different numbers of keys.
import type { Aggregate, HeadSelection } from '../../shared/vocabulary';
import type { Inspection } from '../inspection-types';

/** Keys query i (0-based in the window) sees in a tile of window w: keys i - w < j <= i, min(i + 1, ceil(w)); w = Infinity: all i + 1. */
export function visibleKeys(query: number, window: number): number {
  return Math.min(query + 1, Math.ceil(window));
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

function screeningArrays(insp: Inspection): { passCount: Float32Array; totalRelevance: Float32Array; window: Float32Array } {
  const { passCount, totalRelevance, screening } = insp;
  if (!passCount || !totalRelevance || !screening) throw new Error(`a ${insp.mode} inspection has no relevance counts (screening only)`);
  return { passCount, totalRelevance, window: screening.window };
}

/** One tile's relevance for one query. */
export function tileRelevance(insp: Inspection, layer: number, tile: number, query: number): TileRelevance {
  const { passCount, totalRelevance, window } = screeningArrays(insp);
  const T = insp.tokens.length;
  const { layers, heads } = insp.model;
  if (!(layer >= 0 && layer < layers && tile >= 0 && tile < heads)) throw new RangeError(`no tile L${layer + 1} H${tile + 1} in a ${layers} x ${heads} model`);
  if (!(query >= 0 && query < T)) throw new RangeError(`query token ${query} is out of range 0..${T - 1}`);
  const lh = layer * heads + tile;
  return { pass: passCount[lh * T + query], visible: visibleKeys(query, window[lh]), window: window[lh], total: totalRelevance[lh * T + query], largest: insp.focus[lh * T + query] };
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

/** A tile's mean over queries of the share of visible keys that pass. */
export function tilePassShare(insp: Inspection, layer: number, tile: number): number {
  const { passCount, window } = screeningArrays(insp);
  const T = insp.tokens.length;
  const lh = layer * insp.model.heads + tile;
  let sum = 0;
  for (let i = 0; i < T; i++) sum += passCount[lh * T + i] / visibleKeys(i, window[lh]);
  return T > 0 ? sum / T : 0;
}
