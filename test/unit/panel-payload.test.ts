// What the panel is sent for an inspection: the document with roles and head-grid thumbnails, the
// selected head's data as copies, the fading curve, and the payload's size.
import * as assert from 'node:assert/strict';
import { focusOf, pooledOf } from '../../src/core/reading/selection';
import { fadingSeries, panelDocument, panelHead, payloadBytes } from '../../src/extension/panel-payload';
import { synthetic } from '../common/synthetic-inspection';

function causalInspection() {
  const insp = synthetic(2, 3, 30, 11);
  const { bins, data } = insp.pooled;
  // Causal maps: a cell (query bin a, key bin b) has weight only for b <= a.
  for (let h = 0; h < 6; h++) for (let a = 0; a < bins; a++) for (let b = 0; b <= a; b++) data[h * bins * bins + a * bins + b] = ((h * 7 + a * 3 + b) % 10) / 10;
  insp.heads = [{ layer: 1, head: 2, meanFocus: 0.25, meanEntropy: 1, meanDistance: 2 }];
  return insp;
}

describe('panel payload', () => {
  it('the document: texts, starts, a role per head, head means and thumbnails that keep each map\'s peak', () => {
    const insp = causalInspection();
    const doc = panelDocument(insp, 'x.py');
    assert.equal(doc.label, 'x.py');
    assert.deepEqual(doc.texts, insp.tokens.map((t) => t.text));
    assert.deepEqual(Array.from(doc.starts), insp.tokens.map((t) => t.start));
    assert.equal(doc.roles.length, 6);
    assert.equal(doc.roleScores.length, 6);
    assert.equal(doc.headMeans[1 * 3 + 2], 0.25);
    const cells = doc.thumbSize * doc.thumbSize;
    assert.equal(doc.thumbs.length, 6 * cells);
    const { bins, data } = insp.pooled;
    for (let h = 0; h < 6; h++) {
      const thumbMax = Math.max(...doc.thumbs.subarray(h * cells, (h + 1) * cells));
      const mapMax = Math.max(...data.subarray(h * bins * bins, (h + 1) * bins * bins));
      assert.equal(thumbMax, mapMax, `head ${h}`);
    }
  });

  it('the head: the selection\'s focus and pooled map, as copies', () => {
    const insp = causalInspection();
    const sel = { kind: 'head', layer: 1, head: 0 } as const;
    const head = panelHead(insp, sel, 'sqrt');
    assert.deepEqual(Array.from(head.focus), Array.from(focusOf(insp, sel)));
    assert.deepEqual(Array.from(head.pooled), Array.from(pooledOf(insp, sel)));
    assert.notEqual(head.focus.buffer, insp.focus.buffer, 'a copy, not a view into the whole inspection');
    assert.equal(head.scale, 'sqrt');
    assert.equal(head.documentId, insp.id);
  });

  it('the fading curve is the inspection\'s mode over at most 48 buckets', () => {
    const insp = causalInspection();
    const f = fadingSeries(insp, { kind: 'aggregate', how: 'mean' });
    assert.equal(f.mode, insp.mode);
    assert.equal(f.starts.length, Math.min(48, insp.tokens.length));
    assert.equal(f.meanFocus.length, f.starts.length);
  });

  it('counts typed arrays as bytes and texts as UTF-16', () => {
    const insp = causalInspection();
    const doc = panelDocument(insp, 'x.py');
    const head = panelHead(insp, { kind: 'aggregate', how: 'mean' }, 'linear');
    const texts = doc.texts.reduce((n, t) => n + 2 * t.length + 4, 0);
    assert.equal(payloadBytes(doc, undefined), doc.starts.byteLength + doc.headMeans.byteLength + doc.thumbs.byteLength + texts);
    assert.equal(payloadBytes(undefined, head), head.focus.byteLength + head.pooled.byteLength);
  });
});
