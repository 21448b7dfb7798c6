// A synthetic Inspection for the pure helpers' tests: random focus, empty spans included, every
// array sized for L layers x H heads x T tokens; no model runs.
import type { Inspection } from '../../src/core/inspection-types';

/** A synthetic Inspection for the pure helpers: only the fields they read. */
export function synthetic(L: number, H: number, T: number, seed: number): Inspection {
  let x = seed;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const tokens = [];
  let at = 0;
  for (let t = 0; t < T; t++) {
    const len = Math.floor(rnd() * 3); // empty spans happen (part of a character)
    tokens.push({ text: 'x'.repeat(len), start: at, end: at + len });
    at += len;
  }
  if (tokens[T - 1].end === tokens[T - 1].start) {
    tokens[T - 1].end++;
    tokens[T - 1].text = 'x';
  }
  const focus = Float32Array.from({ length: L * H * T }, rnd);
  return {
    id: 0,
    model: { id: 'synthetic', architecture: 'attention-lens', layers: L, heads: H, kvHeads: H, width: 8, headDim: 4, parameters: 1000, trainContext: 8, maxContext: null, vocabSize: 16, topK: 2, pooledSize: 4 },
    mode: 'softmax',
    range: { start: 0, end: tokens[T - 1].end },
    windowed: false,
    documentTokens: T,
    tokens,
    focus,
    entropy: new Float32Array(L * H * T),
    distance: new Float32Array(L * H * T),
    topIndex: new Int32Array(L * H * T * 2).fill(-1),
    topWeight: new Float32Array(L * H * T * 2),
    pooled: { binSize: 1, bins: T, data: new Float32Array(L * H * T * T) },
    surprisal: new Float32Array(T),
    sink: new Float32Array(L * H * T),
    distanceMass: new Float32Array(L * H * T * 6),
    support: new Int32Array(L * H * T),
    queries: [],
    heads: [],
    timings: { tokenizeMs: 0, inferenceMs: 0, totalMs: 0 },
    reusedTokens: 0,
  };
}
