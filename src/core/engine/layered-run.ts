// Runs a model folder's layered graphs (models/README.md, contract 3) over one token sequence:
// row-wise pieces in row blocks, causal attention in query blocks that see only the keys they
// can see. Every buffer is O(T x width) or one block's O(heads x rows x keys), so peak memory is
// linear in T for a fixed block; progress is reported and cancellation honoured between calls.
// Graph execution is injected (the worker passes onnxruntime), so this file is plain logic.
import type { HeadSelection } from '../../shared/vocabulary';
import type { ModelDims, ScreeningParams, VariantGraphs } from '../model/graphs';
import { isScreening, windowOf } from '../model/graphs';
import type { QueryScaling } from '../model/length-rules';
import { scaleQueries } from '../model/length-rules';
import type { TokenSpan } from '../reading/needle';
import { bestKeys, sinkMass, spanMass } from '../reading/span-mass';
import { SUPPORT_SHARE, supportOfRow, supportOfTop, supportSampled } from '../reading/support-size';
import { DISTANCE_BUCKETS } from '../reading/fading-metrics';
import { abortError } from './abort';

export interface RunSpec {
  /** An attention variant's graphs (runLayered) or a screening variant's (screening-run.ts). */
  graphs: VariantGraphs;
  /** The variant's dims (a screening variant's own). */
  dims: ModelDims;
  /** A screening variant's w (Infinity where the length rule says so) and r, [layer][tile]. */
  screening?: ScreeningParams;
  ids: Int32Array;
  /** [layer][head] ssmax_s; 0 = plain Softmax for that head. */
  s: Float32Array;
  /** Multiplies the RoPE base; null when the graphs take no rope_scale input. */
  ropeScale: number | null;
  /** Floats one attention block may hold per buffer (heads x rows x keys). */
  blockFloats: number;
  /** Rows per call of the row-wise graphs. */
  linearRows: number;
  /** A production length rule applied to q by position (post-hoc modes); absent: none. */
  queryScaling?: QueryScaling;
  /** Compute this span's exact needle during the run (outputs.needle). */
  needle?: TokenSpan;
}

export interface LayeredOutputs {
  /** [layer][head][query] */
  focus: Float32Array;
  entropy: Float32Array;
  distance: Float32Array;
  /** [layer][head][query][k]: key indices best first, -1 where the query sees fewer than topK keys. */
  topIndex: Int32Array;
  topWeight: Float32Array;
  /** [layer][head][queryBin][keyBin] max weight, bins x bins. */
  pooled: Float32Array;
  binSize: number;
  bins: number;
  /** [token] nats; 0 for the first token. */
  surprisal: Float32Array;
  /** [layer][head][query]: exact weight on token 0 (span-mass.ts). */
  sink: Float32Array;
  /** When spec.needle: [layer][head][query - needle.end], exact mass on the span. */
  needle?: Float32Array;
  /** [layer][head][query][bucket]: exact mass of each row in the DISTANCE_BUCKETS (the graph's distance_mass). */
  distanceMass: Float32Array;
  /** [layer][head][query]: exact support size (support-size.ts) of the queries at multiples of binSize; 0 for the others; -1 in a screening run (undefined for relevance). */
  support: Int32Array;
  /** Screening runs: [layer][tile][query] keys with relevance > 0. */
  passCount?: Float32Array;
  /** Screening runs: [layer][tile][query] sum of the relevance over the query's keys (unnormalised). */
  totalRelevance?: Float32Array;
}

/**
 * Per layer, what follow-up requests (full rows, zoomed maps) need: q (T x H*hs), and k per kv
 * head (padded x hs); and what a later run of an edited sequence resumes from (resume.ts): per kv
 * head [v | k | position] (padded x 2hs+1). A screening run keeps one array per layer in each: k
 * as [key][tile][d_K] (padded), and in vkp the values v as [key][tile][d_V] (padded).
 */
export interface RetainedKeys {
  q: Float32Array[];
  k: Float32Array[][];
  vkp: Float32Array[][];
  tokens: number;
}

/** A retained run that a run of an edited sequence resumes from, at token `from` (a bin boundary; resume.ts decides). */
export interface Resume {
  keys: RetainedKeys;
  outputs: LayeredOutputs;
  from: number;
}

/** A graph's input and output tensors, as they cross the worker thread. */
export type Feed =
  | { type: 'int64'; data: BigInt64Array; dims: number[] }
  | { type: 'float32'; data: Float32Array; dims: number[] };

