// Reads an Inspection: per-head views, aggregates over heads, token lookup by offset, top keys,
// the fading curve; plus plain per-row reference maths that the tests hold the graph to.
import { equalRuns } from '../../shared/buckets';
import type { HeadSummary, Inspection, ModelInfo } from '../inspection-types';

export interface KeyWeight {
  token: number;
  weight: number;
}

export interface FadingCurve {
  /** Query positions (token indices in the window) where each bucket starts; bucket b is [starts[b], ends[b]). */
  starts: Int32Array;
  ends: Int32Array;
  /** [layer][bucket]: mean focus over heads and over the queries in the bucket. */
  meanFocus: Float32Array[];
}

/** The index of [layer][head] in the per-head arrays; a RangeError for a head the inspection does not have. */
export function headOffset(insp: Inspection, layer: number, head: number): number {
  const { layers, heads } = insp.model;
  if (!Number.isInteger(layer) || layer < 0 || layer >= layers) throw new RangeError(`layer ${layer} is out of range 0..${layers - 1}`);
  if (!Number.isInteger(head) || head < 0 || head >= heads) throw new RangeError(`head ${head} is out of range 0..${heads - 1}`);
  return layer * heads + head;
}

/** Focus of every query token for one head (a view, not a copy). */
export function headFocus(insp: Inspection, layer: number, head: number): Float32Array {
  const T = insp.tokens.length;
  const h = headOffset(insp, layer, head);
  return insp.focus.subarray(h * T, (h + 1) * T);
}

/** Focus of every query token, mean or max over all layers and heads. */
export function aggregateFocus(insp: Inspection, how: 'mean' | 'max'): Float32Array {
  return aggregateHeads(insp.focus, insp.model.layers * insp.model.heads, insp.tokens.length, how);
}

/** Mean or max over heads of a per-head array ([layer * heads + head][n]). */
export function aggregateHeads(data: Float32Array, heads: number, n: number, how: 'mean' | 'max'): Float32Array {
  const out = new Float32Array(n);
  for (let h = 0; h < heads; h++) {
    const base = h * n;
    for (let t = 0; t < n; t++) {
      const v = data[base + t];
      out[t] = how === 'max' ? (h === 0 ? v : Math.max(out[t], v)) : out[t] + v / heads;
    }
  }
  return out;
}

/** Index of the token whose span holds the document offset; the end of the range maps to the last token; -1 if none. */
export function tokenAt(insp: Inspection, offset: number): number {
  const tokens = insp.tokens;
  const n = tokens.length;
  if (n === 0 || !Number.isFinite(offset) || offset < tokens[0].start || offset > tokens[n - 1].end) return -1;
  if (offset === tokens[n - 1].end) return n - 1;
  // Empty spans (part of a character) sit before the token that holds it.
  const t = lastStartingAtOrBefore(n, (i) => tokens[i].start, offset);
  return tokens[t].end > offset ? t : -1;
}

/** Binary search over n ascending token starts: the last index whose start is <= offset (0 when none is). */
export function lastStartingAtOrBefore(n: number, startOf: (i: number) => number, offset: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (startOf(mid) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The n most attended keys of one query (n <= topK), best first, from the graph's top-k. */
export function topKeys(insp: Inspection, layer: number, head: number, query: number, n: number): KeyWeight[] {
  const T = insp.tokens.length;
  const K = insp.model.topK;
  if (!Number.isInteger(query) || query < 0 || query >= T) throw new RangeError(`query token ${query} is out of range 0..${T - 1}`);
  const base = (headOffset(insp, layer, head) * T + query) * K;
  const out: KeyWeight[] = [];
  for (let k = 0; k < K && out.length < n; k++) {
    const token = insp.topIndex[base + k];
    if (token < 0) break;
    out.push({ token, weight: insp.topWeight[base + k] });
  }
  return out;
}

/** Full attention row of a query token for one head, when that token was asked for in the request. */
export function queryRow(insp: Inspection, layer: number, head: number, query: number): Float32Array | undefined {
  const T = insp.tokens.length;
  const h = headOffset(insp, layer, head);
  const q = insp.queries.find((r) => r.token === query);
  return q ? q.rows.subarray(h * T, (h + 1) * T) : undefined;
}

/** Pooled map of one head: bins x bins, row-major (query bin, key bin). */
export function headPooled(insp: Inspection, layer: number, head: number): Float32Array {
  const cells = insp.pooled.bins * insp.pooled.bins;
  const h = headOffset(insp, layer, head);
  return insp.pooled.data.subarray(h * cells, (h + 1) * cells);
}

/** Mean focus by query position, in `buckets` equal buckets, per layer: how attention fades with context. */
export function fadingCurve(insp: Inspection, buckets: number): FadingCurve {
  const T = insp.tokens.length;
  const { layers, heads } = insp.model;
  const { starts, ends } = equalRuns(T, buckets);
  const n = starts.length;
  const meanFocus: Float32Array[] = [];
  for (let l = 0; l < layers; l++) {
    const row = new Float32Array(n);
    for (let b = 0; b < n; b++) {
      let sum = 0;
      for (let h = 0; h < heads; h++) {
        const base = (l * heads + h) * T;
        for (let t = starts[b]; t < ends[b]; t++) sum += insp.focus[base + t];
      }
      const count = (ends[b] - starts[b]) * heads;
      row[b] = count > 0 ? sum / count : 0;
    }
    meanFocus.push(row);
  }
  return { starts, ends, meanFocus };
}

/** Mean focus, entropy and distance of every head, over all query tokens. */
export function headSummaries(model: ModelInfo, T: number, focus: Float32Array, entropy: Float32Array, distance: Float32Array): HeadSummary[] {
  const out: HeadSummary[] = [];
  for (let layer = 0; layer < model.layers; layer++) {
    for (let head = 0; head < model.heads; head++) {
      const base = (layer * model.heads + head) * T;
      let f = 0;
      let e = 0;
      let d = 0;
      for (let t = 0; t < T; t++) {
        f += focus[base + t];
        e += entropy[base + t];
        d += distance[base + t];
      }
      out.push({ layer, head, meanFocus: f / T, meanEntropy: e / T, meanDistance: d / T });
    }
  }
  return out;
}

/** "incremental: 3,950 of 4,000 tokens reused" for an incremental run, else undefined. */
export function incrementalNote(insp: Inspection): string | undefined {
  if (insp.reusedTokens === 0) return undefined;
  return `incremental: ${insp.reusedTokens.toLocaleString('en-US')} of ${insp.tokens.length.toLocaleString('en-US')} tokens reused`;
}
