// The needle as the panel draws it: per mode, the best head's curve at about one point a pixel,
// and a small multiple (the mean, the max, then every head) at fewer points.
import type { Mode } from '../shared/vocabulary';
import type { NeedleCurve } from '../core/reading/needle';
import { bestNeedleHead } from '../core/reading/needle';
import { downsample } from '../shared/buckets';
import type { NeedleSeries } from '../protocol';

/** Points of the main curve: about one per pixel of a wide editor tab. */
export const NEEDLE_POINTS = 600;
/** Points of each small-multiple curve. */
export const SMALL_POINTS = 120;

export function needleSeries(mode: Mode, curve: NeedleCurve): NeedleSeries {
  const best = Math.max(0, bestNeedleHead(curve));
  const main = downsample(curve.perHead[best] ?? curve.mean, NEEDLE_POINTS, 'max');
  const all = [curve.mean, curve.max, ...curve.perHead];
  const small = all.map((c) => downsample(c, SMALL_POINTS, 'max'));
  const P = small[0].values.length;
  const curves = new Float32Array(all.length * P);
  small.forEach((d, i) => curves.set(d.values, i * P));
  return {
    mode,
    starts: main.starts.map((s) => s + curve.first),
    values: main.values,
    exact: curve.exact,
    bestHead: best,
    curveStarts: small[0].starts.map((s) => s + curve.first),
    curves,
  };
}
