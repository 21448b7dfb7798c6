// The overlay's legend for the status bar's tooltip: what each colour step means for the active
// document under the selected head, with the share of its tokens in each step.
import type { Inspection } from '../core/inspection-types';
import { focusOf } from '../core/reading/selection';
import type { ColorScale } from '../shared/color-scale';
import { SCALE_MEANINGS, STRENGTH_STEPS, colouredValues, stepRange, stepScale, stepShares } from '../shared/color-scale';
import type { HeadSelection } from '../shared/vocabulary';
import { selectionLabel } from '../shared/vocabulary';

/** Tooltip lines: the scale's meaning, then one line per step, faintest first. */
export function legendLines(insp: Inspection, selection: HeadSelection, scale: ColorScale): string[] {
  const values = colouredValues(focusOf(insp, selection), insp.tokens.map((t) => t.text));
  const steps = stepScale(scale, values);
  const shares = stepShares(steps, values);
  const names = (k: number): string => (k === 0 ? ' (faintest)' : k === STRENGTH_STEPS - 1 ? ' (strongest)' : '');
  return [
    `Colour: focus (a token's largest attention weight; ${selectionLabel(selection)}), ${scale} scale: ${SCALE_MEANINGS[scale]}`,
    ...shares.map((share, k) => `  step ${k + 1}${names(k)}: focus ${stepRange(steps, k)}, ${Math.round(share * 100)}% of tokens`),
    'Setting attentionLens.colorScale: rank, linear, sqrt, log',
  ];
}
