// The shared vocabulary and colour scale: one label and one scale for every view.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAP_SCALE, STRENGTH_STEPS, colouredValues, intensity, stepRange, stepScale, stepShares, strengthStep, weightColor } from '../../src/shared/color-scale';
import { fadingModes } from '../../src/shared/compare';
import { MODES, MODE_LABELS, MODE_SHORT, allSelections, clipText, headLabel, isHeadSelection, isIndex, sameSelection, selectionLabel } from '../../src/shared/vocabulary';

describe('shared vocabulary', () => {
  it('labels heads from 1 and aggregates by name', () => {
    assert.equal(headLabel(0, 0), 'L1 H1');
    assert.equal(selectionLabel({ kind: 'head', layer: 1, head: 3 }), 'L2 H4');
    assert.equal(selectionLabel({ kind: 'aggregate', how: 'max' }), 'all heads: max');
  });

  it('lists every selection of a shape, aggregates first, and each is valid', () => {
    const all = allSelections(2, 3);
    assert.equal(all.length, 2 + 6);
    assert.deepEqual(all.slice(0, 2).map(selectionLabel), ['all heads: mean', 'all heads: max']);
    assert.deepEqual(all.slice(2).map(selectionLabel), ['L1 H1', 'L1 H2', 'L1 H3', 'L2 H1', 'L2 H2', 'L2 H3']);
    assert.ok(all.every(isHeadSelection));
    assert.ok(!isHeadSelection({ kind: 'head', layer: -1, head: 0 }));
    assert.ok(!isHeadSelection({ kind: 'aggregate', how: 'median' }));
  });

  it('names every mode', () => {
    for (const m of MODES) assert.ok(MODE_LABELS[m] && MODE_SHORT[m], m);
  });

  it('the fading chart draws the trained modes, and the post-hoc one only while it is shown', () => {
    assert.deepEqual(fadingModes(MODES, 'softmax'), ['softmax', 'ssmax']);
    assert.deepEqual(fadingModes(MODES, 'ssmax-posthoc'), ['softmax', 'ssmax', 'ssmax-posthoc']);
    assert.deepEqual(fadingModes(['softmax', 'ssmax-posthoc'], 'softmax'), ['softmax']);
    assert.deepEqual(fadingModes(MODES, 'ministral3-scaling'), ['softmax', 'ssmax', 'ministral3-scaling'], 'the length rules are post hoc too');
  });

  it('compares selections by value, whatever their key order', () => {
    assert.ok(sameSelection({ kind: 'head', layer: 1, head: 2 }, { head: 2, layer: 1, kind: 'head' } as const));
    assert.ok(!sameSelection({ kind: 'head', layer: 1, head: 2 }, { kind: 'head', layer: 2, head: 1 }));
    assert.ok(sameSelection({ kind: 'aggregate', how: 'max' }, { kind: 'aggregate', how: 'max' }));
    assert.ok(!sameSelection({ kind: 'aggregate', how: 'max' }, { kind: 'aggregate', how: 'mean' }));
    assert.ok(!sameSelection({ kind: 'aggregate', how: 'mean' }, { kind: 'head', layer: 0, head: 0 }));
  });

  it('cuts long texts for labels at 40 characters, with an ellipsis', () => {
    assert.equal(clipText('short'), 'short');
    assert.equal(clipText('x'.repeat(40)), 'x'.repeat(40));
    assert.equal(clipText('x'.repeat(41)), `${'x'.repeat(39)}…`);
    assert.equal(clipText('abcdef', 4), 'abc…');
  });

  it('an index is a whole number from 0', () => {
    assert.ok(isIndex(0) && isIndex(7));
    assert.ok(!isIndex(-1) && !isIndex(1.5) && !isIndex('3') && !isIndex(1e9) && !isIndex(NaN));
  });
});

