// A screening inspection read for one query: keys a tile's window lets it see, how many pass, the
// hover's lines and the status legend, on a synthetic inspection with known counts. Colour: relevance
// is coloured on a fixed curve, never by rank, and a token that finds nothing is not tinted.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { aggregateRelevance, relevanceText, tileParamsText, tilePassShare, tileRelevance, keysInWindow } from '../../src/core/reading/relevance';
import type { Inspection } from '../../src/core/inspection-types';
import { COLOR_SCALES, MAP_SCALE, absoluteScale, colouredValues, isTinted } from '../../src/shared/color-scale';
import { legendLines } from '../../src/extension/color-legend';
import { relevanceLines } from '../../src/extension/relevance-hover';
import { modeItems } from '../../src/extension/model-picks';
import { MODES } from '../../src/shared/vocabulary';
import { synthetic } from '../common/synthetic-inspection';

/** 1 layer x 2 tiles x 6 tokens: tile 0 has window 3, tile 1 sees the whole past; counts set by hand. */
function screening(): Inspection {
  const insp = synthetic(1, 2, 6, 7);
  const T = 6;
  insp.mode = 'screening';
  insp.tokens = insp.tokens.map((_, t) => ({ text: `t${t}`, start: 2 * t, end: 2 * t + 2 }));
  // Tile 0: query 5 sees keys 3..5 and 2 pass; query 1 finds nothing.
  // Tile 1: query 5 sees all 6 keys and 5 pass; query 1 passes 1 of 2.
  insp.passCount = Float32Array.from([1, 0, 1, 2, 2, 2, /* tile 1 */ 1, 1, 2, 3, 4, 5]);
  insp.totalRelevance = Float32Array.from([0.5, 0, 0.3, 0.9, 1.1, 0.8, /* tile 1 */ 0.2, 0.4, 0.6, 1.5, 2.25, 3]);
  insp.focus = Float32Array.from([0.5, 0, 0.3, 0.6, 0.7, 0.42, /* tile 1 */ 0.2, 0.4, 0.35, 0.8, 0.9, 0.95]);
  insp.screening = { window: Float32Array.from([2.4, Infinity]), acceptance: Float32Array.from([0.25, 0.5]) };
  insp.entropy.fill(NaN);
  assert.equal(insp.focus.length, 2 * T);
  return insp;
}

describe('screening relevance', () => {
  it('a query sees min(i + 1, ceil(w)) keys: the keys j with i - w < j <= i', () => {
    assert.equal(keysInWindow(0, 5), 1);
    assert.equal(keysInWindow(10, 5), 5);
    assert.equal(keysInWindow(10, 4.2), 5);
    assert.equal(keysInWindow(3, Infinity), 4);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.oneof(fc.double({ min: 1, max: 3000, noNaN: true }), fc.constant(Infinity)), (i, w) => {
        let seen = 0;
        for (let j = 0; j <= i; j++) if (i - j < w) seen++;
        return keysInWindow(i, w) === seen;
      }),
    );
  });

  it('a tile: passes N of the keys it sees, the row total and the largest, from the inspection', () => {
    const insp = screening();
    assert.deepEqual(tileRelevance(insp, 0, 0, 5), { pass: 2, visible: 3, window: 2.4000000953674316, total: 0.800000011920929, largest: 0.41999998688697815 });
    assert.equal(relevanceText(insp, { kind: 'head', layer: 0, head: 0 }, 5), 'passes: 2 of 3 keys (its window: 3 tokens), total relevance 0.80, largest 0.420');
    assert.equal(relevanceText(insp, { kind: 'head', layer: 0, head: 1 }, 5), 'passes: 5 of 6 keys, total relevance 3.00, largest 0.950');
    assert.equal(relevanceText(insp, { kind: 'head', layer: 0, head: 0 }, 1), 'finds nothing: no key passes (of 2 keys)');
    assert.equal(relevanceText(insp, { kind: 'head', layer: 0, head: 1 }, 0), 'passes: 1 of 1 key, total relevance 0.20, largest 0.200');
    assert.throws(() => tileRelevance(insp, 0, 2, 0), /no tile L1 H3/);
  });

  it('over tiles: each tile\'s share of the keys it sees, then the mean or the max', () => {
    const insp = screening();
    const mean = aggregateRelevance(insp, 'mean', 5);
    assert.equal(mean.finding, 2);
    assert.ok(Math.abs(mean.passShare - (2 / 3 + 5 / 6) / 2) < 1e-9);
    assert.ok(Math.abs(mean.total - (0.8 + 3) / 2) < 1e-6);
    assert.equal(relevanceText(insp, { kind: 'aggregate', how: 'mean' }, 5), 'mean over 2 tiles: 75.0 % of keys pass, total relevance 1.90, largest 0.685; 2 of 2 tiles find a key');
    assert.equal(relevanceText(insp, { kind: 'aggregate', how: 'max' }, 5), 'max over 2 tiles: up to 83.3 % of keys pass, total relevance up to 3.00, largest 0.950; 2 of 2 tiles find a key');
    assert.equal(relevanceText(insp, { kind: 'aggregate', how: 'mean' }, 1), 'mean over 2 tiles: 25.0 % of keys pass, total relevance 0.20, largest 0.200; 1 of 2 tiles find a key');
    insp.passCount?.fill(0);
    insp.totalRelevance?.fill(0);
    assert.equal(relevanceText(insp, { kind: 'aggregate', how: 'max' }, 5), 'max over 2 tiles: finds nothing: no key passes in any tile');
  });

  it('a tile\'s window and acceptance, and its share of the keys in reach that pass', () => {
    const insp = screening();
    assert.equal(tileParamsText(insp, 0, 0), 'window 3 tokens · a key passes where q·k > 0.75 (r = 0.25)');
    assert.equal(tileParamsText(insp, 0, 1), 'window: the whole past (w = ∞ beyond the training length) · a key passes where q·k > 0.50 (r = 0.50)');
    const visible = [1, 2, 3, 3, 3, 3];
    const want = [1, 0, 1, 2, 2, 2].reduce((a, b) => a + b, 0) / visible.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(tilePassShare(insp, 0, 0) - want) < 1e-9);
  });

  it('an attention inspection has no relevance: asking is an error, not a number', () => {
    assert.throws(() => tileRelevance(synthetic(1, 2, 4, 1), 0, 0, 0), /no relevance/);
  });

  it('the hover labels the relevance and, on their own line, the partner\'s weights: its mean over heads for a selected tile', () => {
    const shown = screening();
    const partner = synthetic(2, 2, 6, 3);
    partner.surprisal.fill(1.5);
    shown.surprisal.fill(2);
    const text = relevanceLines([{ mode: 'softmax', insp: partner }, { mode: 'screening', insp: shown }], shown, 5, { kind: 'head', layer: 0, head: 0 }).join('\n');
    assert.match(text, /^\*\*Screening\*\* · L1 H1: passes: 2 of 3 keys \(its window: 3 tokens\), total relevance 0\.80, largest 0\.420$/m);
    assert.match(text, /^L1 H1: window 3 tokens · a key passes where q·k > 0\.75/m);
    assert.match(text, /^\*\*Softmax\*\* · all heads: mean \(its 4 heads do not pair with 2 tiles\): largest weight \d\.\d{3}, entropy 0\.00 nats \(attention weights: a row sums to 1\)$/m);
    assert.match(text, /^Surprisal \(nats\): Softmax 1\.500 · Screening 2\.000$/m);
    // An aggregate stays the same aggregate under both.
    const max = relevanceLines([{ mode: 'screening', insp: shown }, { mode: 'softmax', insp: partner }], shown, 5, { kind: 'aggregate', how: 'max' }).join('\n');
    assert.match(max, /^\*\*Screening\*\* · max over 2 tiles: /m);
    assert.match(max, /^\*\*Softmax\*\* · all heads: max: largest weight/m);
    assert.doesNotMatch(max, /window/, 'no tile, no window line');
    // A partner still running has no line; the hover notes it apart.
    assert.doesNotMatch(relevanceLines([{ mode: 'screening', insp: shown }, { mode: 'softmax', insp: undefined }], shown, 5, { kind: 'aggregate', how: 'mean' }).join('\n'), /Softmax/);
  });
});

