// How much memory one inspection takes above the process as it was before it (model weights
// loaded), planned before it runs, and the most tokens that fit a budget. Each term is a buffer
// the engine allocates (layered-run.ts, ort-worker.ts), what onnxruntime holds inside one graph
// call, or what the tokenizer leaves behind; the bench measures the plan against the peak RSS of a
// fresh process and holds it to 60-100 % of the plan (bench/README.md).
import * as os from 'node:os';
import type { Inspection, InspectionMemory } from '../inspection-types';
import type { ModelDims } from '../model/graphs';
import { valueDimOf, windowOf } from '../model/graphs';
import { DISTANCE_BUCKETS } from '../reading/fading-metrics';
import { keysFor, poolingOf } from './layered-run';

const MB = 1024 * 1024;
const F = 4;
/** Floats per attention-block buffer: 8 MB, so a block's working set stays in a server L3 cache. */
export const BLOCK_FLOATS = 2 * MB;
export const LINEAR_ROWS = 1024;
/** Logits one call of the head graph may hold (layered-run.ts). */
export const HEAD_LOGITS = 8 * MB;
/**
 * Graph outputs are copied into fresh ArrayBuffers that only the worker's garbage collector frees;
 * the worker collects so that at most this many bytes of them are uncollected (ort-worker.ts).
 */
export const GARBAGE_BYTES = 16 * MB;
/** A graph session the run creates (attention-split, attention-rows: weights-free) and code the worker compiles on its first long run: measured up to 20 MB. */
const RUNTIME_BYTES = 24 * MB;
/** The tokenizer's working memory per character it is given at once (its encoding and the offsets
 *  as JS arrays), garbage that may outlive it into the run: measured 90 (a run of spaces), 200-250
 *  (code), 400 (one minified line) and 770 (CJK, 3 tokens a character) bytes; with margin. */
export const TOKENIZE_BYTES_PER_CHAR = 1024;
const MIN_TOKENIZE_CHARS = 16 * 1024;
const MAX_TOKENIZE_CHARS = 256 * 1024;
/** A token on the host: its text, offsets and their object (inspection-types.ts Token), measured 80-110 bytes. */
const TOKEN_BYTES = 128;
/** A document token held tokenized: id, start and end as typed arrays, and as JS numbers while they are stitched. */
const ENCODED_TOKEN_BYTES = 3 * (4 + 8);

/** Characters the tokenizer is given at once under a budget: a sixteenth of it, 16K..256K characters.
 *  Longer documents are tokenized in pieces (token-window.ts), so no file size or line length passes it. */
export function tokenizeChars(budgetBytes: number): number {
  const chars = Math.floor(budgetBytes / 16 / TOKENIZE_BYTES_PER_CHAR);
  return Math.min(MAX_TOKENIZE_CHARS, Math.max(MIN_TOKENIZE_CHARS, chars));
}

/** What one inspection is, as far as its memory goes. */
export interface PlanRequest {
  /** Tokens of the window the model runs. */
  tokens: number;
  /** Characters the tokenizer is given at once: the document's length, at most the budget's piece. */
  tokenizeChars: number;
  /** Tokens held tokenized while it runs: the whole document, or a stretch around a long one's window. */
  encodedTokens: number;
  /** Full attention rows asked for with the run (Follow Cursor's query token). */
  queryRows: number;
  /** The worker keeps the run's keys (foreground runs: rows, zoom, needle, the next resume). */
  keep: boolean;
}

/** Bytes by what holds them; `peakBytes` is their sum, an upper bound of the run's extra peak. */
export interface MemoryPlan {
  tokens: number;
  peakBytes: number;
  /** Bytes per term, as InspectionMemory describes them. */
  terms: Omit<InspectionMemory, 'plannedMB' | 'cachedMB'>;
  /** What the process's caches of earlier inspections hold beside this run, once it made room (runner.ts); not part of peakBytes. */
  cachedBytes?: number;
}

/** Per [layer][head][query]: focus, entropy, distance, sink, support size, six distance masses and the top k (index and weight); screening adds keys passing and total relevance. */
const PER_QUERY = (dims: ModelDims): number => 5 + DISTANCE_BUCKETS.length + 2 * dims.topK + (screening(dims) ? 2 : 0);

function screening(dims: ModelDims): boolean {
  return dims.attention === 'screening';
}

