// What the panel writes about screening (src/webview/screening-text.ts): windows ("∞" beyond the
// training length), shares, a tile's accessible label, and the cursor token's line.
import * as assert from 'node:assert/strict';
import type { PanelHead } from '../../src/protocol';
import { FINDS_NOTHING, cursorText, shareText, tileLabel, windowText } from '../../src/webview/screening-text';

function head(selection: PanelHead['selection'], passCount: number[], keys: number[], total: number[]): PanelHead {
  const n = total.length;
  return {
    documentId: 1,
    selection,
    focus: new Float32Array(n),
    scale: 'rank',
    binSize: 1,
    bins: 1,
    pooled: new Float32Array(1),
    relevance: { passCount: Float32Array.from(passCount), keys: Float32Array.from(keys), total: Float32Array.from(total) },
  };
}

describe('screening texts', () => {
  it('windows: one decimal below 100, whole above, ∞ for Infinity', () => {
    assert.deepEqual([1.5, 17.53, 99.96, 257.3, Infinity].map(windowText), ['1.5', '17.5', '100.0', '257', '∞']);
  });

  it('shares: the digits a percentage needs', () => {
    assert.deepEqual([0, 0.00004, 0.0003, 0.021, 0.4432, 1].map(shareText), ['0 %', '< 0.01 %', '0.03 %', '2.1 %', '44 %', '100 %']);
  });

  it('a tile\'s label names its window, acceptance and share of keys passing', () => {
    assert.equal(tileLabel(2, 4, 17.5, 0.651, 0.021), 'L3 H5, tile 5 of layer 3: window 17.5, acceptance 0.65, 2.1 % of the keys in its window pass');
    assert.match(tileLabel(10, 10, Infinity, 0.5, 0.44), /^L11 H11, tile 11 of layer 11: window infinite \(every earlier key\), acceptance 0\.50, 44 % of/);
  });

  it('the cursor line: passes of keys in the window and total relevance; a query with total 0 finds nothing', () => {
    const tile = head({ kind: 'head', layer: 2, head: 4 }, [0, 14], [1, 3812], [0, 0.8]);
    assert.equal(cursorText(tile, 1, 'x'), 'token #2 "x", L3 H5 (tile): passes 14 of 3,812 keys in its window, total relevance 0.80');
    assert.equal(cursorText(tile, 0, ''), `token #1 "", L3 H5 (tile): passes 0 of 1 keys in its window, total relevance 0.00 · ${FINDS_NOTHING}`);
    assert.equal(cursorText(tile, 2, 'y'), undefined, 'no such token');
    assert.equal(cursorText(tile, -1, ''), undefined, 'no cursor');
    const mean = head({ kind: 'aggregate', how: 'max' }, [3.25], [412.5], [535.2]);
    assert.equal(cursorText(mean, 0, 'z'), 'token #1 "z", mean over tiles: passes 3.3 of 412.5 keys in the tiles\' windows, total relevance 535');
    assert.equal(cursorText({ ...mean, relevance: undefined }, 0, 'z'), undefined, 'attention has no line');
  });
});
