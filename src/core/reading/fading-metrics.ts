// Attention fading in numbers, per head and per query: entropy relative to ln(keys seen), support
// size (fewest keys holding 90 % of the weight), mass by distance in log buckets, and the sink
// mass on token 0 with the sink-head rule (mean weight on token 0 above 0.3).
// Every per-query value is exact, from the full rows: the entropy ratio (the graph's entropy), the
// sink mass (span-mass.ts), the distance mass (the graph's distance_mass, every query). The support
// size is measured on one query per pooling bin (every query up to pooledSize tokens; its full row,
// support-size.ts), so a head's support is the median over those queries.
import type { HeadSelection } from '../../shared/vocabulary';
import type { Inspection } from '../inspection-types';
import { supportSampled } from './support-size';

export const SINK_HEAD_THRESHOLD = 0.3;

/** Distance buckets, tokens back: [lo, hi). Distance 0 is the query's own token. The attention graphs sum them (training/graphs.py distance_mass): change both together. */
export const DISTANCE_BUCKETS: readonly { label: string; lo: number; hi: number }[] = [
  { label: '0', lo: 0, hi: 1 },
  { label: '1-7', lo: 1, hi: 8 },
  { label: '8-63', lo: 8, hi: 64 },
  { label: '64-511', lo: 64, hi: 512 },
  { label: '512-4095', lo: 512, hi: 4096 },
  { label: '4096+', lo: 4096, hi: Infinity },
];

/** [head][query]: entropy / ln(i + 1), keys seen by query i; 0 for query 0, which sees one key. */
export function entropyRatio(entropy: Float32Array, heads: number, T: number): Float32Array {
  const out = new Float32Array(heads * T);
  for (let h = 0; h < heads; h++) {
    for (let i = 1; i < T; i++) out[h * T + i] = entropy[h * T + i] / Math.log(i + 1);
  }
  return out;
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
  /** Median over the measured queries of their exact support size (fewest keys holding 90 %). */
  supportSize: number;
  /** Queries whose support size was measured: one per pooling bin. */
  supportQueries: number;
  /** Share of the measured queries whose 90 % needs more keys than the top k. */
  supportBeyondTopK: number;
  /** Bucket label -> mean over queries of the exact mass at that distance; the masses sum to 1. */
  distanceMass: Record<string, number>;
  /** Mean over queries of the weight the top k keys hold. */
  topKMass: number;
}

/** Which tokens a support size is the median over, in words: "every token" or "250 tokens, one in 16". */
export function supportTokensText(f: HeadFading, binSize: number): string {
  return binSize > 1 ? `${f.supportQueries} tokens, one in ${binSize}` : 'every token';
}

/** Median of values[0 .. n); NaN when n is 0. */
function median(values: Int32Array, n: number): number {
  if (n === 0) return NaN;
  const sorted = values.slice(0, n).sort();
  return sorted[Math.floor((n - 1) / 2)];
}

/** Every head's fading metrics, layer * heads + head. */
export function headFading(insp: Inspection): HeadFading[] {
  const { layers, heads, topK: K } = insp.model;
  const LH = layers * heads;
  const T = insp.tokens.length;
  const ratio = entropyRatio(insp.entropy, LH, T);
  const B = DISTANCE_BUCKETS.length;
  const sizes = new Int32Array(T);
  const out: HeadFading[] = [];
  for (let h = 0; h < LH; h++) {
    let r = 0;
    let sink = 0;
    let measured = 0;
    let beyond = 0;
    let mass = 0;
    const dist = new Float64Array(B);
    for (let i = 0; i < T; i++) {
      if (i > 0) {
        r += ratio[h * T + i];
        sink += insp.sink[h * T + i];
      }
      if (supportSampled(i, insp.pooled.binSize)) {
        sizes[measured++] = insp.support[h * T + i];
        if (insp.support[h * T + i] > K) beyond++;
      }
      for (let b = 0; b < B; b++) dist[b] += insp.distanceMass[(h * T + i) * B + b];
      for (let k = 0; k < K; k++) mass += insp.topWeight[(h * T + i) * K + k];
    }
    const later = Math.max(1, T - 1);
    out.push({
      layer: Math.floor(h / heads),
      head: h % heads,
      entropyRatio: r / later,
      sinkMass: sink / later,
      sinkHead: sink / later > SINK_HEAD_THRESHOLD,
      supportSize: median(sizes, measured),
      supportQueries: measured,
      supportBeyondTopK: beyond / Math.max(1, measured),
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
  /** [bucket]: median of the exact support sizes measured in the bucket (one query per pooling bin); NaN where none was. */
  supportSize: Float32Array;
  /** [bucket]: mean weight on token 0 (exact). */
  sinkMass: Float32Array;
  /** [bucket][distance bucket]: mean exact mass by distance. */
  distanceMass: Float32Array;
}

/** Curves for a head, or for the mean over heads (the max over heads is not a curve of one distribution: it reads as the mean). */
export function fadingCurves(insp: Inspection, selection: HeadSelection, buckets: number): FadingCurves {
  const { layers, heads } = insp.model;
  const LH = layers * heads;
  const T = insp.tokens.length;
  const picked = selection.kind === 'head' ? [selection.layer * heads + selection.head] : Array.from({ length: LH }, (_, h) => h);
  const ratio = entropyRatio(insp.entropy, LH, T);
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
    let measured = 0;
    let later = 0;
    for (const h of picked) {
      for (let i = lo; i < hi; i++) {
        if (i > 0) {
          out.entropyRatio[b] += ratio[h * T + i];
          out.sinkMass[b] += insp.sink[h * T + i];
          later++;
        }
        if (supportSampled(i, insp.pooled.binSize)) sizes[measured++] = insp.support[h * T + i];
        for (let d = 0; d < B; d++) out.distanceMass[b * B + d] += insp.distanceMass[(h * T + i) * B + d];
      }
    }
    if (later > 0) {
      out.entropyRatio[b] /= later;
      out.sinkMass[b] /= later;
    } else {
      out.sinkMass[b] = 1; // query 0 alone: all its weight is on token 0
    }
    out.supportSize[b] = median(sizes, measured);
    for (let d = 0; d < B; d++) out.distanceMass[b * B + d] /= Math.max(1, (hi - lo) * picked.length);
  }
  return out;
}