export interface Output {
  type: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

export type RunGraph = (graphPath: string, feeds: Record<string, Feed>) => Promise<Record<string, Output>>;

export interface RunHooks {
  /** Fraction of the run's work done, 0..1. */
  progress(done: number): void;
  cancelled(): boolean;
}

const MIN_ATTENTION_ROWS = 8;
export const MAX_ATTENTION_ROWS = 512;

/** Keys a block ending at query `end` (exclusive) is given: a multiple of the pooling bin, at least topK. */
export function keysFor(end: number, topK: number, bin: number): number {
  return Math.ceil(Math.max(end, topK) / bin) * bin;
}

export function poolingOf(T: number, pooledSize: number): { binSize: number; bins: number } {
  const binSize = Math.ceil(T / pooledSize);
  return { binSize, bins: Math.ceil(T / binSize) };
}

/** Query rows of the block starting at `start`, so that one block buffer (group x rows x keys) stays near blockFloats. */
export function attentionRows(start: number, T: number, group: number, topK: number, blockFloats: number): number {
  const keys = Math.max(start + MAX_ATTENTION_ROWS, topK);
  const rows = Math.floor(blockFloats / (group * keys));
  return Math.min(T - start, Math.max(MIN_ATTENTION_ROWS, Math.min(MAX_ATTENTION_ROWS, rows)));
}

/** Start of the attention block of a full run of T tokens that holds query `from`. */
export function blockStart(from: number, T: number, group: number, topK: number, blockFloats: number): number {
  let a = 0;
  for (let e = 0; e <= from && e < T; e += attentionRows(e, T, group, topK, blockFloats)) a = e;
  return a;
}

/** Keys seen by queries [from, to), summed: i + 1 each, at most the window's w in a sliding layer. */
export function keysSeen(from: number, to: number, window: number | null): number {
  const c = window === null ? to : Math.min(to, Math.max(from, window)); // queries before c see i + 1 <= w keys
  return (c * (c + 1) - from * (from + 1)) / 2 + (to - c) * (window ?? 0);
}

/** Multiply-adds of a run of rows [from, T) (a whole run: from 0), split as the progress bar counts them. */
export function runWork(dims: ModelDims, T: number, from = 0): { perLayerLinear: number; attentionPair: number; head: number; total: number } {
  const perLayerLinear = (T - from) * dims.layerParameters;
  const attentionPair = dims.heads * (dims.headDim * 3 + 1); // q.k, then w against [v | k | position]
  const head = (T - from) * dims.vocabSize * dims.width;
  let total = head;
  for (let l = 0; l < dims.layers; l++) total += perLayerLinear + keysSeen(from, T, windowOf(dims, l)) * attentionPair;
  return { perLayerLinear, attentionPair, head, total };
}

export function f32(data: Float32Array, dims: number[]): Feed {
  return { type: 'float32', data, dims };
}

export function i64(data: BigInt64Array, dims: number[]): Feed {
  return { type: 'int64', data, dims };
}

export function out32(out: Record<string, Output>, name: string): Float32Array {
  const t = out[name];
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`model graph returned no float32 output "${name}" (models/README.md lists the outputs)`);
  return t.data;
}

export function out64(out: Record<string, Output>, name: string): BigInt64Array {
  const t = out[name];
  if (!t || !(t.data instanceof BigInt64Array)) throw new Error(`model graph returned no int64 output "${name}" (models/README.md lists the outputs)`);
  return t.data;
}

/**
 * The keys of the attention call for queries [a, e): those before the block are all visible to
 * it, so once there are topK of them (a whole number of bins) the split graph keeps them, [0, P),
 * apart from the masked rest [P, Tk); before that, one masked set from key 0 (always visible).
 */
function blockKeys(a: number, e: number, topK: number, bin: number, diagPad: number): { split: boolean; P: number; Tk: number } {
  const pastBins = Math.floor(a / bin) * bin;
  if (pastBins >= Math.max(topK, bin)) return { split: true, P: pastBins, Tk: Math.max(keysFor(e, topK, bin), pastBins + diagPad) };
  return { split: false, P: Math.max(a, 1), Tk: keysFor(e, topK, bin) };
}

/**
 * The keys a sliding layer's block of queries [a, e) is fed: from the bin holding the first key its
 * first query sees (the bins before it hold no key any of its queries sees), to the full run's end,
 * and at least topK keys (diagPad) for the graph's top k.
 */
export function windowKeys(a: number, e: number, window: number, topK: number, bin: number, diagPad: number): { first: number; end: number } {
  const first = Math.floor(Math.max(0, a - window + 1) / bin) * bin;
  return { first, end: Math.max(keysFor(e, topK, bin), first + diagPad) };
}

/** The arrays a run fills: the attention output of rows [from, T) ((T - from) x H*hs) and the per-head summaries. */
interface Summaries extends Omit<LayeredOutputs, 'surprisal' | 'sink' | 'needle'> {
  dims: ModelDims;
  T: number;
  from: number;
  attn: Float32Array;
}

