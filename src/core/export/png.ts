// Heatmap of one head's (or an aggregate's) pooled attention as a PNG, viridis on the map scale.
// A screening inspection's relevance keeps its absolute scale: 0 (rejected) is the white page, 1 full orange.
import { PNG } from 'pngjs';
import type { HeadSelection } from '../../shared/vocabulary';
import { isRelevance } from '../../shared/vocabulary';
import { MASKED_RGB, PAGE_RGB, relevanceColor, weightColor } from '../../shared/color-scale';
import type { Inspection } from '../inspection-types';
import { checkSelection, pooledOf } from '../reading/selection';

/** sizePx x sizePx image of the selection's pooled map: queries down, keys across. */
export function renderHeatmapPng(insp: Inspection, sel: HeadSelection, sizePx: number): Buffer {
  if (!Number.isInteger(sizePx) || sizePx < 1 || sizePx > 8192) throw new RangeError(`image size ${sizePx} must be an integer in 1..8192`);
  checkSelection(insp, sel);
  const map = pooledOf(insp, sel);
  const bins = insp.pooled.bins;
  const color = isRelevance(insp.mode) ? (v: number) => relevanceColor(v, PAGE_RGB) : weightColor;
  const cells = new Uint8Array(bins * bins * 4);
  for (let a = 0; a < bins; a++) {
    for (let b = 0; b < bins; b++) cells.set([...(b > a ? MASKED_RGB : color(map[a * bins + b])), 255], (a * bins + b) * 4);
  }
  const png = new PNG({ width: sizePx, height: sizePx, colorType: 2 });
  const binOf = Int32Array.from({ length: sizePx }, (_, p) => Math.floor((p * bins) / sizePx));
  for (let y = 0; y < sizePx; y++) {
    const row = binOf[y] * bins;
    for (let x = 0; x < sizePx; x++) png.data.set(cells.subarray((row + binOf[x]) * 4, (row + binOf[x]) * 4 + 4), (y * sizePx + x) * 4);
  }
  // Filter 0 (none): the map is flat colour runs, and the file stays simple to check.
  return PNG.sync.write(png, { colorType: 2, filterType: 0 });
}
