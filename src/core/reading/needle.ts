// The needle view's data: how much attention reaches a span of keys (a value, a name) from every
// query after it, per head and over heads, as a curve over query position.
import { tokenAt } from './analysis';
import type { Inspection } from '../inspection-types';
import type { TopKAttention } from './top-k-attention';
import { checkTopK } from './top-k-attention';

/** Token indices [start, end). */
export interface TokenSpan {
  start: number;
  end: number;
}

export interface NeedleCurve {
  /** Query of point 0: the span's end. Point n is query first + n; the last is the last token. */
  first: number;
  /** [head][point]: attention mass on the span's keys. */
  perHead: Float32Array[];
  /** [point]: mean over heads. */
  mean: Float32Array;
  /** [point]: max over heads. */
  max: Float32Array;
  /** True: sums over full attention rows. False: over each query's top-k keys, a lower bound. */
  exact: boolean;
}

function checkSpan(span: TokenSpan, T: number): void {
  const { start, end } = span;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > T) {
    throw new RangeError(`needle: span [${start}, ${end}) is not a token range within 0..${T}`);
  }
}

function curve(heads: number, T: number, span: TokenSpan, exact: boolean, mass: (head: number, query: number) => number): NeedleCurve {
  const first = span.end;
  const n = T - first;
  const perHead = Array.from({ length: heads }, () => new Float32Array(n));
  const mean = new Float32Array(n);
  const max = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    let sum = 0;
    let top = 0;
    for (let h = 0; h < heads; h++) {
      const m = mass(h, first + p);
      perHead[h][p] = m;
      sum += m;
      top = Math.max(top, m);
    }
    mean[p] = heads > 0 ? sum / heads : 0;
    max[p] = top;
  }
  return { first, perHead, mean, max, exact };
}

/** Mass on the span from each query's top-k keys: a lower bound, missing span keys outside the top k. */
export function needleFromTopK(top: TopKAttention, span: TokenSpan): NeedleCurve {
  checkTopK(top);
  const { heads, tokens: T, k, index, weight } = top;
  checkSpan(span, T);
  return curve(heads, T, span, false, (h, i) => {
    let m = 0;
    const base = (h * T + i) * k;
    for (let r = 0; r < k; r++) {
      const j = index[base + r];
      if (j >= span.start && j < span.end) m += weight[base + r];
    }
    return m;
  });
}

/**
 * Exact mass on the span from full attention rows. rows.get(i): query i's rows, [head][key]
 * (heads x tokens, the layout of an inspection's QueryRows); needed for every query from span.end on.
 */
export function needleFromRows(heads: number, T: number, rows: ReadonlyMap<number, Float32Array>, span: TokenSpan): NeedleCurve {
  checkSpan(span, T);
  for (let i = span.end; i < T; i++) {
    const r = rows.get(i);
    if (r === undefined || r.length !== heads * T) throw new RangeError(`needle: no full rows (${heads} x ${T}) for query ${i}`);
  }
  return curve(heads, T, span, true, (h, i) => {
    const row = (rows.get(i) as Float32Array).subarray(h * T, (h + 1) * T);
    let m = 0;
    for (let j = span.start; j < span.end; j++) m += row[j];
    return m;
  });
}

/** The curve of exact masses, flat [head][query - span.end] (span-mass.ts): heads = layers x heads. */
export function needleFromMass(heads: number, T: number, span: TokenSpan, mass: Float32Array): NeedleCurve {
  checkSpan(span, T);
  const n = T - span.end;
  if (mass.length !== heads * n) throw new RangeError(`needle: expected ${heads} x ${n} masses, got ${mass.length}`);
  return curve(heads, T, span, true, (h, i) => mass[h * n + i - span.end]);
}

/** The head (layer * heads + head) whose mean mass on the span over every later query is largest; -1 without queries. */
export function bestNeedleHead(curve: NeedleCurve): number {
  let best = -1;
  let top = -Infinity;
  curve.perHead.forEach((m, h) => {
    if (m.length === 0) return;
    let sum = 0;
    for (const v of m) sum += v;
    if (sum / m.length > top) {
      top = sum / m.length;
      best = h;
    }
  });
  return best;
}

/**
 * Tokens overlapping the document range [startOffset, endOffset); an empty range names the token
 * holding its offset (as tokenAt). Undefined when no inspected token is there.
 */
export function tokenSpan(insp: Inspection, startOffset: number, endOffset: number): TokenSpan | undefined {
  if (startOffset === endOffset) {
    const t = tokenAt(insp, startOffset);
    return t < 0 ? undefined : { start: t, end: t + 1 };
  }
  let start = -1;
  let end = -1;
  insp.tokens.forEach((tok, t) => {
    if (tok.start < endOffset && tok.end > startOffset) {
      if (start < 0) start = t;
      end = t + 1;
    }
  });
  return start < 0 ? undefined : { start, end };
}
