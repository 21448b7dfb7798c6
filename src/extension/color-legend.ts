// The overlay's legend for the status bar's tooltip: what each colour step means for the active
// document under the selected head, with the share of its tokens in each step. A screening
// inspection is coloured by relevance on an absolute scale, and says so.
import type { Inspection } from '../core/inspection-types';
import { focusOf } from '../core/reading/selection';
import type { ColorScale } from '../shared/color-scale';
import { SCALE_MEANINGS, STRENGTH_STEPS, absoluteScale, colouredValues, stepRange, stepScale, stepShares } from '../shared/color-scale';
import type { HeadSelection } from '../shared/vocabulary';
import { isRelevance, selectionLabel } from '../shared/vocabulary';

/** Tooltip lines: the scale's meaning, then one line per step, faintest first. */
export function legendLines(insp: Inspection, selection: HeadSelection, scale: ColorScale): string[] {
  const relevance = isRelevance(insp.mode);
  const texts = insp.tokens.map((t) => t.text);
  const focus = focusOf(insp, selection);
  const values = colouredValues(focus, texts, relevance);
  const shown = relevance ? absoluteScale(scale) : scale;
  const steps = stepScale(shown, values);
  const shares = stepShares(steps, values);
  const names = (k: number): string => (k === 0 ? ' (faintest)' : k === STRENGTH_STEPS - 1 ? ' (strongest)' : '');
  const quantity = relevance ? 'relevance' : 'focus';
  // Shares of the tinted tokens; under relevance the tokens that find nothing are counted apart.
  const words = colouredValues(focus, texts).length;
  return [
    relevance
      ? `Colour: largest relevance of each token (${selectionLabel(selection)}), absolute 0–1 on the ${shown} scale${scale === 'rank' ? ' (the rank setting does not apply: relevance means the same in every file)' : ''}: ${SCALE_MEANINGS[shown].replaceAll('focus', 'relevance')}`
      : `Colour: focus (a token's largest attention weight; ${selectionLabel(selection)}), ${scale} scale: ${SCALE_MEANINGS[scale]}`,
    ...shares.map((share, k) => `  step ${k + 1}${names(k)}: ${quantity} ${stepRange(steps, k)}, ${Math.round(share * 100)}% of ${relevance ? 'tinted ' : ''}tokens`),
    ...(relevance ? [`  no tint: ${(words - values.length).toLocaleString('en-US')} of ${words.toLocaleString('en-US')} tokens find nothing (no key passes)`] : []),
    'Setting attentionLens.colorScale: rank, linear, sqrt, log',
  ];
}
