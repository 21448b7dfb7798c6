// A synthetic Inspection for the pure helpers' tests: random focus, empty spans included, every
// array sized for L layers x H heads x T tokens; no model runs.
import type { Inspection } from '../../src/core/inspection-types';

/** A synthetic Inspection for the pure helpers: only the fields they read; `bins` a side of the pooled maps (default one a token). */
export function synthetic(L: number, H: number, T: number, seed: number, bins = T): Inspection {
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
    pooled: { binSize: Math.ceil(T / bins), bins, data: new Float32Array(L * H * bins * bins) },
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

/**
 * [query][key] relevances of a 4-token screening map: query 0 finds nothing (every key rejected),
 * 0.3 at query 1 -> key 0, exactly 0 at query 1 -> key 1, and a largest value of 0.9 (below 1: a
 * rescaled export would draw it as 1).
 */
export const RELEVANCE_MAP = [
  [0, 0, 0, 0],
  [0.3, 0, 0, 0],
  [0.5, 0.2, 0.9, 0],
  [0, 0, 0.1, 0.5],
];

/** A synthetic screening Inspection of 4 tokens: every tile's map is RELEVANCE_MAP; its pass counts and row sums follow from it. */
export function syntheticRelevanceMap(L: number, H: number): Inspection {
  const T = RELEVANCE_MAP.length;
  const insp = synthetic(L, H, T, 3);
  const cells = RELEVANCE_MAP.flat();
  const rowFocus = RELEVANCE_MAP.map((row) => Math.max(...row));
  const passCount = new Float32Array(L * H * T);
  const totalRelevance = new Float32Array(L * H * T);
  for (let lh = 0; lh < L * H; lh++) {
    insp.pooled.data.set(cells, lh * T * T);
    insp.focus.set(rowFocus, lh * T);
    RELEVANCE_MAP.forEach((row, q) => {
      passCount[lh * T + q] = row.filter((v) => v > 0).length;
      totalRelevance[lh * T + q] = row.reduce((a, b) => a + b, 0);
    });
  }
  return {
    ...asScreening(insp, passCount, totalRelevance),
    heads: Array.from({ length: L * H }, (_, lh) => ({ layer: Math.floor(lh / H), head: lh % H, meanFocus: rowFocus.reduce((a, b) => a + b, 0) / T, meanEntropy: NaN, meanDistance: 1 })),
  };
}

/**
 * A synthetic screening inspection: relevance's conventions (entropy NaN, support -1), every tile's
 * window w from `windows` in turn, r = 0.5, and pass counts within each query's window; a query
 * whose pass count is 0 has total relevance 0 and focus 0.
 */
export function syntheticScreening(L: number, H: number, T: number, seed: number, windows: readonly number[], bins = T): Inspection {
  const insp = synthetic(L, H, T, seed, bins);
  const window = Float32Array.from({ length: L * H }, (_, t) => windows[t % windows.length]);
  const passCount = new Float32Array(L * H * T);
  const totalRelevance = new Float32Array(L * H * T);
  for (let t = 0; t < L * H; t++) {
    for (let i = 0; i < T; i++) {
      const reach = Number.isFinite(window[t]) ? Math.min(i + 1, Math.ceil(window[t])) : i + 1;
      const pass = Math.floor(insp.focus[t * T + i] * (reach + 1)) % (reach + 1);
      passCount[t * T + i] = pass;
      totalRelevance[t * T + i] = pass * insp.focus[t * T + i];
      if (pass === 0) insp.focus[t * T + i] = 0;
    }
  }
  return {
    ...asScreening(insp, passCount, totalRelevance),
    screening: { window, acceptance: new Float32Array(L * H).fill(0.5) },
  };
}

/** A synthetic inspection read as screening's: relevance's conventions (entropy NaN, support -1) and its counts. */
function asScreening(insp: Inspection, passCount: Float32Array, totalRelevance: Float32Array): Inspection {
  const n = insp.model.layers * insp.model.heads * insp.tokens.length;
  return { ...insp, mode: 'screening', entropy: new Float32Array(n).fill(NaN), support: new Int32Array(n).fill(-1), passCount, totalRelevance };
}