describe('relevance colours', () => {
  it('every scale is a fixed curve under relevance: rank reads as the maps\' curve', () => {
    assert.equal(absoluteScale('rank'), MAP_SCALE);
    for (const s of COLOR_SCALES.filter((c) => c !== 'rank')) assert.equal(absoluteScale(s), s);
  });

  it('a token that finds nothing is not tinted under relevance; whitespace never is', () => {
    assert.ok(isTinted('x', 0));
    assert.ok(!isTinted('x', 0, true));
    assert.ok(isTinted('x', 0.01, true));
    assert.ok(!isTinted('  ', 0.5, true));
    assert.deepEqual(colouredValues([0, 0.2, 0.3, 0], ['a', 'b', ' ', 'd'], true), [0.2]);
    assert.deepEqual(colouredValues([0, 0.2, 0.3, 0], ['a', 'b', ' ', 'd']), [0, 0.2, 0]);
  });

  it('the legend says relevance is absolute, the scale it is drawn on, and how many tokens find nothing', () => {
    const insp = screening();
    const lines = legendLines(insp, { kind: 'head', layer: 0, head: 0 }, 'rank');
    assert.match(lines[0], /largest relevance .*absolute 0–1 on the sqrt scale \(the rank setting does not apply/);
    // Token 1 finds nothing in tile 0: 5 tinted tokens, bounds of the sqrt curve (not sextiles of these values).
    assert.match(lines.join('\n'), /no tint: 1 of 6 tokens find nothing/);
    assert.match(lines[1], /step 1 \(faintest\): relevance < 0\.03, 0% of tinted tokens/);
    assert.match(lines[6], /step 6 \(strongest\): relevance ≥ 0\.69, 20% of tinted tokens/);
    const linear = legendLines(insp, { kind: 'head', layer: 0, head: 0 }, 'linear');
    assert.match(linear[0], /on the linear scale: relevance in six equal steps/);
    assert.doesNotMatch(linear[0], /rank setting/);
    assert.match(legendLines(synthetic(1, 1, 4, 2), { kind: 'head', layer: 0, head: 0 }, 'rank')[0], /^Colour: focus/);
  });

  it('Switch Attention offers screening with what its numbers are', () => {
    const items = modeItems(MODES, 'screening');
    const item = items.find((i) => i.mode === 'screening');
    assert.equal(item?.label, 'Screening');
    assert.equal(item?.description, '(current)');
    assert.match(item?.detail ?? '', /relevance per key in \[0, 1\], not normalised/);
    assert.equal(items.filter((i) => i.description).length, 1);
  });
});
