// The query-scaling rules that production models ship as SSMax's descendants, run post hoc on any
// model's Softmax weights: each query is multiplied by a factor of its position alone, which is
// the same as multiplying its logits. The engine applies the factor to q between the qkv graph and
// the attention graph, so no model graph changes.

/**
 * Ministral 3's query scaling, on every layer: q * (1 + beta * ln(1 + floor(i / length))), i the
 * 0-based position. (Llama 4 floors (i + 1) / length, and only on its NoPE layers: not this.)
 */
export interface Ministral3Scaling {
  rule: 'ministral3';
  beta: number;
  length: number;
}

/** Qwen-1's use_logn_attn: q * max(1, ln(i + 1) / ln(length)), i the 0-based position. */
export interface LognScaling {
  rule: 'logn';
  length: number;
}

export type QueryScaling = Ministral3Scaling | LognScaling;

export function ministral3Factor(position: number, beta: number, length: number): number {
  return 1 + beta * Math.log(1 + Math.floor(position / length));
}

export function lognFactor(position: number, length: number): number {
  return Math.max(1, Math.log(position + 1) / Math.log(length));
}

export function queryFactor(scaling: QueryScaling, position: number): number {
  return scaling.rule === 'ministral3' ? ministral3Factor(position, scaling.beta, scaling.length) : lognFactor(position, scaling.length);
}

/** Multiplies rows [first, first + rows) of q (rows x width, row t = position first + t) by their factor, in place. */
export function scaleQueries(q: Float32Array, width: number, first: number, rows: number, scaling: QueryScaling): void {
  for (let t = 0; t < rows; t++) {
    const f = queryFactor(scaling, first + t);
    if (f === 1) continue;
    const row = q.subarray(t * width, (t + 1) * width);
    for (let c = 0; c < width; c++) row[c] *= f;
  }
}
