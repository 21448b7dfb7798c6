// How much memory an inspection of T tokens takes, before it runs, and the most tokens that fit a
// budget. Every term is a buffer the engine or the worker allocates (src/core/layered-run.ts),
// onnxruntime holds during one graph call, or the tokenizer holds for the text it is given; the estimate is meant as an upper bound of the peak
// (the benchmark and a unit test hold it to the measured peak).
import * as os from 'node:os';
import type { ModelDims } from '../model/graphs';
import { keysFor, poolingOf } from './layered-run';

const MB = 1024 * 1024;
/** Floats per attention-block buffer: 8 MB, so a block's working set stays in a server L3 cache. */
export const BLOCK_FLOATS = 2 * MB;
export const LINEAR_ROWS = 1024;
/** Worker thread and onnxruntime's runtime, measured with margin. */
const FIXED_BYTES = 96 * MB;
/** The tokenizer's working memory per character it is given at once (its encoding and the offsets
 *  as JS arrays), garbage that may outlive it into the run: measured 90 (a run of spaces), 200-250
 *  (code), 400 (one minified line) and 770 (CJK, 3 tokens a character) bytes; with margin. */
export const TOKENIZE_BYTES_PER_CHAR = 1024;
const MIN_TOKENIZE_CHARS = 16 * 1024;
const MAX_TOKENIZE_CHARS = 256 * 1024;

/** Characters the tokenizer is given at once under a budget: a sixteenth of it, 16K..256K characters.
 *  Longer documents are tokenized in pieces (token-window.ts), so no file size or line length passes it. */
export function tokenizeChars(budgetBytes: number): number {
  const chars = Math.floor(budgetBytes / 16 / TOKENIZE_BYTES_PER_CHAR);
  return Math.min(MAX_TOKENIZE_CHARS, Math.max(MIN_TOKENIZE_CHARS, chars));
}

export interface MemoryPlan {
  tokens: number;
  /** Upper bound of the extra peak memory of one inspection, bytes. */
  peakBytes: number;
}

/** Extra peak bytes of inspecting T tokens, the tokenizer given `chars` characters at once (model weights excluded: they are loaded once). */
export function estimatePeakBytes(dims: ModelDims, T: number, chars: number): number {
  const { layers: L, heads: H, kvHeads: KV, headDim: hs, width: C, topK: K } = dims;
  const { binSize, bins } = poolingOf(T, dims.pooledSize);
  const padded = keysFor(T, K, binSize) + keysFor(K, K, binSize);
  const f = 4;
  // The result: focus, entropy, distance, sink, top-k index and weight, pooled map, surprisal; held by the
  // worker, transferred (not copied) to the caller, plus the token list (about 120 bytes a token).
  const result = L * H * T * (4 + 2 * K) * f + L * H * bins * bins * f + T * f + T * 120;
  // Activations: x, q, attention output; per kv head k and [v | k | position], padded to the bin.
  const activations = T * C * f + 2 * T * H * hs * f + padded * KV * (3 * hs + 1) * f;
  // What the worker keeps of this run; and, while a run resumes, of the previous one, which pools
  // to the same bin size and so has at most binSize x pooledSize tokens.
  const kept = keptBytes(dims, T) + keptBytes(dims, binSize * dims.pooledSize);
  // One attention call: the logits of the past keys and of the block's own keys, their
  // concatenation and the weights (about blockFloats each), and the int64 top-k.
  const block = 4 * BLOCK_FLOATS * f + H * 512 * K * 12;
  // One row-wise call: the MLP's hidden rows (layerParameters / width per row), or the head's
  // logits and their exponentials (8M floats each, layered-run.ts).
  const linear = Math.max(LINEAR_ROWS * 4 * (dims.layerParameters / C) * f, 2 * 8 * MB * f);
  // The tokenizer's working memory, and the stretch of tokens around the window (token-window.ts):
  // at most 12 T tokens (3 a character over 4 T characters), ids and offsets as JS numbers, then typed.
  const tokenize = chars * TOKENIZE_BYTES_PER_CHAR + 12 * T * 3 * (8 + 4);
  return FIXED_BYTES + result + activations + kept + block + linear + tokenize;
}

/**
 * Bytes the worker keeps of a retained run of T tokens, for full rows, zoomed maps and a run of the
 * edited document that resumes from it (resume.ts): per layer q, and per kv head k and
 * [v | k | position] padded to the bin; a copy of the summaries; the token ids.
 */
export function keptBytes(dims: ModelDims, T: number): number {
  const { layers: L, heads: H, kvHeads: KV, headDim: hs, topK: K } = dims;
  const { binSize, bins } = poolingOf(T, dims.pooledSize);
  const padded = keysFor(T, K, binSize) + keysFor(K, K, binSize);
  const f = 4;
  const keys = L * (T * H * hs + padded * KV * (3 * hs + 1)) * f;
  const summaries = L * H * T * (4 + 2 * K) * f + L * H * bins * bins * f + T * f;
  return keys + summaries + T * 4;
}

/** The most tokens (up to `wanted`) whose estimate fits the budget; at least 1. */
export function tokensWithin(dims: ModelDims, wanted: number, budgetBytes: number): number {
  const chars = tokenizeChars(budgetBytes);
  if (estimatePeakBytes(dims, wanted, chars) <= budgetBytes) return wanted;
  let lo = 1;
  let hi = wanted;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (estimatePeakBytes(dims, mid, chars) <= budgetBytes) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Default budget: half of the memory free now, at most 4 GB and at least 256 MB. */
export function defaultBudgetBytes(): number {
  return Math.max(256 * MB, Math.min(4096 * MB, Math.floor(os.freemem() / 2)));
}
