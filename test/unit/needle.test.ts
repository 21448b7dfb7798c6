// Attention mass reaching a span, from full rows (exact), top-k (a lower bound) and a map region
// (the shipped model: test/engine/needle.test.ts).
import * as assert from 'node:assert/strict';
import { needleFromRows, needleFromTopK } from '../../src/core/reading/needle';
import type { RowOf } from '../common/attention-patterns';
import { construct, lcg, randomRow } from '../common/attention-patterns';
import { close } from '../common/fixtures';

/** Query i's rows of every head, [head][key], as an inspection's QueryRows hold them. */
function rowsByQuery(rows: Float32Array, heads: number, T: number): Map<number, Float32Array> {
  const out = new Map<number, Float32Array>();
  for (let i = 0; i < T; i++) {
    const r = new Float32Array(heads * T);
    for (let h = 0; h < heads; h++) r.set(rows.subarray((h * T + i) * T, (h * T + i + 1) * T), h * T);
    out.set(i, r);
  }
  return out;
}

describe('needle curve', () => {
  // Two heads over five tokens, rows written out by hand.
  const hand: number[][][] = [
    [[1], [0.5, 0.5], [0.1, 0.6, 0.3], [0.2, 0.3, 0.4, 0.1], [0.1, 0.2, 0.3, 0.15, 0.25]],
    [[1], [0.9, 0.1], [0.2, 0.2, 0.6], [0.7, 0.05, 0.05, 0.2], [0.05, 0.05, 0.1, 0.4, 0.4]],
  ];
  const heads: RowOf[] = hand.map((rows) => (i) => rows[i]);
  const T = 5;

  it('exact mass on the span is the sum of its keys, per head, with mean and max over heads', () => {
    const c = construct(heads, T, T);
    const curve = needleFromRows(2, T, rowsByQuery(c.rows, 2, T), { start: 1, end: 3 });
    assert.equal(curve.exact, true);
    assert.equal(curve.first, 3);
    const expect = [
      [0.3 + 0.4, 0.2 + 0.3],
      [0.05 + 0.05, 0.05 + 0.1],
    ];
    expect.forEach((row, h) => row.forEach((m, p) => close(curve.perHead[h][p], m, 1e-6, `head ${h} point ${p}`)));
    close(curve.mean[0], (0.7 + 0.1) / 2, 1e-6, 'mean, query 3');
    close(curve.mean[1], (0.5 + 0.15) / 2, 1e-6, 'mean, query 4');
    close(curve.max[0], 0.7, 1e-6, 'max, query 3');
    close(curve.max[1], 0.5, 1e-6, 'max, query 4');
  });

  it('top-k mass counts only the span keys among the top k: the hand-computed lower bound', () => {
    const curve = needleFromTopK(construct(heads, T, 2), { start: 1, end: 3 });
    assert.equal(curve.exact, false);
    // Head 0: query 3 keeps keys 2 (0.4) and 1 (0.3); query 4 keeps 2 (0.3) and 4 (0.25).
    // Head 1: query 3 keeps 0 and 3; query 4 keeps 3 and 4.
    assert.deepEqual(Array.from(curve.perHead[0], (v) => Math.round(v * 1e6) / 1e6), [0.7, 0.3]);
    assert.deepEqual(Array.from(curve.perHead[1]), [0, 0]);
    const full = needleFromTopK(construct(heads, T, T), { start: 1, end: 3 });
    close(full.perHead[0][1], 0.5, 1e-6, 'k = T is exact');
  });

  it('top-k never exceeds the exact mass (random rows, random spans)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = lcg(seed);
      const len = 1 + Math.floor(rnd() * 30);
      const rowHeads: RowOf[] = [0.5, 2].map((temp) => (i) => randomRow(lcg(seed * 1000 + i), i, temp));
      const a = Math.floor(rnd() * (len + 1));
      const b = a + Math.floor(rnd() * (len + 1 - a));
      const exact = needleFromRows(2, len, rowsByQuery(construct(rowHeads, len, len).rows, 2, len), { start: a, end: b });
      const lower = needleFromTopK(construct(rowHeads, len, 4), { start: a, end: b });
      assert.equal(exact.mean.length, len - b);
      for (let p = 0; p < len - b; p++) {
        for (let h = 0; h < 2; h++) assert.ok(lower.perHead[h][p] <= exact.perHead[h][p] + 1e-6, `seed ${seed} head ${h} point ${p}`);
        assert.ok(lower.max[p] <= exact.max[p] + 1e-6);
        assert.ok(exact.max[p] <= 1 + 1e-6);
      }
    }
  });

  it('edge cases: an empty span gets no mass, a span reaching the end has no later query, one token', () => {
    const c = construct(heads, T, T);
    const empty = needleFromRows(2, T, rowsByQuery(c.rows, 2, T), { start: 2, end: 2 });
    assert.equal(empty.first, 2);
    assert.deepEqual(Array.from(empty.max), [0, 0, 0]);
    assert.deepEqual(Array.from(needleFromTopK(c, { start: 4, end: 4 }).mean), [0]);
    assert.equal(needleFromTopK(c, { start: 3, end: 5 }).mean.length, 0);
    const one = construct([() => [1]], 1, 16);
    assert.equal(needleFromTopK(one, { start: 0, end: 1 }).mean.length, 0);
    assert.deepEqual(Array.from(needleFromTopK(one, { start: 0, end: 0 }).mean), [0]);
  });

  it('rejects spans outside the tokens and missing rows', () => {
    const c = construct(heads, T, T);
    assert.throws(() => needleFromTopK(c, { start: 3, end: 2 }), /span \[3, 2\) is not a token range within 0..5/);
    assert.throws(() => needleFromTopK(c, { start: 0, end: 6 }), /not a token range/);
    assert.throws(() => needleFromTopK(c, { start: 0.5, end: 2 }), /not a token range/);
    const rows = rowsByQuery(c.rows, 2, T);
    rows.delete(4);
    assert.throws(() => needleFromRows(2, T, rows, { start: 0, end: 1 }), /no full rows \(2 x 5\) for query 4/);
  });
});