/**
 * Copies one attention call's outputs (the G heads of kv head `group`, queries start..start+rows)
 * into the run's arrays. The call was fed `keys` keys from key `keyStart` (a multiple of the bin; 0
 * but in sliding layers): its key indices, bins and sample rows count from there.
 */
function storeBlock(
  out: Record<string, Output>,
  into: Summaries,
  at: { layer: number; group: number; start: number; rows: number; keys: number; keyStart: number; window: number | null },
): void {
  const { heads: H, kvHeads: KV, headDim: hs, topK: K } = into.dims;
  const { T, binSize, bins } = into;
  const G = H / KV;
  const B = at.rows;
  const nb = at.keys / binSize;
  const y = out32(out, 'y');
  const focus = out32(out, 'focus');
  const entropy = out32(out, 'entropy');
  const distance = out32(out, 'distance');
  const index = out64(out, 'topk_index');
  const weight = out32(out, 'topk_weight');
  const pooled = out32(out, 'pooled');
  const mass = out32(out, 'distance_mass');
  const sample = out32(out, 'sample_rows'); // (G, S, keys): full rows of the block's sampled queries
  const words = new Int32Array(index.buffer, index.byteOffset, index.length * 2); // little-endian low words
  const { attn, topIndex, topWeight } = into;
  const intoPooled = into.pooled;
  const rowWidth = H * hs;
  const NB = DISTANCE_BUCKETS.length;
  const S = sample.length / (G * at.keys);
  for (let j = 0; j < G; j++) {
    const h = at.group * G + j;
    const lh = at.layer * H + h;
    let sampled = 0;
    for (let r = 0; r < B; r++) {
      const i = at.start + r;
      const src = j * B + r;
      attn.set(y.subarray(src * hs, (src + 1) * hs), (i - into.from) * rowWidth + h * hs);
      into.focus[lh * T + i] = focus[src];
      into.entropy[lh * T + i] = entropy[src];
      into.distance[lh * T + i] = distance[src];
      for (let b = 0; b < NB; b++) into.distanceMass[(lh * T + i) * NB + b] = mass[src * NB + b];
      if (supportSampled(i, binSize)) {
        if (sampled >= S) throw new Error(`attention graph returned ${S} sample rows for queries ${at.start}..${at.start + B - 1}, bin ${binSize}`);
        let total = 0;
        for (let b = 0; b < NB; b++) total += mass[src * NB + b];
        // Where the top k hold the share, they give the support exactly; otherwise count the row.
        const row = (j * S + sampled++) * at.keys;
        into.support[lh * T + i] = supportOfTop(weight, src * K, K, total, SUPPORT_SHARE) || supportOfRow(sample, row, i + 1 - at.keyStart, SUPPORT_SHARE);
      }
      // Keys the query cannot see (j > i, padding, before its window) come back with weight 0: drop them.
      const lowest = at.window === null ? 0 : i - at.window + 1;
      let w = (lh * T + i) * K;
      for (let kk = 0; kk < K; kk++) {
        const word = 2 * (src * K + kk);
        const key = words[word] + at.keyStart;
        if (key > i || key < lowest || words[word + 1] !== 0) continue;
        topIndex[w] = key;
        topWeight[w] = weight[src * K + kk];
        w++;
      }
      // Bins past the query's own are masked (weight 0): the row's pooled cells stop at its bin.
      const qBin = Math.floor(i / binSize);
      const skipped = at.keyStart / binSize;
      const cell = (lh * bins + qBin) * bins + skipped;
      const from = src * nb;
      const last = Math.min(nb, bins - skipped, qBin + 1 - skipped);
      for (let b = 0; b < last; b++) {
        const v = pooled[from + b];
        if (v > intoPooled[cell + b]) intoPooled[cell + b] = v;
      }
    }
  }
}

/** Copies the q rows [first, first + rows) of kv head `group`'s G query heads into `into`, laid out (G, rows, hs) for the attention graph. */
export function groupQueries(q: Float32Array, into: Float32Array, dims: ModelDims, group: number, first: number, rows: number): void {
  const { heads: H, kvHeads: KV, headDim: hs } = dims;
  const G = H / KV;
  const Q = H * hs;
  for (let j = 0; j < G; j++) {
    const h = group * G + j;
    for (let r = 0; r < rows; r++) into.set(q.subarray((first + r) * Q + h * hs, (first + r) * Q + (h + 1) * hs), (j * rows + r) * hs);
  }
}

export type Call = (graph: string, feeds: Record<string, Feed>, cost: number) => Promise<Record<string, Output>>;

function windowGraph(graph: string | undefined, name: string): string {
  if (graph === undefined) throw new Error(`the model folder has sliding-window layers but no ${name} (models/README.md, layerTypes)`);
  return graph;
}

