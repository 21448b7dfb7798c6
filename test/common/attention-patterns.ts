// Constructed attention for the head-role and needle tests: each head is a function giving the full
// causal row of query i, from which the top-k arrays and entropies are built as the graph does.
import type { TopKAttention } from '../../src/core/reading/top-k-attention';

/** Weights of keys 0..i for query i (length i + 1, summing to 1). */
export type RowOf = (i: number) => number[];

export interface Constructed extends TopKAttention {
  /** [head][query][key]: the full rows, zero above the diagonal. */
  rows: Float32Array;
  /** [head][query]: entropy of each row, nats. */
  entropy: Float32Array;
}

export function construct(heads: RowOf[], T: number, k: number): Constructed {
  const H = heads.length;
  const rows = new Float32Array(H * T * T);
  const entropy = new Float32Array(H * T);
  const index = new Int32Array(H * T * k).fill(-1);
  const weight = new Float32Array(H * T * k);
  heads.forEach((rowOf, h) => {
    for (let i = 0; i < T; i++) {
      const row = rowOf(i);
      if (row.length !== i + 1) throw new Error(`head ${h} query ${i}: ${row.length} weights, expected ${i + 1}`);
      rows.set(row, (h * T + i) * T);
      entropy[h * T + i] = -row.reduce((e, w) => (w > 0 ? e + w * Math.log(w) : e), 0);
      const order = row.map((w, j) => ({ j, w })).sort((a, b) => b.w - a.w || a.j - b.j);
      order.slice(0, k).forEach(({ j, w }, r) => {
        index[(h * T + i) * k + r] = j;
        weight[(h * T + i) * k + r] = w;
      });
    }
  });
  return { heads: H, tokens: T, k, index, weight, rows, entropy };
}

/** All weight on one key. */
export function onKey(i: number, key: number): number[] {
  const row = new Array<number>(i + 1).fill(0);
  row[key] = 1;
  return row;
}

export function uniform(i: number): number[] {
  return new Array<number>(i + 1).fill(1 / (i + 1));
}

/** Deterministic pseudo-random numbers in [0, 1). */
export function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** A random softmax row over keys 0..i, sharp or flat by temperature. */
export function randomRow(rnd: () => number, i: number, temperature: number): number[] {
  const e = Array.from({ length: i + 1 }, () => Math.exp((rnd() * 8) / temperature));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
