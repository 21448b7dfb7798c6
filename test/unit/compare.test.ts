// Compare's pure parts: which pair of modes opens first, which pairs share heads, which are one
// quantity (screening's relevance is not a weight), the difference map, the focus curve by
// position, and the colour scales of the difference view and of relevance.
import * as assert from 'node:assert/strict';
import { PAGE_RGB, divergingColor, relevanceColor } from '../../src/shared/color-scale';
import { compareSelection, defaultComparePair, difference, partnerOf, quantityLegend, sameQuantity, sameWeights, shownPair } from '../../src/shared/compare';
import type { Mode } from '../../src/shared/vocabulary';
import { isSetCompareMessage, isShownMessage } from '../../src/protocol';

describe('Compare', () => {
  it('opens on Softmax vs SSMax, else Softmax vs SSMax on Softmax weights, else nothing', () => {
    assert.deepEqual(defaultComparePair(['softmax', 'ssmax', 'ssmax-posthoc']), ['softmax', 'ssmax']);
    // A custom model: one checkpoint, run two ways.
    assert.deepEqual(defaultComparePair(['softmax', 'ssmax-posthoc']), ['softmax', 'ssmax-posthoc']);
    assert.equal(defaultComparePair(['softmax']), undefined);
  });

  it('beside screening, opens on SSMax (else Softmax) vs Screening, and pairs Screening with SSMax in the hover', () => {
    const all: Mode[] = ['softmax', 'ssmax', 'ssmax-posthoc', 'ministral3-scaling', 'logn-scaling', 'screening'];
    assert.deepEqual(defaultComparePair(all, 'screening'), ['ssmax', 'screening']);
    assert.deepEqual(defaultComparePair(['softmax', 'ssmax-posthoc', 'screening'], 'screening'), ['softmax', 'screening']);
    // Shown in an attention mode, the pair stays Softmax vs SSMax.
    assert.deepEqual(defaultComparePair(all, 'ssmax'), ['softmax', 'ssmax']);
    assert.deepEqual(defaultComparePair(all), ['softmax', 'ssmax']);
    assert.equal(partnerOf(all, 'screening'), 'ssmax');
    assert.equal(partnerOf(all, 'ssmax'), 'softmax');
    assert.equal(partnerOf(all, 'softmax'), 'ssmax');
    assert.deepEqual(shownPair(all, 'screening'), ['ssmax', 'screening']);
  });

  it('knows weights from relevance: never head by head across them, the mean instead', () => {
    assert.ok(sameQuantity('softmax', 'ssmax'));
    assert.ok(sameQuantity('softmax', 'ssmax-posthoc'));
    assert.ok(!sameQuantity('ssmax', 'screening'));
    assert.ok(!sameQuantity('screening', 'softmax'));
    assert.ok(!sameWeights('ssmax', 'screening'));
    const head = { kind: 'head', layer: 1, head: 2 } as const;
    const max = { kind: 'aggregate', how: 'max' } as const;
    assert.deepEqual(compareSelection(['ssmax', 'screening'], head), { kind: 'aggregate', how: 'mean' });
    assert.deepEqual(compareSelection(['screening', 'softmax'], head), { kind: 'aggregate', how: 'mean' });
    assert.deepEqual(compareSelection(['ssmax', 'screening'], max), max, 'an aggregate stays');
    assert.deepEqual(compareSelection(['softmax', 'ssmax'], head), head, 'two attention modes keep the head');
  });

  it('says plainly what each side of the comparison is', () => {
    assert.equal(quantityLegend(['ssmax', 'screening']), 'SSMax: attention weight, each row sums to 1 · Screening: relevance per key, absolute, 0 = rejected');
    assert.equal(quantityLegend(['screening']), 'Screening: relevance per key, absolute, 0 = rejected');
  });

  it('colours relevance on its absolute scale: 0 (rejected) is the background itself, 0.3 stays below 1', () => {
    const bg: [number, number, number] = [30, 30, 30];
    assert.deepEqual(relevanceColor(0, bg), bg);
    assert.deepEqual(relevanceColor(0, PAGE_RGB), PAGE_RGB);
    const low = relevanceColor(0.3, bg);
    const full = relevanceColor(1, bg);
    assert.notDeepEqual(low, bg, 'any relevance above 0 shows');
    assert.ok(low[0] > bg[0] && low[0] < full[0], `0.3 lies between empty and full: ${low} vs ${full}`);
    assert.deepEqual(relevanceColor(-0.5, bg), bg, 'nothing below empty');
    assert.deepEqual(relevanceColor(3, bg), full, 'clamped at 1');
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