/**
 * Queries [first, e) of block [a, e) of a sliding layer: the window graph over the keys windowKeys
 * feeds (the same for a resumed run as for a full one, since they follow from a), every position
 * counted from the first key fed; storeBlock turns key indices and bins back into absolute ones.
 */
async function windowBlock(
  spec: RunSpec,
  call: Call,
  into: Summaries,
  at: { layer: number; a: number; e: number; first: number; window: number; q: Float32Array; qBlock: Float32Array; k: Float32Array[]; vkp: Float32Array[]; poolTemplate: Feed; diagPad: number; cost: number },
): Promise<void> {
  const { heads: H, kvHeads: KV, headDim: hs, topK: K } = spec.dims;
  const G = H / KV;
  const VKP = 2 * hs + 1;
  const graph = windowGraph(isScreening(spec.graphs) ? undefined : spec.graphs.attentionWindow, 'attention-window.onnx');
  const { first: k0, end } = windowKeys(at.a, at.e, at.window, K, into.binSize, at.diagPad);
  const B = at.e - at.first;
  const qPos = new BigInt64Array(B);
  const keyFirst = new BigInt64Array(B);
  for (let r = 0; r < B; r++) {
    const i = at.first + r;
    qPos[r] = BigInt(i - k0);
    keyFirst[r] = BigInt(Math.max(0, i - at.window + 1) - k0);
  }
  for (let g = 0; g < KV; g++) {
    groupQueries(at.q, at.qBlock, spec.dims, g, at.first, B);
    const out = await call(
      graph,
      {
        q: f32(at.qBlock.subarray(0, G * B * hs), [G, B, hs]),
        q_pos: i64(qPos, [B]),
        key_first: i64(keyFirst, [B]),
        k: f32(at.k[g].subarray(k0 * hs, end * hs), [end - k0, hs]),
        vkp: f32(at.vkp[g].subarray(k0 * VKP, end * VKP), [end - k0, VKP]),
        pool_template: at.poolTemplate,
      },
      at.cost,
    );
    storeBlock(out, into, { layer: at.layer, group: g, start: at.first, rows: B, keys: end - k0, keyStart: k0, window: at.window });
  }
}

/**
 * Runs the graphs over spec.ids. With `resume`, only rows [resume.from, T) are computed: under
 * causal attention nothing before the first changed token changes, so the kept run's q, k, v and
 * summaries of earlier rows are copied, and later queries attend to kept and new keys alike.
 */
