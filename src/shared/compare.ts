// Compare two modes of one window: which pair to show first, whether their heads correspond, whether
// their numbers are the same quantity, and the maths the side-by-side view draws (the difference
// map). Pure: the webview and the SVG export draw it, unit tests check it.
import type { HeadSelection, Mode } from './vocabulary';
import { MODE_LABELS, isRelevance } from './vocabulary';

/** The checkpoint a mode runs: SSMax on Softmax weights runs the Softmax checkpoint. */
const WEIGHTS: Record<Mode, 'softmax' | 'ssmax' | 'screening'> = {
  softmax: 'softmax',
  ssmax: 'ssmax',
  'ssmax-posthoc': 'softmax',
  'ministral3-scaling': 'softmax',
  'logn-scaling': 'softmax',
  screening: 'screening',
};

/** A mode that runs the Softmax checkpoint with a rule applied after training (SSMax post hoc, the length rules). */
export function isPostHoc(mode: Mode): boolean {
  return mode !== 'softmax' && WEIGHTS[mode] === 'softmax';
}

/** The modes the fading chart draws: every trained one, and a post-hoc one while it is shown; screening (relevance, not weights) only while shown. */
export function fadingModes(modes: readonly Mode[], shown: Mode): Mode[] {
  return modes.filter((m) => (!isPostHoc(m) && m !== 'screening') || m === shown);
}

/** Same weights: head L H is the same head under both modes. Else heads match by index only. */
export function sameWeights(a: Mode, b: Mode): boolean {
  return WEIGHTS[a] === WEIGHTS[b];
}

/** Both modes give attention weights, or both relevances: only then do a difference map and a head-by-head view mean anything. */
export function sameQuantity(a: Mode, b: Mode): boolean {
  return isRelevance(a) === isRelevance(b);
}

/** What Compare shows for the view's selection: a head only where both modes give the same quantity (heads and screening tiles do not pair), else the mean over all of them. */
export function compareSelection(modes: readonly [Mode, Mode], sel: HeadSelection): HeadSelection {
  return sel.kind === 'head' && !sameQuantity(...modes) ? { kind: 'aggregate', how: 'mean' } : sel;
}

/** "SSMax: attention weight, each row sums to 1 · Screening: relevance per key, absolute, 0 = rejected": what each mode's numbers are. */
export function quantityLegend(modes: readonly Mode[]): string {
  return modes.map((m) => `${MODE_LABELS[m]}: ${isRelevance(m) ? 'relevance per key, absolute, 0 = rejected' : 'attention weight, each row sums to 1'}`).join(' · ');
}

/**
 * The pair Compare opens on. Shown in screening: SSMax (else Softmax) vs Screening. Else Softmax vs
 * SSMax when the model has both, else Softmax vs SSMax on Softmax weights, else the first two modes.
 */
export function defaultComparePair(modes: readonly Mode[], shown?: Mode): [Mode, Mode] | undefined {
  if (shown && isRelevance(shown) && modes.includes(shown)) {
    const partner = (['ssmax', 'softmax'] as const).find((m) => modes.includes(m));
    if (partner) return [partner, shown];
  }
  for (const b of ['ssmax', 'ssmax-posthoc'] as const) {
    if (modes.includes('softmax') && modes.includes(b)) return ['softmax', b];
  }
  return modes.length >= 2 ? [modes[0], modes[1]] : undefined;
}

/** The mode the hover and Compare put beside the shown one: the other of its default pair, else the pair's first (Softmax). */
export function partnerOf(modes: readonly Mode[], shown: Mode): Mode | undefined {
  const pair = defaultComparePair(modes, shown);
  if (!pair) return undefined;
  return shown === pair[0] ? pair[1] : pair[0];
}

/** The shown mode and its partner, in the model's order of modes. */
export function shownPair(modes: readonly Mode[], shown: Mode): Mode[] {
  const partner = partnerOf(modes, shown);
  return modes.filter((m) => m === shown || m === partner);
}

/** b - a, cell by cell: > 0 where the second mode puts more weight. */
export function difference(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length !== b.length) throw new RangeError(`difference: maps of ${a.length} and ${b.length} cells`);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = b[i] - a[i];
  return out;
}
