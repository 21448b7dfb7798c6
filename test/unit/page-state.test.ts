// The panel page's logic without a browser: how each host message changes the page's state (stale
// and invalid ones change nothing), and the texts it writes.
import * as assert from 'node:assert/strict';
import type { FadingSeries, PanelDocument, PanelHead, PanelNeedle, PanelState } from '../../src/protocol';
import type { Mode } from '../../src/shared/vocabulary';
import { compareSide, singleSide } from '../../src/webview/layout';
import { applyMessage, fadingMissing, headChoices, needleCaption, readSaved, selectionValue, statusText } from '../../src/webview/page-state';

function doc(id: number, extra: Partial<PanelDocument> = {}): PanelDocument {
  const layers = 2;
  const heads = 2;
  return {
    id,
    label: 'x.py',
    mode: 'softmax',
    layers,
    heads,
    windowed: false,
    documentTokens: 3,
    documentTokensEstimated: false,
    texts: ['a', 'b', 'c'],
    starts: Int32Array.from([0, 1, 2]),
    headMeans: new Float32Array(layers * heads),
    roles: ['local', 'broad', 'induction', 'first-token'],
    roleScores: new Float32Array(layers * heads),
    thumbSize: 1,
    thumbs: new Float32Array(layers * heads),
    ...extra,
  };
}

function head(documentId: number): PanelHead {
  return { documentId, selection: { kind: 'aggregate', how: 'mean' }, focus: new Float32Array(3), scale: 'linear', binSize: 1, bins: 3, pooled: new Float32Array(9) };
}

function needle(documentId: number, exact: boolean): PanelNeedle {
  const series = [{ mode: 'softmax' as const, starts: Int32Array.from([2]), values: Float32Array.from([0.5]), exact, bestHead: 0, curveStarts: Int32Array.from([2]), curves: new Float32Array(3) }];
  return { documentId, start: 0, end: 2, text: 'ab', selection: { kind: 'head', layer: 1, head: 0 }, series };
}

/** A fading series of one bucket: only mode, starts and meanFocus matter to the page state. */
function fading(mode: Mode, meanFocus: number): FadingSeries {
  const one = Float32Array.from([meanFocus]);
  return { quantity: 'weight', mode, starts: Int32Array.from([0]), meanFocus: one, selection: { kind: 'aggregate', how: 'mean' }, entropyRatio: one, supportSize: one, supportStride: 1, sinkMass: one, distanceLabels: ['0'], distanceMass: one };
}

function state(): PanelState {
  return {
    mode: 'softmax',
    modes: ['softmax', 'ssmax', 'ssmax-posthoc'],
    selection: { kind: 'aggregate', how: 'mean' },
    followCursor: false,
    busy: false,
    document: doc(7),
    head: head(7),
    cursorToken: -1,
    fading: [],
    probe: false,
  };
}