export async function runLayered(spec: RunSpec, runGraph: RunGraph, hooks: RunHooks, resume?: Resume): Promise<{ outputs: LayeredOutputs; retained: RetainedKeys }> {
  const { dims, graphs } = spec;
  if (isScreening(graphs)) throw new Error('runLayered runs attention variants; a screening variant runs in screening-run.ts');
  const { layers: L, heads: H, kvHeads: KV, headDim: hs, width: C, topK: K } = dims;
  const T = spec.ids.length;
  const from = resume?.from ?? 0;
  const N = T - from; // rows computed
  const Q = H * hs;
  const KVW = KV * hs;
  const { binSize, bins } = poolingOf(T, dims.pooledSize);
  checkResume(resume, from, T, binSize);
  const diagPad = keysFor(K, K, binSize); // a split block's diagonal part holds at least topK keys
  const padded = keysFor(T, K, binSize) + diagPad;
  const work = runWork(dims, T, from);
  const call = progressCalls(runGraph, hooks, work.total);

  const ids = BigInt64Array.from(spec.ids, (id) => BigInt(id));
  const positions = new BigInt64Array(T);
  for (let t = 0; t < T; t++) positions[t] = BigInt(t);
  const rowBlock = Math.max(1, spec.linearRows);
  const ropeFeed: Record<string, Feed> = spec.ropeScale === null ? {} : { rope_scale: f32(Float32Array.of(spec.ropeScale), []) };

  const x = await embedRows(call, graphs.embed, ids, positions, from, C, rowBlock);

  const focus = new Float32Array(L * H * T);
  const entropy = new Float32Array(L * H * T);
  const distance = new Float32Array(L * H * T);
  const attn = new Float32Array(N * Q);
  const topIndex = new Int32Array(L * H * T * K).fill(-1);
  const topWeight = new Float32Array(L * H * T * K);
  const pooled = new Float32Array(L * H * bins * bins);
  const distanceMass = new Float32Array(L * H * T * DISTANCE_BUCKETS.length);
  const support = new Int32Array(L * H * T);
  const summaries: Summaries = { dims, T, from, binSize, bins, attn, focus, entropy, distance, topIndex, topWeight, pooled, distanceMass, support };
  const sink = new Float32Array(L * H * T);
  const surprisal = new Float32Array(T);
  if (resume) copyPrefix(resume.outputs, { focus, entropy, distance, topIndex, topWeight, pooled, binSize, bins, surprisal, sink, distanceMass, support }, dims, from);
  const needle = spec.needle ? new Float32Array(L * H * (T - spec.needle.end)) : undefined;
  const retained: RetainedKeys = { q: [], k: [], vkp: [], tokens: T };
  const poolTemplate = f32(new Float32Array(binSize), [binSize]);
  const G = H / KV;
  const VKP = 2 * hs + 1;
  const qBlock = new Float32Array(G * MAX_ATTENTION_ROWS * hs);

  // Every layer's q, and per kv head, in the layouts the attention graph takes, k (padded x hs) and
  // [v | k | position] (padded x 2hs+1), so that a block's keys are a prefix, passed without a copy.
  // Rows past T stay zero: masked keys that pad to the bin. All allocated before the first graph
  // call: kept buffers made between the calls' short-lived outputs left the allocator's free space
  // in pieces those outputs could not reuse (the peak grew by up to a third at 8,000 tokens).
  for (let l = 0; l < L; l++) {
    retained.q.push(new Float32Array(T * Q));
    retained.k.push(Array.from({ length: KV }, () => new Float32Array(padded * hs)));
    retained.vkp.push(Array.from({ length: KV }, () => new Float32Array(padded * VKP)));
  }
  for (let l = 0; l < L; l++) {
    const q = retained.q[l];
    const kh = retained.k[l];
    const vkp = retained.vkp[l];
    if (resume) {
      q.set(resume.keys.q[l].subarray(0, from * Q));
      for (let g = 0; g < KV; g++) {
        kh[g].set(resume.keys.k[l][g].subarray(0, from * hs));
        vkp[g].set(resume.keys.vkp[l][g].subarray(0, from * VKP));
      }
    }
    const s = f32(spec.s.subarray(l * H, (l + 1) * H), [H]);
    for (let a = from; a < T; a += rowBlock) {
      const e = Math.min(T, a + rowBlock);
      const out = await call(
        graphs.qkv[l],
        { x: f32(x.subarray((a - from) * C, (e - from) * C), [e - a, C]), positions: i64(positions.subarray(a, e), [e - a]), ssmax_s: s, ...ropeFeed },
        ((e - a) * dims.layerParameters) / 3,
      );
      q.set(out32(out, 'q'), a * Q);
      if (spec.queryScaling) scaleQueries(q.subarray(a * Q, e * Q), Q, a, e - a, spec.queryScaling);
      const k = out32(out, 'k');
      const v = out32(out, 'v');
      for (let t = a; t < e; t++) {
        for (let g = 0; g < KV; g++) {
          const src = (t - a) * KVW + g * hs;
          kh[g].set(k.subarray(src, src + hs), t * hs);
          vkp[g].set(v.subarray(src, src + hs), t * VKP);
          vkp[g].set(k.subarray(src, src + hs), t * VKP + hs);
          vkp[g][t * VKP + 2 * hs] = t;
        }
      }
    }
    // A resumed run computes only queries [from, e) of the full run's block holding `from`, with
    // that block's keys: each query's sums then run over the same key layout as in a full run.
    const window = windowOf(dims, l);
    for (let a = blockStart(from, T, G, K, spec.blockFloats); a < T; ) {
      const e = a + attentionRows(a, T, G, K, spec.blockFloats);
      const first = Math.max(a, from);
      const B = e - first;
      const cost = (keysSeen(first, e, window) * work.attentionPair) / KV;
      if (window !== null) {
        await windowBlock(spec, call, summaries, { layer: l, a, e, first, window, q, qBlock, k: kh, vkp, poolTemplate, diagPad, cost });
        a = e;
        continue;
      }
      const { split, P, Tk } = blockKeys(a, e, K, binSize, diagPad);
      for (let g = 0; g < KV; g++) {
        groupQueries(q, qBlock, dims, g, first, B);
        const shared = {
          q: f32(qBlock.subarray(0, G * B * hs), [G, B, hs]),
          q_pos: i64(positions.subarray(first, e), [B]),
          k_past: f32(kh[g].subarray(0, P * hs), [P, hs]),
          k_diag: f32(kh[g].subarray(P * hs, Tk * hs), [Tk - P, hs]),
          pool_template: poolTemplate,
        };
        const feeds = split
          ? { ...shared, vkp_past: f32(vkp[g].subarray(0, P * VKP), [P, VKP]), vkp_diag: f32(vkp[g].subarray(P * VKP, Tk * VKP), [Tk - P, VKP]) }
          : { ...shared, vkp: f32(vkp[g].subarray(0, Tk * VKP), [Tk, VKP]) };
        const out = await call(split ? graphs.attentionSplit : graphs.attention, feeds, cost);
        storeBlock(out, summaries, { layer: l, group: g, start: first, rows: B, keys: Tk, keyStart: 0, window: null });
      }
      a = e;
    }
    const layerKeys = {
      q,
      k: kh,
      heads: H,
      headDim: hs,
      tokens: T,
      best: bestKeys(topIndex.subarray(l * H * T * K, (l + 1) * H * T * K), K),
      focus: focus.subarray(l * H * T, (l + 1) * H * T),
      window,
    };
    const layerSink = sinkMass(layerKeys, from);
    for (let h = 0; h < H; h++) sink.set(layerSink.subarray(h * T + from, (h + 1) * T), (l * H + h) * T + from);
    if (needle && spec.needle) {
      const n = T - spec.needle.end;
      spanMass(layerKeys, spec.needle, spec.needle.end).forEach((m, h) => needle.set(m, (l * H + h) * n));
    }
    for (let a = from; a < T; a += rowBlock) {
      const e = Math.min(T, a + rowBlock);
      const rows = { start: (a - from) * C, end: (e - from) * C };
      const out = await call(
        graphs.out[l],
        { x: f32(x.subarray(rows.start, rows.end), [e - a, C]), attn: f32(attn.subarray((a - from) * Q, (e - from) * Q), [e - a, Q]) },
        ((e - a) * dims.layerParameters * 2) / 3,
      );
      x.set(out32(out, 'x_out'), rows.start);
    }
  }

  await headSurprisal(call, graphs.head, x, ids, from, surprisal, C, dims.vocabSize, rowBlock);
  hooks.progress(1);
  return { outputs: { focus, entropy, distance, topIndex, topWeight, pooled, binSize, bins, surprisal, sink, needle, distanceMass, support }, retained };
}

