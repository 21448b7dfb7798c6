// The one weight -> colour scale. Every drawing of an attention weight (editor overlay, token
// strip, heatmap, head grid, HTML and PNG exports) goes through `intensity`, so the editor and
// the panel agree for every setting of attentionLens.colorScale.

export const COLOR_SCALES = ['linear', 'sqrt', 'log'] as const;
export type ColorScale = (typeof COLOR_SCALES)[number];

export function isColorScale(value: unknown): value is ColorScale {
  return typeof value === 'string' && (COLOR_SCALES as readonly string[]).includes(value);
}

/** Maps are drawn on sqrt: faint attention stays visible next to the near-1 weights of early tokens. */
export const MAP_SCALE: ColorScale = 'sqrt';

/** Strength steps of the token colouring; each is one contributed theme colour (strength1..6). */
export const STRENGTH_STEPS = 6;

/** A weight in [0, 1] (clamped) as a display intensity in [0, 1]. */
export function intensity(weight: number, scale: ColorScale): number {
  const v = Math.min(Math.max(weight, 0), 1);
  return scale === 'sqrt' ? Math.sqrt(v) : scale === 'log' ? Math.log1p(99 * v) / Math.log(100) : v;
}

/** 0-based strength step of a weight, 0 weakest. */
export function strengthStep(weight: number, scale: ColorScale): number {
  return Math.min(STRENGTH_STEPS - 1, Math.floor(intensity(weight, scale) * STRENGTH_STEPS));
}

// Viridis at five stops, for images that carry their own colours (the PNG export).
const STOPS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** Cells no query can see (keys after every query of the bin). */
export const MASKED_RGB: [number, number, number] = [30, 30, 30];

/** RGB of a weight on the map scale. */
export function weightColor(weight: number): [number, number, number] {
  const x = intensity(weight, MAP_SCALE) * (STOPS.length - 1);
  const i = Math.min(Math.floor(x), STOPS.length - 2);
  const f = x - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

// The difference view's diverging scale: blue where the second mode gives less weight, orange where
// it gives more (a pair colour-blind readers tell apart), fading into the page's own background at 0.
const LESS: [number, number, number] = [33, 102, 172];
const MORE: [number, number, number] = [230, 97, 1];

/** RGB of a weight difference in [-1, 1] (clamped), blended from `neutral` (the background) on a square-root scale. */
export function divergingColor(diff: number, neutral: readonly [number, number, number]): [number, number, number] {
  const d = Math.min(Math.max(diff, -1), 1);
  const end = d < 0 ? LESS : MORE;
  const f = Math.sqrt(Math.abs(d));
  return [0, 1, 2].map((k) => Math.round(neutral[k] + (end[k] - neutral[k]) * f)) as [number, number, number];
}
