// The one weight -> colour scale. Every drawing of an attention weight (editor overlay, token
// strip, heatmap, head grid, HTML and PNG exports) goes through it, so the editor and the panel
// agree for every setting of attentionLens.colorScale. Three scales are fixed curves of the weight;
// `rank` colours by rank within a set of values (the document's focus): each step holds about a
// sixth of them, so a long document whose focus sits in a narrow band still shows contrast.

export const COLOR_SCALES = ['rank', 'linear', 'sqrt', 'log'] as const;
export type ColorScale = (typeof COLOR_SCALES)[number];
/** The scales that are a fixed curve of the weight. */
export type CurveScale = Exclude<ColorScale, 'rank'>;

/** The setting's default: the rank scale reads best on long files (README, "Colour scales"). */
export const DEFAULT_COLOR_SCALE: ColorScale = 'rank';

export function isColorScale(value: unknown): value is ColorScale {
  return typeof value === 'string' && (COLOR_SCALES as readonly string[]).includes(value);
}

/** Maps are drawn on sqrt: faint attention stays visible next to the near-1 weights of early tokens. */
export const MAP_SCALE: CurveScale = 'sqrt';

/**
 * The scale that colours relevance (screening): always a fixed curve of the value, since relevance
 * is absolute (0.4 means the same in every file and tile); `rank` would colour a rank within the
 * document, so it falls back to the maps' curve.
 */
export function absoluteScale(scale: ColorScale): CurveScale {
  return scale === 'rank' ? MAP_SCALE : scale;
}

/** Strength steps of the token colouring; each is one contributed theme colour (strength1..6). */
export const STRENGTH_STEPS = 6;

/** A weight in [0, 1] (clamped) as a display intensity in [0, 1]. */
export function intensity(weight: number, scale: CurveScale): number {
  const v = Math.min(Math.max(weight, 0), 1);
  return scale === 'sqrt' ? Math.sqrt(v) : scale === 'log' ? Math.log1p(99 * v) / Math.log(100) : v;
}

/** 0-based strength step of a weight, 0 weakest. */
export function strengthStep(weight: number, scale: CurveScale): number {
  return Math.min(STRENGTH_STEPS - 1, Math.floor(intensity(weight, scale) * STRENGTH_STEPS));
}

/** The weight where a curve scale's step begins (step 0 begins at 0). */
function curveBound(step: number, scale: CurveScale): number {
  const x = step / STRENGTH_STEPS;
  return scale === 'sqrt' ? x * x : scale === 'log' ? (Math.pow(100, x) - 1) / 99 : x;
}

/** A colour scale made concrete for one set of values: what the overlay, strip and legend use. */
export interface StepScale {
  scale: ColorScale;
  /** 0-based strength step of a weight, 0 weakest. */
  step(weight: number): number;
  /** Display intensity in [0, 1]: the curve, or for rank the share of values at or below the weight. */
  intensity(weight: number): number;
  /** [step]: the least weight of each step (bounds[0] = 0); a step whose bound equals the next one's is empty. */
  bounds: number[];
}

/**
 * The scale for these values. For `rank`, the step bounds are the values' sextiles: the value at
 * rank ceil(k * n / 6) begins step k, so each step holds about a sixth of the values (ties stay in
 * one step). Without values, rank has every bound at 0: everything in the strongest step.
 */
export function stepScale(scale: ColorScale, values: ArrayLike<number> = []): StepScale {
  if (scale !== 'rank') {
    return {
      scale,
      step: (w) => strengthStep(w, scale),
      intensity: (w) => intensity(w, scale),
      bounds: Array.from({ length: STRENGTH_STEPS }, (_, k) => curveBound(k, scale)),
    };
  }
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const bounds = Array.from({ length: STRENGTH_STEPS }, (_, k) => (k === 0 || n === 0 ? 0 : sorted[Math.min(n - 1, Math.ceil((k * n) / STRENGTH_STEPS))]));
  /** Values <= w. */
  const atOrBelow = (w: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= w) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    scale,
    step: (w) => {
      let s = 0;
      for (let k = 1; k < STRENGTH_STEPS; k++) if (w >= bounds[k]) s = k;
      return s;
    },
    intensity: (w) => (n === 0 ? 1 : atOrBelow(w) / n),
    bounds,
  };
}

/**
 * Whether the overlay tints a token: never whitespace (indentation and line ends stay uncoloured),
 * and under relevance never a token that finds nothing (its largest relevance is 0: no key passes).
 */
export function isTinted(text: string, focus: number, relevance = false): boolean {
  return text.trim() !== '' && !(relevance && focus === 0);
}

/** The focus values the overlay colours (isTinted). */
export function colouredValues(focus: ArrayLike<number>, texts: readonly string[], relevance = false): number[] {
  const out: number[] = [];
  for (let i = 0; i < texts.length; i++) if (isTinted(texts[i], focus[i], relevance)) out.push(focus[i]);
  return out;
}

/** What a colour step means under each scale, in words (legends). */
export const SCALE_MEANINGS: Record<ColorScale, string> = {
  rank: 'rank within this document and mode: each step holds about a sixth of the coloured tokens',
  linear: 'focus in six equal steps',
  sqrt: 'square root of focus in six equal steps (more steps for small focus)',
  log: 'logarithm of focus in six equal steps (most steps for small focus)',
};

/** A step's range of weights as text, e.g. "0.12–0.31", "< 0.05" or ">= 0.62". */
export function stepRange(scale: StepScale, step: number, digits = 2): string {
  const lo = scale.bounds[step];
  const hi = step + 1 < scale.bounds.length ? scale.bounds[step + 1] : undefined;
  if (hi === undefined) return `≥ ${lo.toFixed(digits)}`;
  if (step === 0) return `< ${hi.toFixed(digits)}`;
  return `${lo.toFixed(digits)}–${hi.toFixed(digits)}`;
}

/** [step]: the share of these values in each step of a scale. */
export function stepShares(scale: StepScale, values: ArrayLike<number>): number[] {
  const counts: number[] = new Array<number>(STRENGTH_STEPS).fill(0);
  for (let i = 0; i < values.length; i++) counts[scale.step(values[i])]++;
  return counts.map((c) => (values.length ? c / values.length : 0));
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

/** The exports' page (HTML, SVG) and the empty cells of a relevance map in them and in the PNG. */
export const PAGE_RGB: [number, number, number] = [255, 255, 255];

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

/**
 * RGB of a relevance (screening) in [0, 1] (clamped) on its absolute scale: exactly 0, a rejected
 * key, is `empty` (the page's background), not a faint colour; larger relevance runs toward orange
 * on a square-root scale. The ramp is the difference scale's positive half, so a map drawn with
 * the diverging scale shows relevance the same way.
 */
export function relevanceColor(relevance: number, empty: readonly [number, number, number]): [number, number, number] {
  return divergingColor(Math.max(0, relevance), empty);
}
