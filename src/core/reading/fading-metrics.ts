// Attention fading in numbers, per head and per query: entropy relative to ln(keys seen), support
// size (fewest keys holding 90 % of the weight), mass by distance in log buckets, and the sink
// mass on token 0 with the sink-head rule (mean weight on token 0 above 0.3).
// Exact: the entropy ratio (the graph's entropy) and the sink mass (span-mass.ts). From each
// query's top-k keys: support size (exact while the top k hold 90 %, else "more than k") and the
// distance shares (shares of the top-k mass; topKMass says how much of each row that is).
import type { HeadSelection } from '../../shared/vocabulary';
import type { Inspection } from '../inspection-types';
import type { TopKAttention } from './top-k-attention';
import { checkTopK, inspectionTopK } from './top-k-attention';

export const SUPPORT_SHARE = 0.9;
export const SINK_HEAD_THRESHOLD = 0.3;

/** Distance buckets, tokens back: [lo, hi). Distance 0 is the query's own token. */
export const DISTANCE_BUCKETS: readonly { label: string; lo: number; hi: number }[] = [
  { label: '0', lo: 0, hi: 1 },
  { label: '1-7', lo: 1, hi: 8 },
  { label: '8-63', lo: 8, hi: 64 },
  { label: '64-511', lo: 64, hi: 512 },
  { label: '512-4095', lo: 512, hi: 4096 },
  { label: '4096+', lo: 4096, hi: Infinity },
];

export function distanceBucket(distance: number): number {
  for (let b = DISTANCE_BUCKETS.length - 1; b >= 0; b--) if (distance >= DISTANCE_BUCKETS[b].lo) return b;
  return 0;
}

/** [head][query]: entropy / ln(i + 1), keys seen by query i; 0 for query 0, which sees one key. */
export function entropyRatio(entropy: Float32Array, heads: number, T: number): Float32Array {
  const out = new Float32Array(heads * T);
  for (let h = 0; h < heads; h++) {
    for (let i = 1; i < T; i++) out[h * T + i] = entropy[h * T + i] / Math.log(i + 1);
  }
  return out;
}

/** [head][query]: fewest keys holding `share` of the row's weight, from its top-k; k + 1 where the top k hold less. */
export function supportSizes(top: TopKAttention, share = SUPPORT_SHARE): Int32Array {
  checkTopK(top);
  const { heads, tokens: T, k, index, weight } = top;
  const out = new Int32Array(heads * T);
  for (let r = 0; r < heads * T; r++) {
    let sum = 0;
    let n = k + 1;
    for (let kk = 0; kk < k && index[r * k + kk] >= 0; kk++) {
      sum += weight[r * k + kk];
      // A float32 row sums to 1 within rounding: a row of one key holds all of it.
      if (sum >= share - 1e-6) {
        n = kk + 1;
        break;
      }
    }
    out[r] = n;
  }
  return out;
}

/** [head][query][bucket]: shares of the top-k mass by distance (each row sums to 1), and [head][query] the top-k mass. */
export function distanceShares(top: TopKAttention): { shares: Float32Array; topKMass: Float32Array } {
  checkTopK(top);
  const { heads, tokens: T, k, index, weight } = top;
  const B = DISTANCE_BUCKETS.length;
  const shares = new Float32Array(heads * T * B);
  const topKMass = new Float32Array(heads * T);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < T; i++) {
      const r = h * T + i;
      let sum = 0;
      for (let kk = 0; kk < k; kk++) {
        const j = index[r * k + kk];
        if (j < 0) continue;
        shares[r * B + distanceBucket(i - j)] += weight[r * k + kk];
        sum += weight[r * k + kk];
      }
      topKMass[r] = sum;
      if (sum > 0) for (let b = 0; b < B; b++) shares[r * B + b] /= sum;
    }
  }
  return { shares, topKMass };
}

export interface HeadFading {
  layer: number;
  head: number;
  /** Mean over queries 1.. of entropy / ln(keys seen): near 1 is uniform (fading), near 0 focused. Exact. */
  entropyRatio: number;
  /** Mean weight on token 0 over queries 1..; exact. */
  sinkMass: number;
  /** sinkMass > 0.3 ("When attention sinks emerge"). */
  sinkHead: boolean;
  /** Median over queries of the support size; null when over half the queries need more than the top k. */
  supportSize: number | null;
  /** Share of queries whose 90 % needs more keys than the top k. */
  supportBeyondTopK: number;
  /** Bucket label -> mean share of the top-k mass at that distance; the shares sum to 1. */
  distanceMass: Record<string, number>;
  /** Mean over queries of the weight the top k hold: how much of each row distanceMass covers. */
  topKMass: number;
}

