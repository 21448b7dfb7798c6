// What the page writes about screening's relevance (tile grid, token strip, cursor line): its
// numbers are relevances, absolute in [0, 1] per key, not attention weights, and a query may find
// nothing. The tiles keep the heads' labels ("L3 H5"), as the status bar, the picker and the CLI
// name them; the words around them say tile. No DOM: unit-tested.
import type { PanelHead } from '../protocol';
import type { HeadSelection } from '../shared/vocabulary';
import { headLabel } from '../shared/vocabulary';

export const FINDS_NOTHING = 'finds nothing: no key passes';

/** A learned window for a tile: "17.5", "257", or "∞" (beyond the training length: every earlier key). */
export function windowText(w: number): string {
  if (!Number.isFinite(w)) return '∞';
  return w < 100 ? w.toFixed(1) : w.toFixed(0);
}

/** A share in [0, 1] as a percentage with the digits it needs: "0 %", "< 0.01 %", "0.03 %", "2.1 %", "44 %". */
export function shareText(p: number): string {
  const pct = 100 * p;
  if (pct === 0) return '0 %';
  if (pct < 0.01) return '< 0.01 %';
  return `${pct < 0.1 ? pct.toFixed(2) : pct < 10 ? pct.toFixed(1) : pct.toFixed(0)} %`;
}

/** A tile's accessible label: "L3 H5, tile 5 of layer 3: window 17.5, acceptance 0.65, 2.1 % of the keys in its window pass". */
export function tileLabel(layer: number, tile: number, w: number, r: number, passShare: number): string {
  const window = Number.isFinite(w) ? `window ${windowText(w)}` : 'window infinite (every earlier key)';
  return `${headLabel(layer, tile)}, tile ${tile + 1} of layer ${layer + 1}: ${window}, acceptance ${r.toFixed(2)}, ${shareText(passShare)} of the keys in its window pass`;
}

/** "L3 H5 (tile)" or "mean over tiles": whose relevance a curve or count is. */
export function tileSelectionText(sel: HeadSelection): string {
  return sel.kind === 'head' ? `${headLabel(sel.layer, sel.head)} (tile)` : 'mean over tiles';
}

function count(n: number, mean: boolean): string {
  return mean ? n.toFixed(1) : Math.round(n).toLocaleString('en-US');
}

/**
 * The cursor token's line: "token #3,812 "x", L3 H5 (tile): passes 14 of 18 keys in its window,
 * total relevance 0.80"; for an aggregate the mean over tiles. A query whose total is 0 finds nothing.
 */
export function cursorText(head: PanelHead, token: number, text: string): string | undefined {
  const r = head.relevance;
  if (!r || token < 0 || token >= r.total.length) return undefined;
  const mean = head.selection.kind === 'aggregate';
  const total = r.total[token];
  const keys = mean ? "keys in the tiles' windows" : 'keys in its window';
  const line =
    `token #${(token + 1).toLocaleString('en-US')} ${JSON.stringify(text)}, ${tileSelectionText(head.selection)}: ` +
    `passes ${count(r.passCount[token], mean)} of ${count(r.keys[token], mean)} ${keys}, total relevance ${total < 100 ? total.toFixed(2) : total.toFixed(0)}`;
  return total === 0 ? `${line} · ${FINDS_NOTHING}` : line;
}