describe('panel page state', () => {
  it('a full state replaces everything; nothing applies before it', () => {
    assert.deepEqual(applyMessage(undefined, { type: 'status', busy: true, followCursor: false }), { state: undefined, redraw: { part: 'none' } });
    const full = state();
    const r = applyMessage(undefined, { type: 'state', state: full });
    assert.equal(r.state, full);
    assert.deepEqual(r.redraw, { part: 'all' });
  });

  it('a new document resets fading, drops another document\'s needle and the comparison\'s heads', () => {
    const s = state();
    s.fading = [fading('softmax', 0.5)];
    s.needle = needle(7, true);
    s.compare = { documentId: 7, modes: ['softmax', 'ssmax'], sameWeights: false, heads: [head(7), head(7)] };
    const r = applyMessage(s, { type: 'document', document: doc(8, { mode: 'ssmax' }), head: head(8), mode: 'ssmax' });
    assert.deepEqual(r.redraw, { part: 'document' });
    assert.equal(s.document?.id, 8);
    assert.equal(s.mode, 'ssmax');
    assert.deepEqual(s.fading, []);
    assert.equal(s.needle, undefined);
    assert.equal(s.compare?.heads, undefined);
    assert.deepEqual(s.compare?.modes, ['softmax', 'ssmax'], 'Compare stays on');
  });

  it('messages about another document change nothing', () => {
    const s = state();
    assert.deepEqual(applyMessage(s, { type: 'cursor', documentId: 6, token: 1 }).redraw, { part: 'none' });
    assert.equal(s.cursorToken, -1);
    assert.deepEqual(applyMessage(s, { type: 'fading', documentId: 6, fading: [] }).redraw, { part: 'none' });
    assert.deepEqual(applyMessage(s, { type: 'needle', needle: needle(6, true) }).redraw, { part: 'none' });
    assert.equal(s.needle, undefined);
    assert.deepEqual(applyMessage(s, { type: 'compare', compare: { documentId: 6, modes: ['softmax', 'ssmax'], sameWeights: false } }).redraw, { part: 'none' });
    assert.equal(s.compare, undefined);
    const region = { requestId: 1, documentId: 6, q0: 0, q1: 1, k0: 0, k1: 1, qBin: 1, kBin: 1, rows: 1, cols: 1 };
    assert.deepEqual(applyMessage(s, { type: 'region', region }).redraw, { part: 'none' });
    // A head for another document changes the selection (the dropdown) but keeps the shown head's data.
    const shownHead = s.head;
    assert.deepEqual(applyMessage(s, { type: 'head', head: head(6), selection: { kind: 'aggregate', how: 'max' } }).redraw, { part: 'head' });
    assert.deepEqual(s.selection, { kind: 'aggregate', how: 'max' });
    assert.equal(s.head, shownHead);
  });

  it('messages about the shown document apply and name what to redraw', () => {
    const s = state();
    assert.deepEqual(applyMessage(s, { type: 'cursor', documentId: 7, token: 2 }).redraw, { part: 'cursor', token: 2 });
    assert.equal(s.cursorToken, 2);
    const n = needle(7, false);
    assert.deepEqual(applyMessage(s, { type: 'needle', needle: n }).redraw, { part: 'needle' });
    assert.equal(s.needle, n);
    const region = { requestId: 3, documentId: 7, q0: 0, q1: 1, k0: 0, k1: 1, qBin: 1, kBin: 1, rows: 1, cols: 1 };
    assert.deepEqual(applyMessage(s, { type: 'region', region }).redraw, { part: 'region', region });
    assert.deepEqual(applyMessage(s, { type: 'compare', compare: undefined }).redraw, { part: 'compare' });
    assert.deepEqual(applyMessage(s, { type: 'status', busy: true, error: 'boom', followCursor: true }).redraw, { part: 'status' });
    assert.equal(s.busy, true);
    assert.equal(s.error, 'boom');
  });

  it('an invalid message is reported, not applied', () => {
    const s = state();
    assert.deepEqual(applyMessage(s, { type: 'cursor', documentId: 7, token: 'x' }).redraw, { part: 'invalid' });
    assert.deepEqual(applyMessage(s, { type: 'nonsense' }).redraw, { part: 'invalid' });
    assert.equal(s.cursorToken, -1);
  });

  it('writes the status line from the document and what is going on', () => {
    const s = state();
    assert.equal(statusText(s), 'x.py · Softmax · 3 tokens');
    s.busy = true;
    s.error = 'no model';
    s.followCursor = true;
    s.document = doc(7, { windowed: true, documentTokens: 90 });
    assert.equal(statusText(s), 'x.py · Softmax · 3 tokens (window of 90) · inspecting… · error: no model · following the cursor');
    s.document = doc(7, { windowed: true, documentTokens: 9000, documentTokensEstimated: true });
    assert.match(statusText(s), /^x\.py · Softmax · 3 tokens \(window of about 9000\)/);
    s.document = undefined;
    assert.match(statusText(s), /^Run "Attention Lens: Inspect Current Document"/);
  });

  it('lists every head with its role; the selected value matches whatever the key order', () => {
    const { choices, value } = headChoices(doc(7), { head: 1, layer: 1, kind: 'head' } as const);
    assert.deepEqual(
      choices.map((c) => c.label),
      ['all heads: mean', 'all heads: max', 'L1 H1 · local', 'L1 H2 · broad', 'L2 H1 · induction', 'L2 H2 · first-token'],
    );
    assert.equal(value, selectionValue({ kind: 'head', layer: 1, head: 1 }));
    assert.ok(choices.some((c) => c.value === value));
    assert.deepEqual(headChoices(undefined, { kind: 'aggregate', how: 'max' }).choices.length, 2);
  });

  it('offers screening\'s tiles without roles: it has none', () => {
    const tiles = { window: Float32Array.of(2, Infinity, 5, 9), acceptance: new Float32Array(4).fill(0.5), passShare: new Float32Array(4) };
    const labels = headChoices(doc(7, { mode: 'screening', roles: [], roleScores: new Float32Array(0), tiles }), { kind: 'aggregate', how: 'mean' }).choices.map((c) => c.label);
    assert.deepEqual(labels, ['all heads: mean', 'all heads: max', 'L1 H1', 'L1 H2', 'L2 H1', 'L2 H2']);
  });

  it('captions the needle with its tokens, head and exactness', () => {
    assert.equal(needleCaption(needle(7, true), 'Shown: L2 H1'), 'Attention from every later token to "ab" (tokens 1–2), exact in every mode and head. Shown: L2 H1.');
    assert.match(needleCaption(needle(7, false), 'Shown: L2 H1'), /a lower bound where marked\. Shown: L2 H1\.$/);
  });

  it('asks for fading while a mode the chart draws is missing', () => {
    const s = state();
    assert.equal(fadingMissing(s, 'softmax'), true);
    s.fading = (['softmax', 'ssmax'] as const).map((mode) => fading(mode, 1));
    assert.equal(fadingMissing(s, 'softmax'), false);
    assert.equal(fadingMissing(s, 'ssmax-posthoc'), true, 'the shown post-hoc mode is drawn too');
  });

  it('keeps only the well-formed parts of the saved state', () => {
    assert.deepEqual(readSaved(undefined), {});
    assert.deepEqual(readSaved({ zoom: { r0: 1, r1: 4, c0: 0, c1: 2 }, activeToken: 5, scrollTop: 12.5 }), { zoom: { r0: 1, r1: 4, c0: 0, c1: 2 }, activeToken: 5, scrollTop: 12.5 });
    const bad = readSaved({ zoom: { r0: 4, r1: 1, c0: 0, c1: 2 }, activeToken: 1.5, scrollTop: '3' });
    assert.deepEqual(bad, { zoom: undefined, activeToken: undefined, scrollTop: undefined });
    assert.equal(readSaved({ zoom: { r0: -1, r1: 4, c0: 0, c1: 2 } }).zoom, undefined);
  });
});

describe('panel page layout', () => {
  it('the single map is large in an editor tab and fits the short bottom panel', () => {
    assert.equal(singleSide(true, 1600, 1000), 910, 'a wide tab keeps the head grid beside the map');
    assert.equal(singleSide(true, 800, 1000), 760, 'a narrow tab stacks the grid below');
    assert.equal(singleSide(true, 3000, 2000), 1100, 'at most 1,100 px');
    assert.equal(singleSide(false, 1600, 300), 200, 'the bottom panel: its height');
    assert.equal(singleSide(false, 1600, 1000), 320, 'the bottom panel: at most 320 px');
  });

  it("Compare's maps: three a row, two in a narrow tab", () => {
    assert.equal(compareSide(true, 1270, 1200), 400);
    assert.equal(compareSide(true, 860, 1200), 400, 'two a row below 900 px');
    assert.equal(compareSide(true, 2000, 700), 370, 'the height leaves room for the strips and chart');
    assert.equal(compareSide(false, 1270, 1000), 260);
  });
});
