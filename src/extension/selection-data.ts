// What the overlay, the hover and the panel read for the selected head or aggregate. Per-head
// reads are views into the Inspection; aggregates are computed once per inspection and cached.
import type { KeyWeight } from '../core/analysis';
import { aggregateFocus, headFocus, headPooled, topKeys } from '../core/analysis';
import type { Inspection } from '../core/inspection-types';
import type { HeadSelection } from '../protocol';

const aggregates = new WeakMap<Inspection, Map<string, Float32Array>>();

function memo(insp: Inspection, key: string, make: () => Float32Array): Float32Array {
  let m = aggregates.get(insp);
  if (!m) aggregates.set(insp, (m = new Map()));
  let v = m.get(key);
  if (!v) m.set(key, (v = make()));
  return v;
}

/** Focus of every token under the selection. */
export function focusOf(insp: Inspection, sel: HeadSelection): Float32Array {
  if (sel.kind === 'head') return headFocus(insp, sel.layer, sel.head);
  return memo(insp, `focus:${sel.how}`, () => aggregateFocus(insp, sel.how));
}

/** Entropy of one token's attention row (nats); for an aggregate, the mean over heads. */
export function entropyOf(insp: Inspection, sel: HeadSelection, token: number): number {
  const T = insp.tokens.length;
  if (sel.kind === 'head') return insp.entropy[(sel.layer * insp.model.heads + sel.head) * T + token];
  const n = insp.model.layers * insp.model.heads;
  let sum = 0;
  for (let h = 0; h < n; h++) sum += insp.entropy[h * T + token];
  return sum / n;
}

/**
 * The n keys the query attends to most. For an aggregate, each head's top-k weights are combined
 * (mean or max over heads; a key outside a head's top-k counts as 0 there, a slight underestimate).
 */
export function keysOf(insp: Inspection, sel: HeadSelection, query: number, n: number): KeyWeight[] {
  if (sel.kind === 'head') return topKeys(insp, sel.layer, sel.head, query, n);
  const { layers, heads, topK } = insp.model;
  const combined = new Map<number, number>();
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      for (const { token, weight } of topKeys(insp, l, h, query, topK)) {
        const prev = combined.get(token) ?? 0;
        combined.set(token, sel.how === 'max' ? Math.max(prev, weight) : prev + weight / (layers * heads));
      }
    }
  }
  return [...combined.entries()]
    .map(([token, weight]) => ({ token, weight }))
    .sort((a, b) => b.weight - a.weight || a.token - b.token)
    .slice(0, n);
}

/** Pooled attention map (bins x bins) under the selection. */
export function pooledOf(insp: Inspection, sel: HeadSelection): Float32Array {
  if (sel.kind === 'head') return headPooled(insp, sel.layer, sel.head);
  return memo(insp, `pooled:${sel.how}`, () => {
    const cells = insp.pooled.bins * insp.pooled.bins;
    const n = insp.model.layers * insp.model.heads;
    const out = new Float32Array(cells);
    for (let h = 0; h < n; h++) {
      const src = insp.pooled.data.subarray(h * cells, (h + 1) * cells);
      for (let c = 0; c < cells; c++) out[c] = sel.how === 'max' ? Math.max(out[c], src[c]) : out[c] + src[c] / n;
    }
    return out;
  });
}
