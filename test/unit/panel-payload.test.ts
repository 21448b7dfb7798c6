// What the panel is sent for an inspection: the document with roles and head-grid thumbnails, the
// selected head's data as copies, the fading curve, and the payload's size; for screening, the
// tiles' w, r and pass share, no roles, the counts per query and the relevance curves, through
// the guards the webview applies.
import * as assert from 'node:assert/strict';
import { queryRelevance, relevanceCurves, tileFacts } from '../../src/core/reading/relevance';
import { focusOf, pooledOf } from '../../src/core/reading/selection';
import { fadingSeries, panelDocument, panelHead, payloadBytes } from '../../src/extension/panel-payload';
import type { PanelDocument, PanelHead } from '../../src/protocol';
import { isDocumentMessage, isFadingMessage, isHeadMessage } from '../../src/protocol';
import { synthetic, syntheticScreening } from '../common/synthetic-inspection';

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
    assert.ok(f.quantity === 'weight' && f.meanFocus.length === f.starts.length);
  });

  it('a tile of screening\'s larger shape reads as the nearest head this inspection has, and the fading series says which', () => {
    const insp = causalInspection();
    const tile = { kind: 'head', layer: 8, head: 10 } as const;
    const last = { kind: 'head', layer: 1, head: 2 } as const;
    const head = panelHead(insp, tile, 'rank');
    assert.deepEqual(Array.from(head.focus), Array.from(focusOf(insp, last)));
    assert.deepEqual(Array.from(head.pooled), Array.from(pooledOf(insp, last)));
    assert.deepEqual(fadingSeries(insp, tile).selection, last);
  });

  it('counts typed arrays as bytes and texts as UTF-16', () => {
    const insp = causalInspection();
    const doc = panelDocument(insp, 'x.py');
    const head = panelHead(insp, { kind: 'aggregate', how: 'mean' }, 'linear');
    const texts = doc.texts.reduce((n, t) => n + 2 * t.length + 4, 0);
    const roles = doc.roles.reduce((n, t) => n + 2 * t.length + 4, 0);
    assert.equal(payloadBytes(doc, undefined), doc.starts.byteLength + doc.headMeans.byteLength + doc.roleScores.byteLength + doc.thumbs.byteLength + texts + roles);
    assert.equal(payloadBytes(undefined, head), head.focus.byteLength + head.pooled.byteLength);
  });
});