/** Bytes of the per-[layer][head][query] summaries of a T-token run, the pooled map and surprisal. */
export function summaryBytes(dims: ModelDims, T: number): number {
  const { layers: L, heads: H } = dims;
  const { bins } = poolingOf(T, dims.pooledSize);
  return (L * H * T * PER_QUERY(dims) + L * H * bins * bins + T) * F;
}

/**
 * Most keys one attention call of a layer is fed in a T-token run: every key (padded), or in a
 * sliding layer of window w at most w + a block of 512 queries + two bins (layered-run.ts
 * windowKeys), and never fewer than topK.
 */
export function callKeys(dims: ModelDims, T: number, window: number | null): number {
  const { binSize } = poolingOf(T, dims.pooledSize);
  const all = keysFor(T, dims.topK, binSize) + keysFor(dims.topK, dims.topK, binSize);
  return window === null ? all : Math.min(all, Math.max(window + 512 + 2 * binSize, keysFor(dims.topK, dims.topK, binSize)));
}

/**
 * Floats per key a retained run holds per layer beside q: k and [v | k | position] per kv head, or
 * a screening variant's k (d_K) and v (d_V) per tile.
 */
function keyFloats(dims: ModelDims): number {
  return screening(dims) ? dims.heads * (dims.headDim + valueDimOf(dims)) : dims.kvHeads * (3 * dims.headDim + 1);
}

/**
 * Bytes of the keys a retained run holds: per layer q, and per kv head k and [v | k | position]
 * padded to the bin. Sliding layers keep every key too: rows and zoomed maps of any query, and a
 * resumed block, need their windows' keys, which together are all of them.
 */
export function keyBytes(dims: ModelDims, T: number): number {
  const { layers: L, heads: H, headDim: hs, topK: K } = dims;
  const { binSize } = poolingOf(T, dims.pooledSize);
  const padded = keysFor(T, K, binSize) + keysFor(K, K, binSize);
  return L * (T * H * hs + padded * keyFloats(dims)) * F + T * 4;
}

/** Bytes the worker keeps of a retained run of T tokens: its keys and a copy of its summaries (resume.ts). */
export function keptBytes(dims: ModelDims, T: number): number {
  return keyBytes(dims, T) + summaryBytes(dims, T);
}

/** The extra peak of one inspection, term by term. */
export function planMemory(dims: ModelDims, req: PlanRequest): MemoryPlan {
  const { heads: H, kvHeads: KV, headDim: hs, width: C, layers: L, topK: K, vocabSize: V } = dims;
  const T = req.tokens;
  const { binSize } = poolingOf(T, dims.pooledSize);
  const windows = Array.from({ length: L }, (_, l) => windowOf(dims, l));
  // The largest call of any layer: sliding layers are fed their windows' keys only. A screening
  // layer is planned at every key: a tile's w may be Infinity beyond the training length.
  const keys = Math.max(...windows.map((w) => callKeys(dims, T, w)));
  // One attention call covers G query heads; a screening call every tile of the layer.
  const G = screening(dims) ? H : H / KV;
  // The attention output of every row: H x hs, or a screening layer's h and its gate g (H x d_V each).
  const rowFloats = screening(dims) ? 2 * H * valueDimOf(dims) : H * hs;
  const rows = Math.min(T, LINEAR_ROWS);
  const result = summaryBytes(dims, T) + T * TOKEN_BYTES + req.queryRows * L * H * T * F;
  // Every run allocates its keys layer by layer; a run that is not kept drops them as garbage at its end.
  const kept = keyBytes(dims, T) + (req.keep ? summaryBytes(dims, T) : 0);
  // x and the attention output, the ids, positions and next ids as int64, and the rows' copy in the worker.
  const working = T * (C + rowFloats) * F + 3 * T * 8 + req.queryRows * L * H * T * F;
  // One attention call holds about four block-sized buffers (logits, their concatenation, the
  // weights, the pooled maxima), a block being at most blockFloats or all of a short run's keys;
  // a row-wise call the MLP's rows twice (layerParameters / width floats per row); the head its logits.
  // A screening call holds about eight: q.k, the distances, the softmask, the relevance, its pass mask and products.
  const block = Math.min(BLOCK_FLOATS, G * Math.min(512, T) * keys);
  const attention = (screening(dims) ? 8 : 4) * block * F;
  const linear = 2 * rows * (dims.layerParameters / C) * F;
  const head = Math.min(HEAD_LOGITS, Math.max(1, Math.min(rows, Math.floor(HEAD_LOGITS / V))) * V) * F;
  const call = Math.max(attention, linear, head) + RUNTIME_BYTES;
  // Outputs of all the run's calls (embed, q|k|v, the attention summaries, x_out, the head), of
  // which at most GARBAGE_BYTES and one call's outputs are uncollected at once.
  // The attention outputs per query: y, focus, entropy, distance, the distance masses, the top k
  // (int64 index and weight), its pooled bins (of about (T + 1) / 2 keys a query on average, fewer
  // in a sliding layer); and the full row of one query per pooling bin.
  // A screening call returns h (d_V a tile) and two more per query (keys passing, total); its
  // projection q, k (d_K) and v, g (d_V) per tile.
  const perQuery = (screening(dims) ? valueDimOf(dims) + 5 : hs + 3) + DISTANCE_BUCKETS.length + 3 * K;
  const projected = screening(dims) ? 2 * H * (hs + valueDimOf(dims)) : H * hs + 2 * KV * hs;
  const perLayer = (w: number | null): number =>
    T * projected + T * H * perQuery + (T * H * Math.min((T + 1) / 2, callKeys(dims, T, w))) / binSize + T * C;
  const outputs = (T * C + windows.reduce<number>((sum, w) => sum + perLayer(w), 0) + 2 * T) * F;
  const B = Math.min(512, T);
  const largestCall = Math.max(rows * projected, B * G * (perQuery + keys / binSize) + Math.ceil(B / binSize) * G * keys) * F;
  const garbage = Math.min(outputs, GARBAGE_BYTES + largestCall);
  const tokenizer = req.tokenizeChars * TOKENIZE_BYTES_PER_CHAR + req.encodedTokens * ENCODED_TOKEN_BYTES;
  const allocator = 0.5 * keptBytes(dims, T);
  const terms = { result, kept, working, call, garbage, tokenizer, allocator };
  return { tokens: T, peakBytes: result + kept + working + call + garbage + tokenizer + allocator, terms };
}