/** Throws unless a kept run can be resumed at token `from` of T: a bin boundary, the same bin size, keys enough. */
export function checkResume(resume: Resume | undefined, from: number, T: number, binSize: number): void {
  if (resume && (from % binSize !== 0 || from >= T || resume.outputs.binSize !== binSize || resume.keys.tokens < from)) {
    throw new Error(`cannot resume at token ${from} of ${T} from a run of ${resume.keys.tokens} tokens (bin ${resume.outputs.binSize}, now ${binSize})`);
  }
}

/** Graph calls that stop at a cancel and report progress by their cost, out of `total`. */
export function progressCalls(runGraph: RunGraph, hooks: RunHooks, total: number): Call {
  let done = 0;
  return async (graph, feeds, cost) => {
    if (hooks.cancelled()) throw abortError();
    const out = await runGraph(graph, feeds);
    done += cost;
    hooks.progress(Math.min(1, done / total));
    return out;
  };
}

/** x of rows [from, T) through the embed graph: row t at (t - from) * C. */
export async function embedRows(call: Call, embed: string, ids: BigInt64Array, positions: BigInt64Array, from: number, C: number, rowBlock: number): Promise<Float32Array> {
  const T = ids.length;
  const x = new Float32Array((T - from) * C);
  for (let a = from; a < T; a += rowBlock) {
    const e = Math.min(T, a + rowBlock);
    const out = await call(embed, { input_ids: i64(ids.subarray(a, e), [e - a]), positions: i64(positions.subarray(a, e), [e - a]) }, 0);
    x.set(out32(out, 'x'), (a - from) * C);
  }
  return x;
}

/**
 * surprisal[t + 1] from row t of x (rows [from, T)) through the head graph; a resume point lies
 * before the first changed token, so surprisal[from] is kept.
 */
export async function headSurprisal(call: Call, head: string, x: Float32Array, ids: BigInt64Array, from: number, surprisal: Float32Array, C: number, vocabSize: number, rowBlock: number): Promise<void> {
  const T = ids.length;
  const next = new BigInt64Array(T);
  next.set(ids.subarray(1));
  const headRows = Math.max(1, Math.min(rowBlock, Math.floor((8 * 1024 * 1024) / vocabSize)));
  for (let a = from; a < T; a += headRows) {
    const e = Math.min(T, a + headRows);
    const out = await call(head, { x: f32(x.subarray((a - from) * C, (e - from) * C), [e - a, C]), next_ids: i64(next.subarray(a, e), [e - a]) }, (e - a) * vocabSize * C);
    const lse = out32(out, 'lse');
    const target = out32(out, 'target');
    for (let t = a; t < e && t + 1 < T; t++) surprisal[t + 1] = lse[t - a] - target[t - a];
  }
}