function median(values: Int32Array): number {
  const sorted = Int32Array.from(values).sort();
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Every head's fading metrics, layer * heads + head. */
export function headFading(insp: Inspection): HeadFading[] {
  const { layers, heads, topK: K } = insp.model;
  const LH = layers * heads;
  const T = insp.tokens.length;
  const top = inspectionTopK(insp);
  const ratio = entropyRatio(insp.entropy, LH, T);
  const support = supportSizes(top);
  const { shares, topKMass } = distanceShares(top);
  const B = DISTANCE_BUCKETS.length;
  const out: HeadFading[] = [];
  for (let h = 0; h < LH; h++) {
    let r = 0;
    let sink = 0;
    let mass = 0;
    let beyond = 0;
    const dist = new Float64Array(B);
    for (let i = 0; i < T; i++) {
      if (i > 0) {
        r += ratio[h * T + i];
        sink += insp.sink[h * T + i];
      }
      if (support[h * T + i] > K) beyond++;
      mass += topKMass[h * T + i];
      for (let b = 0; b < B; b++) dist[b] += shares[(h * T + i) * B + b];
    }
    const later = Math.max(1, T - 1);
    const med = median(support.subarray(h * T, (h + 1) * T));
    out.push({
      layer: Math.floor(h / heads),
      head: h % heads,
      entropyRatio: r / later,
      sinkMass: sink / later,
      sinkHead: sink / later > SINK_HEAD_THRESHOLD,
      supportSize: med > K ? null : med,
      supportBeyondTopK: beyond / Math.max(1, T),
      distanceMass: Object.fromEntries(DISTANCE_BUCKETS.map((d, b) => [d.label, dist[b] / Math.max(1, T)])),
      topKMass: mass / Math.max(1, T),
    });
  }
  return out;
}

/** The metrics over query position, in buckets, for one head or over every head. */
export interface FadingCurves {
  /** [bucket]: first query of each bucket; bucket b is [starts[b], starts[b + 1]) (the last ends at T). */
  starts: Int32Array;
  /** [bucket]: mean entropy ratio (exact). */
  entropyRatio: Float32Array;
  /** [bucket]: median support size; topK + 1 stands for "more than the top k". */
  supportSize: Float32Array;
  /** [bucket]: mean weight on token 0 (exact). */
  sinkMass: Float32Array;
  /** [bucket][distance bucket]: mean shares of the top-k mass by distance. */
  distanceMass: Float32Array;
}

/** Curves for a head, or for the mean over heads (the max over heads is not a curve of one distribution: it reads as the mean). */
export function fadingCurves(insp: Inspection, selection: HeadSelection, buckets: number): FadingCurves {
  const { layers, heads } = insp.model;
  const LH = layers * heads;
  const T = insp.tokens.length;
  const picked = selection.kind === 'head' ? [selection.layer * heads + selection.head] : Array.from({ length: LH }, (_, h) => h);
  const top = inspectionTopK(insp);
  const ratio = entropyRatio(insp.entropy, LH, T);
  const support = supportSizes(top);
  const { shares } = distanceShares(top);
  const B = DISTANCE_BUCKETS.length;
  const n = Math.min(T, Math.max(1, Math.floor(buckets)));
  const out: FadingCurves = {
    starts: new Int32Array(n),
    entropyRatio: new Float32Array(n),
    supportSize: new Float32Array(n),
    sinkMass: new Float32Array(n),
    distanceMass: new Float32Array(n * B),
  };
  for (let b = 0; b < n; b++) {
    const lo = Math.floor((b * T) / n);
    const hi = Math.floor(((b + 1) * T) / n);
    out.starts[b] = lo;
    const sizes = new Int32Array((hi - lo) * picked.length);
    let count = 0;
    let later = 0;
    for (const h of picked) {
      for (let i = lo; i < hi; i++) {
        if (i > 0) {
          out.entropyRatio[b] += ratio[h * T + i];
          out.sinkMass[b] += insp.sink[h * T + i];
          later++;
        }
        sizes[count++] = support[h * T + i];
        for (let d = 0; d < B; d++) out.distanceMass[b * B + d] += shares[(h * T + i) * B + d];
      }
    }
    if (later > 0) {
      out.entropyRatio[b] /= later;
      out.sinkMass[b] /= later;
    } else {
      out.sinkMass[b] = 1; // query 0 alone: all its weight is on token 0
    }
    out.supportSize[b] = median(sizes);
    for (let d = 0; d < B; d++) out.distanceMass[b * B + d] /= Math.max(1, count);
  }
  return out;
}
