// Exact attention weights on a few keys (a needle's span, the first token) from every later query,
// without full rows. The attention graph gives each query's largest weight (focus) and its key;
// with q and k kept, the weight on any key j is focus * exp(q . k_j - q . k_best), the same
// softmax the graph computed (it derives its log-normaliser the same way). Cost: heads x queries
// x span keys x head size, so every head in every mode is cheap.
import type { TokenSpan } from './needle';

/** One layer's inputs, in the engine's layouts. */
export interface LayerKeys {
  /** T x (heads * headDim): the attention graph's q (scale, SSMax and any query scaling applied). */
  q: Float32Array;
  /** Per kv head, at least T x headDim: row t is key t. */
  k: Float32Array[];
  heads: number;
  headDim: number;
  tokens: number;
  /** [head][query]: each query's best key (the top-k's first). */
  best: Int32Array;
  /** [head][query]: each query's largest weight. */
  focus: Float32Array;
  /** A sliding layer's window: query i sees keys i - w + 1 .. i (weight 0 on earlier ones); absent or null: full attention. */
  window?: number | null;
}

/** [head][query - first]: each query's weight on the span's keys, summed, for queries first..T-1 (all at or past the span; keys before a query's window weigh 0). */
export function spanMass(layer: LayerKeys, span: TokenSpan, first: number): Float32Array[] {
  const { q, k, heads: H, headDim: hs, tokens: T, best, focus } = layer;
  const window = layer.window ?? null;
  if (first < span.end || first > T) throw new RangeError(`span mass: queries from ${first} do not all see keys [${span.start}, ${span.end})`);
  const G = H / k.length;
  const out: Float32Array[] = [];
  for (let h = 0; h < H; h++) {
    const keys = k[Math.floor(h / G)];
    const mass = new Float32Array(T - first);
    for (let i = first; i < T; i++) {
      const b = best[h * T + i];
      if (b < 0 || b > i) throw new RangeError(`span mass: query ${i} of head ${h} has no best key`);
      const qo = i * H * hs + h * hs;
      let zBest = 0;
      for (let d = 0; d < hs; d++) zBest += q[qo + d] * keys[b * hs + d];
      let m = 0;
      for (let j = window === null ? span.start : Math.max(span.start, i - window + 1); j < span.end; j++) {
        let z = 0;
        for (let d = 0; d < hs; d++) z += q[qo + d] * keys[j * hs + d];
        m += Math.exp(z - zBest);
      }
      mass[i - first] = focus[h * T + i] * m;
    }
    out.push(mass);
  }
  return out;
}

/** [head][query] best keys out of top-k indices ([head][query][k]). */
export function bestKeys(topIndex: Int32Array, k: number): Int32Array {
  const n = topIndex.length / k;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) out[r] = topIndex[r * k];
  return out;
}

/** [head][query]: every query's weight on token 0, the attention sink (query 0 sees only it: 1); queries before `from` are left 0 (a resumed run keeps them). */
export function sinkMass(layer: LayerKeys, from = 0): Float32Array {
  const T = layer.tokens;
  const out = new Float32Array(layer.heads * T);
  if (T === 0 || from >= T) return out;
  const first = Math.max(from, 1);
  spanMass(layer, { start: 0, end: 1 }, first).forEach((m, h) => {
    if (from === 0) out[h * T] = 1;
    out.set(m, h * T + first);
  });
  return out;
}

/** The needle of every layer and head, flat [layer][head][query - span.end], from kept q and k; best and focus are [layer][head][query]. */
export function needleOfLayers(
  layers: { q: Float32Array; k: Float32Array[] }[],
  dims: { heads: number; headDim: number; windows?: (number | null)[] },
  tokens: number,
  span: TokenSpan,
  best: Int32Array,
  focus: Float32Array,
): Float32Array {
  const { heads: H, headDim } = dims;
  const T = tokens;
  const n = T - span.end;
  const out = new Float32Array(layers.length * H * n);
  layers.forEach((keys, l) => {
    const layer: LayerKeys = {
      q: keys.q,
      k: keys.k,
      heads: H,
      headDim,
      tokens: T,
      best: best.subarray(l * H * T, (l + 1) * H * T),
      focus: focus.subarray(l * H * T, (l + 1) * H * T),
      window: dims.windows?.[l] ?? null,
    };
    spanMass(layer, span, span.end).forEach((m, h) => out.set(m, (l * H + h) * n));
  });
  return out;
}
