// Exact attention weights on a few keys (a needle's span, the first token) from every later query,
// without full rows. The attention graph gives each query's largest weight (focus) and its key;
// with q and k kept, the weight on any key j is focus * exp(q . k_j - q . k_best), the same
// softmax the graph computed (it derives its log-normaliser the same way). Cost: heads x queries
// x span keys x head size, so every head in every mode is cheap. A screening run's relevance on a
// key is absolute (alpha * m from q, k, w and r), so its needle and sink are plain sums.
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

/**
 * A screening layer's inputs (screening variants): q and k as [token][tile][d_K] (unit, MiPE
 * rotated), and each tile's window w (Infinity: the whole causal past) and acceptance width r.
 */
export interface ScreeningLayerKeys {
  q: Float32Array;
  k: Float32Array;
  heads: number;
  headDim: number;
  tokens: number;
  window: Float32Array;
  acceptance: Float32Array;
}

/**
 * Relevance of a key at `back` tokens before the query (back >= 0) whose similarity is qk:
 * alpha = max(1 - (1 - q.k) / r, 0)^2 times the softmask (cos(pi back / w) + 1) / 2 for back < w,
 * as screening.onnx computes it (training/screening.py).
 */
export function relevanceOf(qk: number, back: number, w: number, r: number): number {
  if (!(back < w)) return 0;
  const z = Math.max(0, qk / r + 1 - 1 / r);
  return z * z * ((Math.cos((Math.PI * back) / w) + 1) / 2);
}

/**
 * [tile][query - first]: each query's relevance on the span's keys it sees (keys up to itself),
 * summed, for queries first..T-1. Relevance is absolute per key, so this plain sum is exact: the
 * needle and the sink of a screening run.
 */
export function relevanceMass(layer: ScreeningLayerKeys, span: TokenSpan, first: number): Float32Array[] {
  const { q, k, heads: H, headDim: d, tokens: T } = layer;
  if (first > T) throw new RangeError(`relevance mass: queries from ${first} of ${T}`);
  const out: Float32Array[] = [];
  for (let h = 0; h < H; h++) {
    const w = layer.window[h];
    const r = layer.acceptance[h];
    const mass = new Float32Array(T - first);
    for (let i = first; i < T; i++) {
      const qo = (i * H + h) * d;
      let m = 0;
      for (let j = Math.max(span.start, i - Math.ceil(w) + 1); j < Math.min(span.end, i + 1); j++) {
        let qk = 0;
        for (let c = 0; c < d; c++) qk += q[qo + c] * k[(j * H + h) * d + c];
        m += relevanceOf(qk, i - j, w, r);
      }
      mass[i - first] = m;
    }
    out.push(mass);
  }
  return out;
}

/** The relevance needle of every layer and tile, flat [layer][tile][query - span.end], from kept q and k. */
export function relevanceNeedleOfLayers(
  layers: { q: Float32Array; k: Float32Array }[],
  dims: { heads: number; headDim: number },
  params: { window: Float32Array; acceptance: Float32Array },
  tokens: number,
  span: TokenSpan,
): Float32Array {
  const H = dims.heads;
  const n = tokens - span.end;
  const out = new Float32Array(layers.length * H * n);
  layers.forEach((keys, l) => {
    const layer = { ...keys, heads: H, headDim: dims.headDim, tokens, window: params.window.subarray(l * H, (l + 1) * H), acceptance: params.acceptance.subarray(l * H, (l + 1) * H) };
    relevanceMass(layer, span, span.end).forEach((m, h) => out.set(m, (l * H + h) * n));
  });
  return out;
}