describe('panel payload under screening', () => {
  const T = 60;
  const insp = syntheticScreening(3, 4, T, 7, [Infinity, 2, 17.5, 300]);
  const doc = panelDocument(insp, 'x.py');
  const tile = { kind: 'head', layer: 2, head: 1 } as const;
  const documentMessage = (document: PanelDocument, head?: PanelHead): unknown => ({ type: 'document', document, head, mode: document.mode });

  it('the document: each tile\'s w, r and share of keys passing, and no head roles', () => {
    assert.deepEqual(doc.tiles, tileFacts(insp));
    assert.deepEqual(doc.roles, []);
    assert.equal(doc.roleScores.length, 0);
    assert.equal(doc.thumbs.length, 12 * doc.thumbSize ** 2);
    assert.equal(isDocumentMessage(documentMessage(doc)), true);
  });

  it('the document guard: tiles exactly under screening, w >= 1 (Infinity too), 0 < r <= 1, shares in [0, 1], no roles', () => {
    const withTiles = (change: Partial<NonNullable<PanelDocument['tiles']>>): PanelDocument => ({ ...doc, tiles: { ...doc.tiles!, ...change } });
    assert.equal(isDocumentMessage(documentMessage({ ...doc, tiles: undefined })), false, 'screening without tiles');
    assert.equal(isDocumentMessage(documentMessage({ ...doc, mode: 'softmax' })), false, 'tiles under attention');
    assert.equal(isDocumentMessage(documentMessage({ ...doc, roles: new Array<string>(12).fill('broad'), roleScores: new Float32Array(12) })), false, 'roles under screening');
    assert.equal(isDocumentMessage(documentMessage(withTiles({ window: new Float32Array(12).fill(0.5) }))), false, 'a window below 1');
    assert.equal(isDocumentMessage(documentMessage(withTiles({ acceptance: new Float32Array(12) }))), false, 'an acceptance of 0');
    assert.equal(isDocumentMessage(documentMessage(withTiles({ passShare: new Float32Array(12).fill(1.5) }))), false, 'a share above 1');
    assert.equal(isDocumentMessage(documentMessage(withTiles({ passShare: new Float32Array(11) }))), false, 'a tile short');
  });

  it('the head: the tile\'s counts per query, or the mean over tiles for an aggregate', () => {
    const head = panelHead(insp, tile, 'rank');
    assert.deepEqual(head.relevance, queryRelevance(insp, tile));
    assert.deepEqual(panelHead(insp, { kind: 'aggregate', how: 'max' }, 'rank').relevance, queryRelevance(insp, { kind: 'aggregate', how: 'mean' }));
    assert.equal(isHeadMessage({ type: 'head', head, selection: tile }), true);
    assert.equal(isHeadMessage({ type: 'head', head: { ...head, relevance: { ...head.relevance!, keys: new Float32Array(T - 1) } }, selection: tile }), false);
    assert.equal(panelHead(synthetic(1, 1, 4, 1), { kind: 'head', layer: 0, head: 0 }, 'rank').relevance, undefined, 'attention has none');
  });

  it('the head: relevance is coloured on a fixed curve, never by rank within the document (as the overlay does)', () => {
    assert.equal(panelHead(insp, tile, 'rank').scale, 'sqrt');
    assert.equal(panelHead(insp, tile, 'log').scale, 'log');
    assert.equal(panelHead(synthetic(1, 1, 4, 1), { kind: 'head', layer: 0, head: 0 }, 'rank').scale, 'rank', 'attention keeps the setting');
  });

  it('the fading series: relevance curves of the selection, guarded apart from the weights', () => {
    const f = fadingSeries(insp, tile);
    assert.ok(f.quantity === 'relevance');
    assert.deepEqual({ starts: f.starts, passShare: f.passShare, totalRelevance: f.totalRelevance, largest: f.largest }, relevanceCurves(insp, tile, 48));
    assert.deepEqual(fadingSeries(insp, { kind: 'aggregate', how: 'max' }).selection, { kind: 'aggregate', how: 'mean' });
    const message = (fading: unknown): unknown => ({ type: 'fading', documentId: 1, fading: [fading] });
    assert.equal(isFadingMessage(message(f)), true);
    assert.equal(isFadingMessage(message({ ...f, quantity: 'weight' })), false, 'screening is never a weight');
    assert.equal(isFadingMessage(message({ ...f, largest: f.largest.subarray(1) })), false, 'a bucket short');
    assert.equal(isFadingMessage(message({ ...f, passShare: undefined })), false);
    assert.equal(isFadingMessage(message({ ...fadingSeries(synthetic(1, 1, 4, 1), { kind: 'aggregate', how: 'mean' }), quantity: 'relevance' })), false, 'attention is never relevance');
  });

  it(`stays within 2 MB at 4,000 tokens with 11 x 11 tiles`, () => {
    const big = syntheticScreening(11, 11, 4000, 3, [Infinity, 5.5, 40], 256);
    const document = panelDocument(big, 'inventory.py');
    const head = panelHead(big, { kind: 'aggregate', how: 'mean' }, 'rank');
    const bytes = payloadBytes(document, head);
    assert.ok(bytes <= 2 * 1024 * 1024, `${bytes} bytes`);
    assert.ok(bytes >= document.thumbs.byteLength + head.pooled.byteLength + 3 * 4 * 4000, 'counts the thumbnails, the map and the counts per query');
    assert.equal(isDocumentMessage(documentMessage(document, head)), true);
  });
});
