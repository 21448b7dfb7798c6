// The per-head top-k attention an inspection carries, as plain typed arrays with their sizes: the
// input of the head-role classifier and the needle curve, small enough to build by hand in tests.
import type { Inspection } from '../inspection-types';

export interface TopKAttention {
  /** Heads; for an inspection, layers x heads flattened as layer * heads + head. */
  heads: number;
  /** Tokens, queries and keys alike. */
  tokens: number;
  /** Keys kept per query. */
  k: number;
  /** [head][query][k]: key indices, best first; -1 where the query sees fewer than k keys. */
  index: Int32Array;
  /** [head][query][k]: weights matching index. */
  weight: Float32Array;
}

/** A view of the inspection's top-k arrays (no copy). */
export function inspectionTopK(insp: Inspection): TopKAttention {
  return {
    heads: insp.model.layers * insp.model.heads,
    tokens: insp.tokens.length,
    k: insp.model.topK,
    index: insp.topIndex,
    weight: insp.topWeight,
  };
}

export function checkTopK(top: TopKAttention): void {
  const { heads, tokens, k } = top;
  for (const [name, n] of [['heads', heads], ['tokens', tokens], ['k', k]] as const) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`top-k attention: ${name} must be an integer >= 0, got ${n}`);
  }
  const size = heads * tokens * k;
  if (top.index.length !== size || top.weight.length !== size) {
    throw new RangeError(`top-k attention: expected ${size} entries (heads ${heads} x tokens ${tokens} x k ${k}), got index ${top.index.length}, weight ${top.weight.length}`);
  }
}
