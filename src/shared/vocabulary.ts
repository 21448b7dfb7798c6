// The words every layer shares: attention modes, which head is shown, and how both are named to a
// person. Core, protocol, extension and webview import this; it imports nothing.

export const MODES = ['softmax', 'ssmax', 'ssmax-posthoc', 'ministral3-scaling', 'logn-scaling', 'screening'] as const;
export type Mode = (typeof MODES)[number];

export function isMode(value: unknown): value is Mode {
  return typeof value === 'string' && (MODES as readonly string[]).includes(value);
}

/** Old names still found in settings and keybindings: llama4-scaling became ministral3-scaling (0.1.0). */
const RENAMED_MODES: ReadonlyMap<string, Mode> = new Map([['llama4-scaling', 'ministral3-scaling']]);

/** The mode a setting (or a keybinding's argument) names, an old name read as its successor; undefined for anything else. */
export function modeOfSetting(value: unknown): Mode | undefined {
  if (isMode(value)) return value;
  return typeof value === 'string' ? RENAMED_MODES.get(value) : undefined;
}

/** Dropdowns, hovers, progress titles. */
export const MODE_LABELS: Record<Mode, string> = {
  softmax: 'Softmax',
  ssmax: 'SSMax',
  'ssmax-posthoc': 'SSMax on Softmax weights',
  'ministral3-scaling': 'Ministral 3 scaling on Softmax weights',
  'logn-scaling': 'log-n scaling on Softmax weights',
  screening: 'Screening',
};

/** Short form for the status bar. */
export const MODE_SHORT: Record<Mode, string> = {
  softmax: 'Softmax',
  ssmax: 'SSMax',
  'ssmax-posthoc': 'SSMax post-hoc',
  'ministral3-scaling': 'Ministral 3 scaling',
  'logn-scaling': 'log-n scaling',
  screening: 'Screening',
};

export const MODE_DETAILS: Record<Mode, string> = {
  softmax: 'the checkpoint trained with Softmax, run with Softmax',
  // Must not name Softmax: it is the SSMax-trained checkpoint (and UI tests pick it by that).
  ssmax: 'the checkpoint trained with SSMax, run with its learned s per head',
  'ssmax-posthoc': 'the Softmax checkpoint run with SSMax, s = 1 / ln(training context)',
  'ministral3-scaling': "the Softmax checkpoint with Ministral 3's query scaling on every layer, 1 + beta ln(1 + floor(i / L))",
  'logn-scaling': "the Softmax checkpoint with Qwen's log-n query scaling, max(1, ln(i + 1) / ln L), L = training context",
  // Relevance, not weights: absolute per key, and a row may sum to anything.
  screening: 'the screening twin (Multiscreen), trained on the same data: relevance per key in [0, 1], not normalised',
};

/** A mode whose numbers are relevances (absolute, unnormalised), not attention weights. */
export function isRelevance(mode: Mode): boolean {
  return mode === 'screening';
}

export type Aggregate = 'mean' | 'max';
export const AGGREGATES: readonly Aggregate[] = ['mean', 'max'];

/** Which attention is shown: one head (0-based in data, 1-based in every label) or an aggregate over all heads. */
export type HeadSelection = { kind: 'head'; layer: number; head: number } | { kind: 'aggregate'; how: Aggregate };

export function isHeadSelection(value: unknown): value is HeadSelection {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v.kind === 'head') return isIndex(v.layer) && isIndex(v.head);
  return v.kind === 'aggregate' && (v.how === 'mean' || v.how === 'max');
}

/**
 * Clamps a selection to a shape: settings may name a head the model does not have, and a view's
 * selection is made for the shown mode (screening's 11 x 11 tiles outnumber the 6 x 4 heads).
 */
export function clampSelection(sel: HeadSelection, layers: number, heads: number): HeadSelection {
  if (sel.kind === 'aggregate' || (sel.layer < layers && sel.head < heads)) return sel;
  return { kind: 'head', layer: Math.min(sel.layer, layers - 1), head: Math.min(sel.head, heads - 1) };
}

export function sameSelection(a: HeadSelection, b: HeadSelection): boolean {
  if (a.kind === 'head' && b.kind === 'head') return a.layer === b.layer && a.head === b.head;
  return a.kind === 'aggregate' && b.kind === 'aggregate' && a.how === b.how;
}

/** A whole number in [0, 1e9): an index that came over a message or from a setting. */
export function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 1e9;
}

/** A token's or a span's text cut to `max` characters for a label (hover, needle legend). */
export function clipText(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** "L1 H1" for layer 0 head 0. */
export function headLabel(layer: number, head: number): string {
  return `L${layer + 1} H${head + 1}`;
}

export function selectionLabel(sel: HeadSelection): string {
  return sel.kind === 'aggregate' ? `all heads: ${sel.how}` : headLabel(sel.layer, sel.head);
}

/** Every selection of a model's shape, aggregates first: the order of the pickers. */
export function allSelections(layers: number, heads: number): HeadSelection[] {
  const out: HeadSelection[] = AGGREGATES.map((how) => ({ kind: 'aggregate', how }));
  for (let layer = 0; layer < layers; layer++) {
    for (let head = 0; head < heads; head++) out.push({ kind: 'head', layer, head });
  }
  return out;
}
