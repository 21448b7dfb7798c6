// Screening's reads (core/reading/relevance.ts): the keys a tile's window reaches, each tile's share
// of keys passing, the counts per query under a tile or the mean over tiles, and the fading curves.
import * as assert from 'node:assert/strict';
import { keysInWindow, queryRelevance, relevanceCurves, tileFacts } from '../../src/core/reading/relevance';
import { focusOf } from '../../src/core/reading/selection';
import { synthetic, syntheticScreening } from '../common/synthetic-inspection';

/** Keys j <= i with softmask (cos(pi (j - i) / w) + 1) / 2 > 0 for -w < j - i <= 0 (training/screening.py): counted one by one. */
function reachByHand(i: number, w: number): number {
  let n = 0;
  for (let j = 0; j <= i; j++) if (j - i > -w && (Math.cos((Math.PI * (j - i)) / w) + 1) / 2 > 0) n++;
  return n;
}

describe('screening relevance reads', () => {
  it('a window w reaches the keys its softmask is above 0 on: ceil(w) back, every earlier key for w = Infinity', () => {
    for (const w of [1, 1.5, 2, 17.5, 64, 257.3, Infinity]) {
      for (const i of [0, 1, 2, 17, 18, 63, 64, 300]) assert.equal(keysInWindow(i, w), reachByHand(i, w), `i ${i}, w ${w}`);
    }
  });

  it('a tile\'s pass share is its passing keys over the keys in its window, summed over queries: T(T + 1) / 2 for w = Infinity', () => {
    const T = 40;
    const insp = syntheticScreening(2, 3, T, 5, [Infinity, 2, 17.5]);
    const facts = tileFacts(insp);
    assert.deepEqual(Array.from(facts.window), [Infinity, 2, 17.5, Infinity, 2, 17.5]);
    assert.deepEqual(Array.from(facts.acceptance), new Array<number>(6).fill(0.5));
    const passed = (t: number): number => insp.passCount!.subarray(t * T, (t + 1) * T).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(facts.passShare[0] - passed(0) / ((T * (T + 1)) / 2)) < 1e-6, 'w = Infinity: every causal pair');
    // w = 2: query 0 reaches one key, every later query two.
    assert.ok(Math.abs(facts.passShare[1] - passed(1) / (1 + 2 * (T - 1))) < 1e-6, 'w = 2');
    assert.ok(facts.passShare.every((p) => p > 0 && p <= 1));
    // Every key in reach passing is a share of 1.
    const all = syntheticScreening(1, 1, T, 5, [17.5]);
    for (let i = 0; i < T; i++) all.passCount![i] = keysInWindow(i, 17.5);
    assert.equal(tileFacts(all).passShare[0], 1);
  });

  it('per query: one tile\'s counts, or the mean over tiles, whose total is 0 only where no tile finds anything', () => {
    const T = 30;
    const insp = syntheticScreening(2, 2, T, 9, [Infinity, 4]);
    const tile = queryRelevance(insp, { kind: 'head', layer: 1, head: 1 });
    assert.deepEqual(Array.from(tile.passCount), Array.from(insp.passCount!.subarray(3 * T, 4 * T)));
    assert.deepEqual(Array.from(tile.keys), Array.from({ length: T }, (_, i) => Math.min(i + 1, 4)));
    assert.deepEqual(Array.from(tile.total), Array.from(insp.totalRelevance!.subarray(3 * T, 4 * T)));
    // Query 7 finds nothing in every tile, query 8 in every tile but one.
    for (let t = 0; t < 4; t++) {
      insp.totalRelevance![t * T + 7] = 0;
      insp.totalRelevance![t * T + 8] = t === 2 ? 0.3 : 0;
    }
    for (const how of ['mean', 'max'] as const) {
      const mean = queryRelevance(insp, { kind: 'aggregate', how });
      assert.equal(mean.total[7], 0, `${how}: nothing in any tile`);
      assert.ok(Math.abs(mean.total[8] - 0.3 / 4) < 1e-7, `${how}: the mean over tiles, not the max`);
      const keys = (i: number): number => (i + 1 + Math.min(i + 1, 4) + i + 1 + Math.min(i + 1, 4)) / 4;
      assert.ok(Math.abs(mean.keys[20] - keys(20)) < 1e-5);
    }
    assert.deepEqual(queryRelevance(insp, { kind: 'head', layer: 8, head: 10 }), queryRelevance(insp, { kind: 'head', layer: 1, head: 1 }), 'a tile past the shape reads as the last one');
  });

  it('fading curves by position: pass share as a ratio of sums, mean total and mean largest relevance of the tile', () => {
    const T = 50;
    const insp = syntheticScreening(1, 2, T, 3, [Infinity, 8]);
    const sel = { kind: 'head', layer: 0, head: 1 } as const;
    const c = relevanceCurves(insp, sel, 5);
    assert.deepEqual(Array.from(c.starts), [0, 10, 20, 30, 40]);
    const q = queryRelevance(insp, sel);
    const focus = focusOf(insp, sel);
    const sum = (a: Float32Array, lo: number, hi: number): number => a.subarray(lo, hi).reduce((x, y) => x + y, 0);
    for (let b = 0; b < 5; b++) {
      const lo = b * 10;
      assert.ok(Math.abs(c.passShare[b] - sum(q.passCount, lo, lo + 10) / sum(q.keys, lo, lo + 10)) < 1e-6, `pass share, bucket ${b}`);
      assert.ok(Math.abs(c.totalRelevance[b] - sum(q.total, lo, lo + 10) / 10) < 1e-6, `total, bucket ${b}`);
      assert.ok(Math.abs(c.largest[b] - sum(focus, lo, lo + 10) / 10) < 1e-6, `largest, bucket ${b}`);
    }
    // An aggregate reads as the mean over tiles.
    assert.deepEqual(relevanceCurves(insp, { kind: 'aggregate', how: 'max' }, 5), relevanceCurves(insp, { kind: 'aggregate', how: 'mean' }, 5));
  });

  it('refuses an attention inspection: it has no pass counts', () => {
    assert.throws(() => tileFacts(synthetic(1, 1, 4, 1)), /a softmax inspection has no relevance/);
  });
});
