// The hover's lines for a screening inspection (hover.ts): the shown selection's relevance, and the
// partner's weights on a line of their own. Pure (no vscode import), so the unit suite checks them.
import type { Inspection } from '../core/inspection-types';
import { relevanceText, tileParamsText } from '../core/reading/relevance';
import { entropyOf, focusOf } from '../core/reading/selection';
import type { HeadSelection, Mode } from '../shared/vocabulary';
import { MODE_LABELS, selectionLabel } from '../shared/vocabulary';

/**
 * A screening inspection's lines: the shown selection's relevance (keys passing, total, largest),
 * then each other column's weights on a line of its own, labelled as weights. Heads do not pair with
 * tiles, so the other column shows its aggregate (its mean over heads for a selected tile).
 * Surprisal, -ln p of the token under each model, compares.
 */
export function relevanceLines(cells: { mode: Mode; insp: Inspection | undefined }[], shown: Inspection, t: number, selection: HeadSelection): string[] {
  const lines = [`**${MODE_LABELS[shown.mode]}** · ${selection.kind === 'head' ? `${selectionLabel(selection)}: ` : ''}${relevanceText(shown, selection, t)}`, ''];
  if (selection.kind === 'head') lines.push(`${selectionLabel(selection)}: ${tileParamsText(shown, selection.layer, selection.head)}`, '');
  for (const { mode, insp } of cells) {
    if (mode === shown.mode || !insp) continue;
    const sel: HeadSelection = selection.kind === 'aggregate' ? selection : { kind: 'aggregate', how: 'mean' };
    const paired = sel === selection ? '' : ` (its ${insp.model.layers * insp.model.heads} heads do not pair with ${shown.model.layers * shown.model.heads} tiles)`;
    lines.push(`**${MODE_LABELS[mode]}** · ${selectionLabel(sel)}${paired}: largest weight ${focusOf(insp, sel)[t].toFixed(3)}, entropy ${entropyOf(insp, sel, t).toFixed(2)} nats (attention weights: a row sums to 1)`, '');
  }
  const surprisal = cells.flatMap(({ mode, insp }) => (insp ? [`${MODE_LABELS[mode]} ${insp.surprisal[t].toFixed(3)}`] : []));
  lines.push(`Surprisal (nats): ${surprisal.join(' · ')}`, '');
  return lines;
}
