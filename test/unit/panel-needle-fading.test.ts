// What the panel receives for the needle and the Fading tabs: the payload builders and the
// protocol guards that the webview applies to them.
import * as assert from 'node:assert/strict';
import { needleFromMass } from '../../src/core/reading/needle';
import { NEEDLE_POINTS, SMALL_POINTS, needleSeries } from '../../src/extension/needle-payload';
import type { FadingSeries, PanelNeedle } from '../../src/protocol';
import { isFadingMessage, isNeedleMessage } from '../../src/protocol';

describe('needle payload and guards', () => {
  // 3 heads over 2,000 tokens, span [10, 12): head 2 holds the most mass, head 0 the single largest peak.
  const T = 2000;
  const span = { start: 10, end: 12 };
  const n = T - span.end;
  const mass = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) {
    mass[p] = p === 500 ? 0.9 : 0.01;
    mass[n + p] = 0.02;
    mass[2 * n + p] = 0.05;
  }
  const curve = needleFromMass(3, T, span, mass);
  const series = needleSeries('ssmax', curve);

  it('shows the head with the largest mean mass, not the largest peak, and keeps the peaks when downsampling', () => {
    assert.equal(series.bestHead, 2);
    assert.equal(series.values.length, NEEDLE_POINTS);
    assert.ok(series.values.every((v) => Math.abs(v - 0.05) < 1e-7));
    assert.equal(series.starts[0], span.end, 'points start at the first query after the span');
    assert.equal(series.exact, true);
  });

  it('the small multiple holds the mean, the max, then every head, at SMALL_POINTS each', () => {
    const P = series.curveStarts.length;
    assert.equal(P, SMALL_POINTS);
    assert.equal(series.curves.length, (2 + 3) * P);
    const row = (c: number): Float32Array => series.curves.subarray(c * P, (c + 1) * P);
    assert.ok(Math.abs(Math.max(...row(1)) - 0.9) < 1e-7, 'max over heads keeps head 0 peak');
    assert.ok(Math.abs(Math.max(...row(2)) - 0.9) < 1e-7, 'head 0');
    assert.ok(row(4).every((v) => Math.abs(v - 0.05) < 1e-7), 'head 2');
    assert.ok(Math.abs(row(0)[0] - (0.01 + 0.02 + 0.05) / 3) < 1e-7, 'mean');
  });

  it('the guard takes a well-formed needle and refuses a best head outside the curves', () => {
    const needle: PanelNeedle = { documentId: 1, start: 10, end: 12, text: 'x', selection: { kind: 'aggregate', how: 'mean' }, series: [series] };
    assert.equal(isNeedleMessage({ type: 'needle', needle }), true);
    assert.equal(isNeedleMessage({ type: 'needle', needle: { ...needle, series: [{ ...series, bestHead: 3 }] } }), false);
    assert.equal(isNeedleMessage({ type: 'needle', needle: { ...needle, series: [{ ...series, curves: series.curves.subarray(1) }] } }), false);
  });

  it('the fading guard checks every per-bucket array and the distance table', () => {
    const f: FadingSeries = {
      quantity: 'weight',
      mode: 'logn-scaling',
      starts: Int32Array.of(0, 5),
      meanFocus: Float32Array.of(0.5, 0.4),
      selection: { kind: 'head', layer: 0, head: 1 },
      entropyRatio: Float32Array.of(0, 0.5),
      supportSize: Float32Array.of(1, NaN), // no token measured in the second bucket
      supportStride: 4,
      sinkMass: Float32Array.of(1, 0.3),
      distanceLabels: ['0', '1-7'],
      distanceMass: Float32Array.of(1, 0, 0.5, 0.5),
    };
    assert.equal(isFadingMessage({ type: 'fading', documentId: 1, fading: [f] }), true);
    assert.equal(isFadingMessage({ type: 'fading', documentId: 1, fading: [{ ...f, sinkMass: Float32Array.of(1) }] }), false);
    assert.equal(isFadingMessage({ type: 'fading', documentId: 1, fading: [{ ...f, distanceMass: Float32Array.of(1, 0, 0.5) }] }), false);
    assert.equal(isFadingMessage({ type: 'fading', documentId: 1, fading: [{ ...f, selection: { kind: 'head' } }] }), false);
    assert.equal(isFadingMessage({ type: 'fading', documentId: 1, fading: [{ ...f, supportStride: 0 }] }), false);
  });
});
