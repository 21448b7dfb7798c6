// Support size (fewest keys holding 90 % of a row) on hand-computed rows, and against sorting on
// random rows whose weights share histogram bins.
import * as assert from 'node:assert/strict';
import { SUPPORT_SHARE, supportOfRow, supportOfTop, supportSampled } from '../../src/core/reading/support-size';
import { lcg, randomRow } from '../common/attention-patterns';

function of(weights: number[]): number {
  const row = Float32Array.from(weights);
  return supportOfRow(row, 0, row.length, SUPPORT_SHARE);
}

/** By sorting: the fewest largest weights reaching 90 % of the row's float32 total. */
function sorted(row: Float32Array, n: number): number {
  const w = Array.from(row.subarray(0, n)).sort((a, b) => b - a);
  const total = w.reduce((a, b) => a + b, 0);
  let held = 0;
  let m = 0;
  while (m < n && held < (SUPPORT_SHARE - 1e-6) * total) held += w[m++];
  return m;
}

describe('support size from the full row', () => {
  it('a uniform row of n keys: ceil(0.9 n), also where 0.9 n is whole', () => {
    for (const n of [1, 2, 9, 10, 17, 60, 100, 1000, 4097]) assert.equal(of(new Array<number>(n).fill(1 / n)), Math.ceil(0.9 * n - 1e-9), `n = ${n}`);
  });

  it('a one-hot row: 1, wherever the key is', () => {
    for (const at of [0, 5, 99]) {
      const w = new Array<number>(100).fill(0);
      w[at] = 1;
      assert.equal(of(w), 1, `key ${at}`);
    }
  });

  it('a row whose top 16 hold less than 90 %: 20 keys of 0.04 and 100 of 0.002 need all 20 and 50 more', () => {
    // Top 16: 0.64. The 20 heavy keys hold 0.8; the other 0.1 takes 50 keys of 0.002.
    const w = [...new Array<number>(100).fill(0.002), ...new Array<number>(20).fill(0.04)];
    assert.equal(of(w), 70);
  });

  it('weights within 5 % of each other (one histogram bin, 9 % wide, or two) are ordered exactly', () => {
    // 0.5 alone, then 50 keys from 0.0105 down to 0.0100: the answer falls among them.
    const w = [0.5];
    for (let j = 0; j < 50; j++) w.push(0.0105 - j * 0.00001);
    const total = w.reduce((a, b) => a + b, 0);
    const scaled = w.map((v) => v / total);
    assert.equal(of(scaled), sorted(Float32Array.from(scaled), scaled.length));
    assert.ok(of(scaled) > 1 && of(scaled) < 51);
  });

  it('reads only keys [from, from + n): padding past the query and other rows do not count', () => {
    const row = new Float32Array(3 + 10 + 5);
    row.fill(0.5, 0, 3); // another row's keys
    row.fill(0.1, 3, 13);
    row.fill(0.7, 13); // past the query: ignored
    assert.equal(supportOfRow(row, 3, 10, SUPPORT_SHARE), 9);
    assert.equal(supportOfRow(row, 3, 0, SUPPORT_SHARE), 0, 'no keys');
  });

  it('equals sorting on random rows, sharp to flat, up to 3,000 keys', () => {
    const rnd = lcg(7);
    for (let r = 0; r < 300; r++) {
      const n = 1 + Math.floor(rnd() * 3000);
      const row = Float32Array.from(randomRow(rnd, n - 1, [0.5, 2, 8, 30][r % 4]));
      assert.equal(supportOfRow(row, 0, n, SUPPORT_SHARE), sorted(row, n), `row ${r}, ${n} keys`);
    }
  });

  it('from the top k: exact where they hold 90 %, 0 (count the row) where they do not', () => {
    const top = Float32Array.of(0.5, 0.3, 0.1, 0.05, 0.05);
    assert.equal(supportOfTop(top, 0, 5, 1, SUPPORT_SHARE), 3, '0.5 + 0.3 + 0.1');
    assert.equal(supportOfTop(top, 1, 4, 1, SUPPORT_SHARE), 0, 'the top 4 from 0.3 hold 0.5 of the row');
    assert.equal(supportOfTop(top, 1, 4, 0.5, SUPPORT_SHARE), 3, 'of a row summing to 0.5: 0.3 + 0.1 + 0.05');
    const uniform = new Float32Array(16).fill(1 / 20);
    assert.equal(supportOfTop(uniform, 0, 16, 1, SUPPORT_SHARE), 0, '16 of 20 equal keys hold 80 %');
    assert.equal(of(new Array<number>(20).fill(1 / 20)), 18, 'the row gives 18');
  });

  it('measures one query per pooling bin: the multiples of the bin', () => {
    assert.deepEqual([0, 1, 3, 4, 8, 9].filter((i) => supportSampled(i, 4)), [0, 4, 8]);
    assert.ok([0, 1, 2, 3].every((i) => supportSampled(i, 1)));
  });
});