/** Copies the summaries of queries [0, from) of a kept run into a new run's arrays (T and bins may differ; the bin size may not). */
export function copyPrefix(kept: LayeredOutputs, into: Omit<LayeredOutputs, 'needle'>, dims: ModelDims, from: number): void {
  const { layers: L, heads: H, topK: K } = dims;
  const T = into.surprisal.length;
  const oldT = kept.surprisal.length;
  for (let lh = 0; lh < L * H; lh++) {
    for (const name of ['focus', 'entropy', 'distance', 'sink', 'support'] as const) into[name].set(kept[name].subarray(lh * oldT, lh * oldT + from), lh * T);
    for (const name of ['passCount', 'totalRelevance'] as const) {
      const [src, dst] = [kept[name], into[name]];
      if (src && dst) dst.set(src.subarray(lh * oldT, lh * oldT + from), lh * T);
    }
    const NB = DISTANCE_BUCKETS.length;
    into.distanceMass.set(kept.distanceMass.subarray(lh * oldT * NB, (lh * oldT + from) * NB), lh * T * NB);
    into.topIndex.set(kept.topIndex.subarray(lh * oldT * K, (lh * oldT + from) * K), lh * T * K);
    into.topWeight.set(kept.topWeight.subarray(lh * oldT * K, (lh * oldT + from) * K), lh * T * K);
    // Query bins before `from` see only keys before it, so their rows fit either width.
    const cols = Math.min(kept.bins, into.bins);
    for (let b = 0; b < from / into.binSize; b++) {
      const src = (lh * kept.bins + b) * kept.bins;
      into.pooled.set(kept.pooled.subarray(src, src + cols), (lh * into.bins + b) * into.bins);
    }
  }
  into.surprisal.set(kept.surprisal.subarray(0, from + 1));
}

/**
 * The rows graph's call for queries (token indices) of layer l against keys k (Tk x hs): in a
 * sliding layer its window form, which also masks the keys before each query's window. Rows of
 * several queries share one call, and their windows start at different keys, so the mask is an
 * input (renormalising full rows would not be exact: the window's mass can underflow beside a sink).
 */
function rowsCall(spec: RowsSpec, l: number, q: Float32Array, qDims: number[], queries: number[], k: Float32Array): [string, Record<string, Feed>] {
  const { headDim: hs, heads: H } = spec.dims;
  const qPos = i64(BigInt64Array.from(queries, (t) => BigInt(t)), [queries.length]);
  if (isScreening(spec.graphs)) {
    // Every tile in one call: q (H, R, d_K) against k [key][tile][d_K], with the run's w and r.
    const p = screeningOf(spec);
    const params = { window: f32(p.window.subarray(l * H, (l + 1) * H), [H]), acceptance: f32(p.acceptance.subarray(l * H, (l + 1) * H), [H]) };
    return [spec.graphs.rows, { q: f32(q, qDims), q_pos: qPos, k: f32(k, [k.length / (H * hs), H, hs]), ...params }];
  }
  const feeds = { q: f32(q, qDims), q_pos: qPos, k: f32(k, [k.length / hs, hs]) };
  const window = windowOf(spec.dims, l);
  if (window === null) return [spec.graphs.rows, feeds];
  const keyFirst = BigInt64Array.from(queries, (t) => BigInt(Math.max(0, t - window + 1)));
  return [windowGraph(spec.graphs.windowRows, 'attention-window-rows.onnx'), { ...feeds, key_first: i64(keyFirst, [queries.length]) }];
}

/** What rows and zoomed regions need of a run: its graphs, dims and, for a screening variant, its w and r. */
export type RowsSpec = Pick<RunSpec, 'graphs' | 'dims' | 'screening'>;

function screeningOf(spec: RowsSpec): ScreeningParams {
  if (!spec.screening) throw new Error('a screening variant runs with its windows and acceptance widths (RunSpec.screening)');
  return spec.screening;
}

/** The calls rows take per layer: one per kv head of G query heads (keys of hs floats), or one for every tile of a screening layer (its keys in one array, H x d_K floats a key). */
function rowGroups(dims: ModelDims): { KV: number; G: number; keyWidth: number } {
  if (dims.attention === 'screening') return { KV: 1, G: dims.heads, keyWidth: dims.heads * dims.headDim };
  return { KV: dims.kvHeads, G: dims.heads / dims.kvHeads, keyWidth: dims.headDim };
}

