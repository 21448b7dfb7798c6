// Every read of an inspection for a head, an aggregate or a role: one head (views into the
// inspection) or an aggregate over all layers and heads (computed on each call: at most L*H*T, well
// under a millisecond). The overlay, hover, panel, picker and exports read through here; the CLI
// through the exports. A head the inspection does not have reads as the nearest one it has: the
// view's selection is made for the shown mode, and another mode's inspection (a partner, or one
// still shown while the switched mode runs) may have fewer layers or heads (screening's 11 x 11
// tiles against the 6 x 4 attention heads).
import type { HeadSelection } from '../../shared/vocabulary';
import { clampSelection } from '../../shared/vocabulary';
import type { KeyWeight } from './analysis';
import { aggregateFocus, aggregateHeads, fadingCurve, headFocus, headOffset, headPooled, topKeys } from './analysis';
import type { HeadFading } from './fading-metrics';
import { headFading } from './fading-metrics';
import type { HeadRoles } from './head-roles';
import { inspectionHeadRoles } from './head-roles';
import type { Inspection } from '../inspection-types';
import type { NeedleCurve } from './needle';

/** The selection as this inspection can read it (the head comment says why). */
export function fit(insp: Inspection, sel: HeadSelection): HeadSelection {
  return clampSelection(sel, insp.model.layers, insp.model.heads);
}

/** A RangeError where the selection names a head this inspection does not have: an export draws exactly the head its label names. */
export function checkSelection(insp: Inspection, sel: HeadSelection): void {
  if (sel.kind === 'head') headOffset(insp, sel.layer, sel.head);
}

/** Focus of every token under the selection. */
export function focusOf(insp: Inspection, selection: HeadSelection): Float32Array {
  const sel = fit(insp, selection);
  return sel.kind === 'head' ? headFocus(insp, sel.layer, sel.head) : aggregateFocus(insp, sel.how);
}

/** Entropy of one token's attention row (nats); for an aggregate, the mean over heads. */
export function entropyOf(insp: Inspection, selection: HeadSelection, token: number): number {
  const sel = fit(insp, selection);
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
export function keysOf(insp: Inspection, selection: HeadSelection, query: number, n: number): KeyWeight[] {
  const sel = fit(insp, selection);
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
export function pooledOf(insp: Inspection, selection: HeadSelection): Float32Array {
  const sel = fit(insp, selection);
  if (sel.kind === 'head') return headPooled(insp, sel.layer, sel.head);
  return aggregateHeads(insp.pooled.data, insp.model.layers * insp.model.heads, insp.pooled.bins * insp.pooled.bins, sel.how);
}

/** One query's weights over every key under the selection, from its full rows ([layer * heads + head][key]). */
export function rowOf(insp: Inspection, selection: HeadSelection, rows: Float32Array): Float32Array {
  const sel = fit(insp, selection);
  const T = insp.tokens.length;
  if (sel.kind === 'head') {
    const h = sel.layer * insp.model.heads + sel.head;
    return rows.subarray(h * T, (h + 1) * T);
  }
  return aggregateHeads(rows, insp.model.layers * insp.model.heads, T, sel.how);
}

/** Mean focus by position over every layer and head, in `buckets` buckets: how attention fades with context. */
export function fadingOf(insp: Inspection, buckets: number): { starts: Int32Array; meanFocus: Float32Array } {
  const curve = fadingCurve(insp, buckets);
  const meanFocus = new Float32Array(curve.starts.length);
  for (const layer of curve.meanFocus) layer.forEach((v, b) => (meanFocus[b] += v / curve.meanFocus.length));
  return { starts: curve.starts, meanFocus };
}

const fadingCache = new WeakMap<Inspection, HeadFading[]>();

/** Each head's fading metrics (layer * heads + head), computed once per inspection: hover and HTML report share it. */
export function headFadingOf(insp: Inspection): HeadFading[] {
  let metrics = fadingCache.get(insp);
  if (!metrics) fadingCache.set(insp, (metrics = headFading(insp)));
  return metrics;
}

/** A needle curve of the selected head, or its mean / max over heads. */
export function curveOf(curve: NeedleCurve, insp: Inspection, selection: HeadSelection): Float32Array {
  const sel = fit(insp, selection);
  if (sel.kind === 'aggregate') return sel.how === 'mean' ? curve.mean : curve.max;
  return curve.perHead[sel.layer * insp.model.heads + sel.head] ?? curve.mean;
}

const roleCache = new WeakMap<Inspection, HeadRoles[]>();

/** Each head's role on this inspection (layer * heads + head), computed once per inspection: the panel, picker, hover and exports share it. */
export function rolesOf(insp: Inspection): HeadRoles[] {
  let roles = roleCache.get(insp);
  if (!roles) roleCache.set(insp, (roles = inspectionHeadRoles(insp)));
  return roles;
}

/** One head's role on this inspection. */
export function roleOf(insp: Inspection, layer: number, head: number): HeadRoles {
  const { layers, heads } = insp.model;
  if (!(layer >= 0 && layer < layers && head >= 0 && head < heads)) throw new RangeError(`no head L${layer + 1} H${head + 1} in a ${layers} x ${heads} model`);
  return rolesOf(insp)[layer * heads + head];
}
