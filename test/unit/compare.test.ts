// Compare's pure parts: which pair of modes opens first, which pairs share heads, the difference
// map, the focus curve by position, and the diverging colour scale of the difference view.
import * as assert from 'node:assert/strict';
import { divergingColor } from '../../src/shared/color-scale';
import { defaultComparePair, difference, sameWeights } from '../../src/shared/compare';
import { isSetCompareMessage, isShownMessage } from '../../src/protocol';

describe('Compare', () => {
  it('opens on Softmax vs SSMax, else Softmax vs SSMax on Softmax weights, else nothing', () => {
    assert.deepEqual(defaultComparePair(['softmax', 'ssmax', 'ssmax-posthoc']), ['softmax', 'ssmax']);
    // A custom model: one checkpoint, run two ways.
    assert.deepEqual(defaultComparePair(['softmax', 'ssmax-posthoc']), ['softmax', 'ssmax-posthoc']);
    assert.equal(defaultComparePair(['softmax']), undefined);
  });

  it('matches heads only between modes that run the same weights', () => {
    assert.ok(sameWeights('softmax', 'ssmax-posthoc'));
    assert.ok(!sameWeights('softmax', 'ssmax'));
    assert.ok(!sameWeights('ssmax', 'ssmax-posthoc'));
  });

  it('subtracts the first map from the second, cell by cell, and refuses maps of different shapes', () => {
    const a = Float32Array.from([0.5, 0, 0.25, 0.25]);
    const b = Float32Array.from([0.75, 0, 0.0, 0.25]);
    assert.deepEqual(Array.from(difference(a, b)), [0.25, 0, -0.25, 0]);
    assert.throws(() => difference(a, new Float32Array(3)), RangeError);
  });

  it('colours differences blue (less) and orange (more), the background at zero, stronger with size', () => {
    const bg: [number, number, number] = [30, 30, 30];
    assert.deepEqual(divergingColor(0, bg), bg);
    const less = divergingColor(-1, bg);
    const more = divergingColor(1, bg);
    assert.ok(less[2] > less[0], `blue for less, got ${less}`);
    assert.ok(more[0] > more[2], `orange for more, got ${more}`);
    const half = divergingColor(0.25, bg);
    assert.ok(half[0] > bg[0] && half[0] < more[0], 'in between for a smaller difference');
    assert.deepEqual(divergingColor(5, bg), more, 'clamped');
  });

  it('validates the pages’ Compare and probe messages', () => {
    assert.ok(isSetCompareMessage({ type: 'setCompare', compare: { on: true, modes: ['softmax', 'ssmax'] } }));
    assert.ok(isSetCompareMessage({ type: 'setCompare', compare: { on: false } }));
    assert.ok(!isSetCompareMessage({ type: 'setCompare', compare: { on: true, modes: ['softmax'] } }));
    assert.ok(!isSetCompareMessage({ type: 'setCompare', compare: { on: true, modes: ['softmax', 'relu'] } }));
    const shown = { type: 'shown', documentId: 3, mode: 'softmax', selection: { kind: 'aggregate', how: 'mean' }, compare: [], maps: 1, needlePoints: 0, roles: 16 };
    assert.ok(isShownMessage(shown));
    assert.ok(!isShownMessage({ ...shown, maps: -1 }));
  });
});
