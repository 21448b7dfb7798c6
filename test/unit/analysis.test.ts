// The analysis helpers against straightforward re-implementations, on synthetic inspections.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { aggregateFocus, fadingCurve, headFocus, tokenAt, topKeys } from '../../src/core/reading/analysis';
import { rowOf } from '../../src/core/reading/selection';
import { close } from '../common/fixtures';
import { synthetic } from '../common/synthetic-inspection';

describe('analysis helpers', () => {
  it('tokenAt agrees with a linear scan for every offset (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 1e6 }), (T, seed) => {
        const insp = synthetic(1, 1, T, seed);
        const end = insp.tokens[T - 1].end;
        for (let offset = -1; offset <= end + 1; offset++) {
          let expected = insp.tokens.findIndex((t) => t.start <= offset && offset < t.end);
          if (offset === end) expected = T - 1;
          assert.equal(tokenAt(insp, offset), expected, `offset ${offset}`);
        }
      }),
    );
  });

  it('aggregateFocus is the mean and the max over all heads', () => {
    const insp = synthetic(2, 3, 7, 42);
    const mean = aggregateFocus(insp, 'mean');
    const max = aggregateFocus(insp, 'max');
    for (let t = 0; t < 7; t++) {
      const vals = [];
      for (let l = 0; l < 2; l++) for (let h = 0; h < 3; h++) vals.push(headFocus(insp, l, h)[t]);
      close(mean[t], vals.reduce((a, b) => a + b) / vals.length, 1e-6, 'mean');
      assert.equal(max[t], Math.fround(Math.max(...vals)));
    }
  });

  it('rowOf reads one head\'s slice of full rows, or the mean and max over heads', () => {
    const insp = synthetic(2, 3, 7, 5);
    const rows = Float32Array.from({ length: 6 * 7 }, (_, i) => ((i * 37) % 11) / 11);
    assert.deepEqual(Array.from(rowOf(insp, { kind: 'head', layer: 1, head: 2 }, rows)), Array.from(rows.subarray(5 * 7, 6 * 7)));
    const mean = rowOf(insp, { kind: 'aggregate', how: 'mean' }, rows);
    const max = rowOf(insp, { kind: 'aggregate', how: 'max' }, rows);
    for (let k = 0; k < 7; k++) {
      const vals = Array.from({ length: 6 }, (_, h) => rows[h * 7 + k]);
      close(mean[k], vals.reduce((a, b) => a + b) / 6, 1e-6, 'mean');
      assert.equal(max[k], Math.fround(Math.max(...vals)));
    }
  });

  it('fadingCurve averages focus over heads and position buckets per layer', () => {
    const insp = synthetic(2, 2, 10, 7);
    const curve = fadingCurve(insp, 3);
    assert.deepEqual(Array.from(curve.starts), [0, 3, 6]);
    assert.deepEqual(Array.from(curve.ends), [3, 6, 10]);
    for (let l = 0; l < 2; l++) {
      for (let b = 0; b < 3; b++) {
        const vals = [];
        for (let h = 0; h < 2; h++) for (let t = curve.starts[b]; t < curve.ends[b]; t++) vals.push(headFocus(insp, l, h)[t]);
        close(curve.meanFocus[l][b], vals.reduce((a, c) => a + c) / vals.length, 1e-6, `layer ${l} bucket ${b}`);
      }
    }
    assert.equal(fadingCurve(insp, 50).starts.length, 10, 'no more buckets than tokens');
  });

  it('topKeys skips keys marked -1 and stops at n', () => {
    const insp = synthetic(1, 1, 3, 1);
    insp.topIndex.set([0, -1, 1, 0, 2, 1]);
    insp.topWeight.set([1, 0, 0.7, 0.3, 0.6, 0.4]);
    assert.deepEqual(topKeys(insp, 0, 0, 0, 5), [{ token: 0, weight: 1 }]);
    assert.equal(topKeys(insp, 0, 0, 1, 5).length, 2);
    assert.equal(topKeys(insp, 0, 0, 2, 1)[0].token, 2);
    assert.throws(() => topKeys(insp, 0, 0, 3, 1), /query token 3 is out of range/);
    assert.throws(() => headFocus(insp, 1, 0), /layer 1 is out of range/);
  });
});