describe('shared colour scale', () => {
  it('maps weights to intensities per scale, clamped to [0, 1]', () => {
    assert.equal(intensity(0.25, 'linear'), 0.25);
    assert.equal(intensity(0.25, 'sqrt'), 0.5);
    assert.equal(intensity(0, 'log'), 0);
    assert.equal(intensity(1, 'log'), 1);
    assert.equal(intensity(-1, 'sqrt'), 0);
    assert.equal(intensity(2, 'linear'), 1);
  });

  it('steps: weight 0 is the weakest step, weight 1 the strongest, monotonic in between', () => {
    for (const scale of ['linear', 'sqrt', 'log'] as const) {
      assert.equal(strengthStep(0, scale), 0);
      assert.equal(strengthStep(1, scale), STRENGTH_STEPS - 1);
      let prev = 0;
      for (let w = 0; w <= 1; w += 0.01) {
        const s = strengthStep(w, scale);
        assert.ok(s >= prev, `${scale} at ${w}`);
        prev = s;
      }
    }
    // sqrt and log lift faint weights above linear: the overlay and token strip agree on that.
    assert.ok(strengthStep(0.05, 'sqrt') > strengthStep(0.05, 'linear'));
    assert.ok(strengthStep(0.05, 'log') > strengthStep(0.05, 'linear'));
  });

  it('the PNG colour follows the map scale', () => {
    assert.equal(MAP_SCALE, 'sqrt');
    assert.deepEqual(weightColor(0), [68, 1, 84]);
    assert.deepEqual(weightColor(1), [253, 231, 37]);
    // sqrt(0.25) = 0.5: halfway along the stops, the middle one.
    assert.deepEqual(weightColor(0.25), [33, 145, 140]);
  });
});

describe('rank colour scale (quantiles of focus)', () => {
  /** A deterministic shuffle of 0, 1/n, ..., (n-1)/n. */
  const shuffled = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i * 7919) % n) / n);

  it('puts a sixth of distinct values in each step, and its bounds are the sextiles', () => {
    const values = shuffled(600);
    const rank = stepScale('rank', values);
    assert.deepEqual(stepShares(rank, values), new Array(STRENGTH_STEPS).fill(1 / STRENGTH_STEPS));
    assert.deepEqual(rank.bounds, [0, 100 / 600, 200 / 600, 300 / 600, 400 / 600, 500 / 600]);
    assert.equal(rank.step(Math.min(...values)), 0);
    assert.equal(rank.step(Math.max(...values)), STRENGTH_STEPS - 1);
  });

  it('keeps ties in one step, is monotonic, and every value lands in a step', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
        const rank = stepScale('rank', values);
        const sorted = [...values].sort((a, b) => a - b);
        let prev = 0;
        for (const v of sorted) {
          const s = rank.step(v);
          assert.ok(s >= prev && s < STRENGTH_STEPS);
          prev = s;
        }
        const shares = stepShares(rank, values);
        assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 1e-9);
        // Distinct values: no step holds more than a sixth plus one value.
        if (new Set(values).size === values.length) for (const sh of shares) assert.ok(sh <= 1 / STRENGTH_STEPS + 1 / values.length + 1e-9, `${sh}`);
      }),
    );
    // Half the values equal: they share one step.
    const tied = [...new Array(50).fill(0.9), ...shuffled(50)];
    const rank = stepScale('rank', tied);
    assert.equal(new Set(tied.filter((v) => v === 0.9).map((v) => rank.step(v))).size, 1);
  });

  it('spreads values bunched in a narrow band where the linear scale puts nearly all in one or two steps', () => {
    const band = shuffled(1000).map((x) => 0.1 + 0.15 * x); // focus 0.10-0.25, as on a long file
    const linear = stepShares(stepScale('linear', band), band).filter((s) => s > 0.05).length;
    const rank = stepShares(stepScale('rank', band), band).filter((s) => s > 0.05).length;
    assert.ok(linear <= 2, `linear: ${linear} steps`);
    assert.equal(rank, STRENGTH_STEPS);
  });

  it('intensity is the share of values at or below the weight', () => {
    const rank = stepScale('rank', [0.1, 0.2, 0.3, 0.4]);
    assert.equal(rank.intensity(0.2), 0.5);
    assert.equal(rank.intensity(0.4), 1);
    assert.equal(rank.intensity(0.05), 0);
  });

  it('curve scales keep their fixed steps, and their bounds begin each step', () => {
    for (const scale of ['linear', 'sqrt', 'log'] as const) {
      const steps = stepScale(scale, [0.5]);
      for (const w of [0, 0.01, 0.2, 0.5, 0.99, 1]) assert.equal(steps.step(w), strengthStep(w, scale));
      steps.bounds.forEach((b, k) => assert.equal(steps.step(Math.min(1, b + 1e-9)), k, `${scale} step ${k}`));
    }
    assert.equal(stepRange(stepScale('linear'), 0), '< 0.17');
    assert.equal(stepRange(stepScale('linear'), 2), '0.33–0.50');
    assert.equal(stepRange(stepScale('linear'), 5), '≥ 0.83');
  });

  it('ranks only the tokens the overlay colours (not whitespace)', () => {
    assert.deepEqual(colouredValues([0.1, 0.9, 0.2, 0.3], ['a', '\n    ', ' b', '\t']), [0.1, 0.2]);
  });
});