/** Full attention rows (screening: relevance rows) of the given query tokens: [layer][head][query][key], L x H x Q x T. */
export async function rowsOf(spec: RowsSpec, retained: RetainedKeys, queries: number[], runGraph: RunGraph): Promise<Float32Array> {
  const { layers: L, heads: H, headDim: hs } = spec.dims;
  const T = retained.tokens;
  const Q = queries.length;
  const { KV, G, keyWidth } = rowGroups(spec.dims);
  const result = new Float32Array(L * H * Q * T);
  if (Q === 0) return result;
  const q = new Float32Array(G * Q * hs);
  for (let l = 0; l < L; l++) {
    for (let g = 0; g < KV; g++) {
      for (let j = 0; j < G; j++) {
        const h = g * G + j;
        queries.forEach((t, i) => q.set(retained.q[l].subarray(t * H * hs + h * hs, t * H * hs + (h + 1) * hs), (j * Q + i) * hs));
      }
      const out = await runGraph(...rowsCall(spec, l, q, [G, Q, hs], queries, retained.k[l][g].subarray(0, T * keyWidth)));
      result.set(out32(out, 'rows'), (l * H + g * G) * Q * T); // (G, Q, T): heads g*G.. in order
    }
  }
  return result;
}

/** A rectangle of one attention map: queries [q0, q1) x keys [k0, k1), token indices. */
export interface MapRegion {
  q0: number;
  q1: number;
  k0: number;
  k1: number;
}

const REGION_QUERY_CHUNK = 64;

/**
 * The region's map at full resolution, of one head or every head reduced by mean or max (as the
 * pooled maps are): cells of ceil(side / size) tokens, each the largest weight
 * in it; rows x cols = ceil(q-side / qBin) x ceil(k-side / kBin). Computed from full rows of the
 * region's queries, a chunk at a time, so memory stays at chunk x T per head.
 */
export async function regionOf(
  spec: RowsSpec,
  retained: RetainedKeys,
  region: MapRegion,
  heads: HeadSelection,
  size: number,
  runGraph: RunGraph,
): Promise<{ qBin: number; kBin: number; rows: number; cols: number; data: Float32Array }> {
  const { layers: L, heads: H, headDim: hs } = spec.dims;
  const T = retained.tokens;
  const { q0, q1, k0, k1 } = region;
  if (!(0 <= q0 && q0 < q1 && q1 <= T && 0 <= k0 && k0 < k1 && k1 <= T)) throw new Error(`map region ${q0}..${q1} x ${k0}..${k1} is outside 0..${T}`);
  const qBin = Math.ceil((q1 - q0) / size);
  const kBin = Math.ceil((k1 - k0) / size);
  const rows = Math.ceil((q1 - q0) / qBin);
  const cols = Math.ceil((k1 - k0) / kBin);
  const { KV, G, keyWidth } = rowGroups(spec.dims);
  const picked = heads.kind === 'head' ? [{ layer: heads.layer, group: Math.floor(heads.head / G), j: heads.head % G }] : undefined;
  const layersNeeded = picked ? [picked[0].layer] : Array.from({ length: L }, (_, l) => l);
  const perHead = picked ? 1 : L * H;
  const data = new Float32Array(rows * cols);
  const Tk = q1; // every key the region's queries see normalises their rows; later keys are masked
  for (const l of layersNeeded) {
    for (let g = 0; g < KV; g++) {
      if (picked && picked[0].group !== g) continue;
      const cellsOfHead = Array.from({ length: G }, () => new Float32Array(rows * cols));
      for (let a = q0; a < q1; a += REGION_QUERY_CHUNK) {
        const e = Math.min(q1, a + REGION_QUERY_CHUNK);
        const R = e - a;
        const q = new Float32Array(G * R * hs);
        for (let j = 0; j < G; j++) {
          const h = g * G + j;
          for (let t = a; t < e; t++) q.set(retained.q[l].subarray(t * H * hs + h * hs, t * H * hs + (h + 1) * hs), (j * R + (t - a)) * hs);
        }
        const chunk = Array.from({ length: R }, (_, r) => a + r);
        const out = await runGraph(...rowsCall(spec, l, q, [G, R, hs], chunk, retained.k[l][g].subarray(0, Tk * keyWidth)));
        const w = out32(out, 'rows'); // (G, R, Tk)
        for (let j = 0; j < G; j++) {
          if (picked && picked[0].j !== j) continue;
          const target = cellsOfHead[j];
          for (let t = a; t < e; t++) {
            const row = ((t - q0) / qBin) | 0;
            const base = (j * R + (t - a)) * Tk;
            for (let key = k0; key < Math.min(k1, t + 1); key++) {
              const c = row * cols + (((key - k0) / kBin) | 0);
              const v = w[base + key];
              if (v > target[c]) target[c] = v;
            }
          }
        }
      }
      for (let j = 0; j < G; j++) {
        if (picked && picked[0].j !== j) continue;
        const cell = cellsOfHead[j];
        const mean = heads.kind === 'head' || heads.how === 'mean';
        for (let c = 0; c < data.length; c++) data[c] = mean ? data[c] + cell[c] / perHead : Math.max(data[c], cell[c]);
      }
    }
  }
  return { qBin, kBin, rows, cols, data };
}
