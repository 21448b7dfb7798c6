// Compare two modes of one window: which pair to show first, whether their heads correspond, and
// the maths the side-by-side view draws (the difference map). Pure: the webview
// draws it, unit tests check it.
import type { Mode } from './vocabulary';

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

/** Softmax vs SSMax when the model has both, else Softmax vs SSMax on Softmax weights, else the first two modes. */
export function defaultComparePair(modes: readonly Mode[]): [Mode, Mode] | undefined {
  for (const b of ['ssmax', 'ssmax-posthoc'] as const) {
    if (modes.includes('softmax') && modes.includes(b)) return ['softmax', b];
  }
  return modes.length >= 2 ? [modes[0], modes[1]] : undefined;
}

/** The mode the hover and Compare put beside the shown one: the other of the default pair, else the pair's first (Softmax). */
export function partnerOf(modes: readonly Mode[], shown: Mode): Mode | undefined {
  const pair = defaultComparePair(modes);
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
