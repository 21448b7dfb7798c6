// Comparing engine outputs with reference JSON written by training/reference.py: nested lists
// flattened in row-major order, and the largest error against them.

export type Nested = number | Nested[];

export function flat(x: Nested): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x];
}

/**
 * Largest (|a - b| - allowance) / max(1, |b|): absolute for weights, relative for distances in the
 * hundreds; `allowance` is rounding the computation cannot avoid (none unless given).
 */
export function maxError(actual: (i: number) => number, expected: number[], allowance: (i: number) => number = () => 0): number {
  let worst = 0;
  expected.forEach((e, i) => {
    worst = Math.max(worst, (Math.abs(actual(i) - e) - allowance(i)) / Math.max(1, Math.abs(e)));
  });
  return worst;
}
