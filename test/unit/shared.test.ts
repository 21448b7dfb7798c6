// The shared vocabulary and colour scale: one label and one scale for every view.
import * as assert from 'node:assert/strict';
import { MAP_SCALE, STRENGTH_STEPS, intensity, strengthStep, weightColor } from '../../src/shared/color-scale';
import { MODES, MODE_LABELS, MODE_SHORT, allSelections, clipText, fadingModes, headLabel, isHeadSelection, isIndex, sameSelection, selectionLabel } from '../../src/shared/vocabulary';

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