/** Bytes an Inspection holds on the host, measured from its arrays and tokens (what a session's cache keeps of it). */
export function inspectionBytes(insp: Inspection): number {
  const arrays = [insp.focus, insp.entropy, insp.distance, insp.topIndex, insp.topWeight, insp.pooled.data, insp.surprisal, insp.sink, insp.distanceMass, insp.support, insp.passCount, insp.totalRelevance, ...insp.queries.map((q) => q.rows)];
  let bytes = insp.tokens.length * TOKEN_BYTES;
  for (const a of arrays) bytes += a?.byteLength ?? 0;
  return bytes;
}

/** The plan of a window of T tokens before the document is tokenized: a long document's stretch holds at most 12 T tokens (token-window.ts). */
export function planBefore(dims: ModelDims, T: number, chars: number, keep: boolean, queryRows: number): MemoryPlan {
  return planMemory(dims, { tokens: T, tokenizeChars: chars, encodedTokens: 12 * T, queryRows, keep });
}

/** The most tokens (up to `wanted`) whose plan fits the budget; at least 1. */
export function tokensWithin(dims: ModelDims, wanted: number, budgetBytes: number, chars: number, keep = true, queryRows = 1): number {
  const fits = (T: number): boolean => planBefore(dims, T, chars, keep, queryRows).peakBytes <= budgetBytes;
  if (fits(wanted)) return wanted;
  let lo = 1;
  let hi = wanted;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Default budget: half of the memory free now, at most 4 GB and at least 256 MB. */
export function defaultBudgetBytes(): number {
  return Math.max(256 * MB, Math.min(4096 * MB, Math.floor(os.freemem() / 2)));
}

/** A plan in MB, term by term, for logs and the CLI's JSON. */
export function planInMB(plan: MemoryPlan): InspectionMemory {
  const mb = (b: number): number => Math.round((b / MB) * 10) / 10;
  const t = plan.terms;
  return {
    plannedMB: mb(plan.peakBytes),
    result: mb(t.result),
    kept: mb(t.kept),
    working: mb(t.working),
    call: mb(t.call),
    garbage: mb(t.garbage),
    tokenizer: mb(t.tokenizer),
    allocator: mb(t.allocator),
    cachedMB: mb(plan.cachedBytes ?? 0),
  };
}
