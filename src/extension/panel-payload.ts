// Turns an Inspection into what the panel draws, keeping the payload small (<= 2 MB
// at 4,000 tokens): only the selected head's focus and pooled map, head grid thumbnails pooled
// down to a few cells a side, and token texts with their start offsets. A screening inspection
// adds its tiles' w, r and pass share and the selection's counts per token, and has no head roles.
import { DISTANCE_BUCKETS, fadingCurves } from '../core/reading/fading-metrics';
import type { Inspection } from '../core/inspection-types';
import { queryRelevance, relevanceCurves, tileFacts } from '../core/reading/relevance';
import { fadingOf, fit, focusOf, pooledOf, rolesOf } from '../core/reading/selection';
import type { ColorScale } from '../shared/color-scale';
import { absoluteScale } from '../shared/color-scale';
import type { HeadSelection } from '../shared/vocabulary';
import { isRelevance } from '../shared/vocabulary';
import type { FadingSeries, PanelDocument, PanelHead } from '../protocol';

const THUMB = 24;
const FADING_BUCKETS = 48;

export function panelDocument(insp: Inspection, label: string): PanelDocument {
  const { layers, heads } = insp.model;
  const starts = new Int32Array(insp.tokens.length);
  insp.tokens.forEach((t, i) => (starts[i] = t.start));
  const headMeans = new Float32Array(layers * heads);
  for (const s of insp.heads) headMeans[s.layer * heads + s.head] = s.meanFocus;
  const relevance = isRelevance(insp.mode);
  // The role rules read normalised rows (mass shares, entropy): relevance rows are not, so no roles.
  const roles = relevance ? [] : rolesOf(insp);
  return {
    id: insp.id,
    label,
    mode: insp.mode,
    layers,
    heads,
    windowed: insp.windowed,
    documentTokens: insp.documentTokens,
    documentTokensEstimated: insp.documentTokensEstimated ?? false,
    texts: insp.tokens.map((t) => t.text),
    starts,
    headMeans,
    roles: roles.map((r) => r.role),
    roleScores: Float32Array.from(roles, (r) => r.score),
    thumbSize: THUMB,
    thumbs: thumbnails(insp),
    ...(insp.model.windows ? { windows: insp.model.windows } : {}),
    ...(relevance ? { tiles: tileFacts(insp) } : {}),
  };
}

export function panelHead(insp: Inspection, selection: HeadSelection, scale: ColorScale): PanelHead {
  return {
    documentId: insp.id,
    selection,
    // Copies: a view into the Inspection would drag its whole buffer across.
    focus: focusOf(insp, selection).slice(),
    // Relevance is absolute: the strip colours it on a fixed curve, as the editor overlay does.
    scale: isRelevance(insp.mode) ? absoluteScale(scale) : scale,
    binSize: insp.pooled.binSize,
    bins: insp.pooled.bins,
    pooled: pooledOf(insp, selection).slice(),
    ...(isRelevance(insp.mode) ? { relevance: queryRelevance(insp, selection) } : {}),
  };
}

/**
 * Mean focus by position over every layer and head, and the fading metrics of the selection (a
 * head, else the mean over heads); for screening, its relevance curves of the selection instead.
 */
export function fadingSeries(insp: Inspection, selection: HeadSelection): FadingSeries {
  const sel: HeadSelection = selection.kind === 'head' ? fit(insp, selection) : { kind: 'aggregate', how: 'mean' };
  if (isRelevance(insp.mode)) return { quantity: 'relevance', mode: insp.mode, selection: sel, ...relevanceCurves(insp, sel, FADING_BUCKETS) };
  const focus = fadingOf(insp, FADING_BUCKETS);
  const curves = fadingCurves(insp, sel, focus.starts.length);
  return {
    quantity: 'weight',
    mode: insp.mode,
    ...focus,
    selection: sel,
    entropyRatio: curves.entropyRatio,
    supportSize: curves.supportSize,
    supportStride: insp.pooled.binSize,
    sinkMass: curves.sinkMass,
    distanceLabels: DISTANCE_BUCKETS.map((d) => d.label),
    distanceMass: curves.distanceMass,
  };
}

/** Each head's pooled map max-pooled again to THUMB x THUMB, for the head grid. */
function thumbnails(insp: Inspection): Float32Array {
  const { bins, data } = insp.pooled;
  const n = insp.model.layers * insp.model.heads;
  const out = new Float32Array(n * THUMB * THUMB);
  const cells = bins * bins;
  // Source bins [lo(r), hi(r)) feed thumbnail cell r: pools when bins > THUMB, repeats when fewer.
  const lo = (r: number): number => Math.floor((r * bins) / THUMB);
  const hi = (r: number): number => Math.max(lo(r) + 1, Math.floor(((r + 1) * bins) / THUMB));
  for (let h = 0; h < n; h++) {
    for (let r = 0; r < THUMB; r++) {
      for (let c = 0; c <= r; c++) {
        let m = 0;
        for (let a = lo(r); a < hi(r); a++) {
          for (let b = lo(c); b < hi(c); b++) m = Math.max(m, data[h * cells + a * bins + b]);
        }
        out[(h * THUMB + r) * THUMB + c] = m;
      }
    }
  }
  return out;
}

/** Approximate bytes on the wire: typed arrays as binary, strings as UTF-16. */
export function payloadBytes(doc: PanelDocument | undefined, head: PanelHead | undefined): number {
  let n = 0;
  if (doc) {
    n += doc.starts.byteLength + doc.headMeans.byteLength + doc.roleScores.byteLength + doc.thumbs.byteLength;
    if (doc.tiles) n += doc.tiles.window.byteLength + doc.tiles.acceptance.byteLength + doc.tiles.passShare.byteLength;
    for (const t of [...doc.texts, ...doc.roles]) n += 2 * t.length + 4;
  }
  if (head) {
    n += head.focus.byteLength + head.pooled.byteLength;
    if (head.relevance) n += head.relevance.passCount.byteLength + head.relevance.keys.byteLength + head.relevance.total.byteLength;
  }
  return n;
}
