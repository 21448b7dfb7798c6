// Plain reference maths over one attention row (query i, keys 0..T-1), written for clarity: what the
// engine's summaries are checked against.
import type { KeyWeight } from '../../src/core/reading/analysis';
export function refFocus(row: ArrayLike<number>, i: number): number {
  let m = 0;
  for (let j = 0; j <= i; j++) m = Math.max(m, row[j]);
  return m;
}

export function refEntropy(row: ArrayLike<number>, i: number): number {
  let e = 0;
  for (let j = 0; j <= i; j++) if (row[j] > 0) e -= row[j] * Math.log(row[j]);
  return e;
}

export function refDistance(row: ArrayLike<number>, i: number): number {
  let d = 0;
  for (let j = 0; j <= i; j++) d += row[j] * (i - j);
  return d;
}

/** The k largest weights among the visible keys, best first. */
export function refTopK(row: ArrayLike<number>, i: number, k: number): KeyWeight[] {
  const all: KeyWeight[] = [];
  for (let j = 0; j <= i; j++) all.push({ token: j, weight: row[j] });
  all.sort((a, b) => b.weight - a.weight || a.token - b.token);
  return all.slice(0, k);
}

/** Max-pooled map from all T rows (T x T, row-major), per models/README.md. */
export function refPooled(rows: ArrayLike<number>, T: number, P: number): { binSize: number; bins: number; data: Float32Array } {
  const binSize = Math.ceil(T / P);
  const bins = Math.ceil(T / binSize);
  const data = new Float32Array(bins * bins);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      const cell = Math.floor(i / binSize) * bins + Math.floor(j / binSize);
      data[cell] = Math.max(data[cell], rows[i * T + j]);
    }
  }
  return { binSize, bins, data };
}
