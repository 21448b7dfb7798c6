// The one equal-runs splitter every curve over position uses (needle, fading chart, Compare's focus by position).
import * as assert from 'node:assert/strict';
import { downsample, equalRuns } from '../../src/shared/buckets';
import { close } from '../common/fixtures';

describe('downsample', () => {
  const values = [1, 5, 2, 0, 0, 3, 9, 1, 1, 4];

  it('keeps the max or the mean of each bucket', () => {
    const max = downsample(values, 3, 'max');
    assert.deepEqual(Array.from(max.starts), [0, 3, 6]);
    assert.deepEqual(Array.from(max.ends), [3, 6, 10]);
    assert.deepEqual(Array.from(max.values), [5, 3, 9]);
    const mean = downsample(values, 3, 'mean');
    [8 / 3, 1, 15 / 4].forEach((m, b) => close(mean.values[b], m, 1e-6, `bucket ${b}`));
  });

  it('buckets cover every point once, for any size', () => {
    for (let n = 1; n <= 12; n++) {
      const d = downsample(values, n, 'max');
      assert.equal(d.values.length, Math.min(n, values.length));
      assert.equal(d.starts[0], 0);
      assert.equal(d.ends[d.ends.length - 1], values.length);
      for (let b = 1; b < d.starts.length; b++) assert.equal(d.starts[b], d.ends[b - 1]);
      assert.equal(Math.max(...d.values), 9, 'the peak survives');
    }
  });

  it('fewer points than asked: one bucket each; nothing in, nothing out; at least one bucket', () => {
    assert.deepEqual(Array.from(downsample(values, 100, 'mean').values), values);
    assert.equal(downsample([], 10, 'max').values.length, 0);
    assert.deepEqual(Array.from(downsample(values, 0, 'max').values), [9]);
  });

  it('averages focus over equal runs of positions, one point per token when there are few', () => {
    const focus = Float32Array.from([1, 0.5, 0.5, 0.25, 0.25, 0.25]);
    const two = downsample(focus, 2, 'mean');
    assert.deepEqual(Array.from(two.starts), [0, 3]);
    assert.deepEqual(Array.from(two.values), [2 / 3, 0.25].map((v) => Math.fround(v)));
    assert.equal(downsample(focus, 100, 'mean').values.length, 6);
  });
});

describe('equal runs', () => {
  it('cover 0..length once in nearly equal runs, never more runs than positions', () => {
    for (const [length, max] of [[10, 3], [7, 7], [5, 100], [1, 4], [0, 4], [9, 0]]) {
      const { starts, ends } = equalRuns(length, max);
      assert.equal(starts.length, Math.min(length, Math.max(1, max)), `${length}/${max}`);
      for (let b = 0; b < starts.length; b++) {
        assert.equal(starts[b], b === 0 ? 0 : ends[b - 1]);
        assert.ok(ends[b] - starts[b] >= Math.floor(length / starts.length), 'nearly equal');
      }
      if (length > 0) assert.equal(ends[ends.length - 1], length);
    }
  });
});
