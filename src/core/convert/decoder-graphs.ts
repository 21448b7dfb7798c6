// The row-wise graphs of one variant (models/README.md, "Row-wise graphs"): embed, layer<l>.qkv,
// layer<l>.out and head, built node by node from a config's facts and the checkpoint's tensors.
// Rows are tokens and there is no batch axis, so every projection is one Gemm on the weight as the
// checkpoint stores it ([out, in], transB = 1; GPT-2's Conv1D [in, out], transB = 0).
import type { ArchSpec } from './hf-config';
import { inverseFrequencies } from './hf-config';
import { float, type GraphFile, int, ints } from './onnx-file';

/** The checkpoint's tensors by name, shape-checked; each read from disk when taken. */
export interface Tensors {
  take(name: string, shape: number[]): Float32Array;
}

const ROW = 'B';

/** Gemma 3 keeps norm weights as offsets from 1. */
function normWeight(spec: ArchSpec, t: Tensors, name: string, size: number): Float32Array {
  const w = t.take(name, [size]);
  return spec.family === 'gemma3' ? w.map((v) => 1 + v) : w;
}

/** x / sqrt(mean(x^2) + eps) * w, as the node pattern onnxruntime fuses into one SimplifiedLayerNormalization. */
function rmsNorm(g: GraphFile, x: string, weight: Float32Array, eps: number): string {
  const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, g.constant([2], [])])], { axes: ints([-1]), keepdims: int(1) });
  const scale = g.op('Sqrt', [g.op('Add', [meanSquare, g.constant([eps], [])])]);
  return g.op('Mul', [g.op('Div', [x, scale]), g.weight(weight, [weight.length])]);
}

function norm(g: GraphFile, spec: ArchSpec, t: Tensors, x: string, prefix: string): string {
  if (spec.family === 'gpt2') {
    const w = t.take(`${prefix}.weight`, [spec.width]);
    const b = t.take(`${prefix}.bias`, [spec.width]);
    return g.op('LayerNormalization', [x, g.weight(w, [spec.width]), g.weight(b, [spec.width])], { axis: int(-1), epsilon: float(spec.normEps) });
  }
  return rmsNorm(g, x, normWeight(spec, t, `${prefix}.weight`, spec.width), spec.normEps);
}

/** x @ W^T (+ b) for W stored [out, in]; Conv1D weights [in, out] with conv = true. */
function linear(g: GraphFile, x: string, w: Float32Array, out: number, inp: number, bias: Float32Array | null, conv = false): string {
  const inputs = [x, g.weight(w, conv ? [inp, out] : [out, inp])];
  if (bias) inputs.push(g.weight(bias, [out]));
  return g.op('Gemm', inputs, { transB: int(conv ? 0 : 1) });
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function activation(g: GraphFile, spec: ArchSpec, x: string): string {
  switch (spec.activation) {
    case 'silu':
      return g.op('Mul', [x, g.op('Sigmoid', [x])]);
    case 'relu':
      return g.op('Relu', [x]);
    case 'gelu':
      return g.op('Mul', [g.op('Mul', [x, g.constant([0.5], [])]), g.op('Add', [g.op('Erf', [g.op('Mul', [x, g.constant([Math.SQRT1_2], [])])]), g.constant([1], [])])]);
    case 'gelu-tanh': {
      // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
      const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, g.constant([0.044715], [])])]), g.constant([Math.sqrt(2 / Math.PI)], [])]);
      return g.op('Mul', [g.op('Mul', [x, g.constant([0.5], [])]), g.op('Add', [g.op('Tanh', [inner]), g.constant([1], [])])]);
    }
  }
}

/** Llama-family tensor names; GPT-2 names without the prefix transformers' LM head model adds. */
const layerPrefix = (spec: ArchSpec, l: number): string => (spec.family === 'gpt2' ? `h.${l}` : `model.layers.${l}`);

const embedName = (spec: ArchSpec): string => (spec.family === 'gpt2' ? 'wte.weight' : 'model.embed_tokens.weight');

export function embedGraph(g: GraphFile, spec: ArchSpec, t: Tensors): void {
  const ids = g.input('input_ids', 'int64', [ROW]);
  const positions = g.input('positions', 'int64', [ROW]);
  const table = g.sharedWeight('embed', () => t.take(embedName(spec), [spec.vocabSize, spec.width]), [spec.vocabSize, spec.width]);
  let x = g.op('Gather', [table, ids], { axis: int(0) });
  if (spec.embedScale !== 1) x = g.op('Mul', [x, g.constant([spec.embedScale], [])]);
  if (spec.family === 'gpt2') {
    const wpe = t.take('wpe.weight', [spec.maxPositions!, spec.width]);
    x = g.op('Add', [x, g.op('Gather', [g.weight(wpe, [spec.maxPositions!, spec.width]), positions], { axis: int(0) })]);
  }
  g.output('x', x, [ROW, spec.width]);
}

export function qkvGraph(g: GraphFile, spec: ArchSpec, t: Tensors, l: number): void {
  const { width: C, heads: H, kvHeads: KV, headDim: hs } = spec;
  const x = g.input('x', 'float', [ROW, C]);
  const positions = g.input('positions', 'int64', [ROW]);
  const s = g.input('ssmax_s', 'float', [H]);
  const layerRope = spec.rope?.[l] ?? null;
  const ropeScale = layerRope ? g.input('rope_scale', 'float', []) : null;
  const p = layerPrefix(spec, l);
  const h = norm(g, spec, t, x, spec.family === 'gpt2' ? `${p}.ln_1` : `${p}.input_layernorm`);
  const sizes = [H * hs, KV * hs, KV * hs];
  let qkv: string;
  if (spec.family === 'gpt2') {
    qkv = linear(g, h, t.take(`${p}.attn.c_attn.weight`, [C, 3 * C]), 3 * C, C, t.take(`${p}.attn.c_attn.bias`, [3 * C]), true);
  } else {
    // One product for q, k and v: [out, in] matrices stacked along out are their concatenation.
    const names = ['q_proj', 'k_proj', 'v_proj'];
    const w = concat(names.map((n, i) => t.take(`${p}.self_attn.${n}.weight`, [sizes[i], C])));
    const b = spec.qkvBias ? concat(names.map((n, i) => t.take(`${p}.self_attn.${n}.bias`, [sizes[i]]))) : null;
    qkv = linear(g, h, w, sizes[0] + 2 * sizes[1], C, b);
  }
  const [q, k, v] = g.opN('Split', [qkv, g.constant(sizes, [3], 'int64')], 3, { axis: int(1) });
  let q3 = g.op('Reshape', [q, g.constant([-1, H, hs], [3], 'int64')]);
  let k3 = g.op('Reshape', [k, g.constant([-1, KV, hs], [3], 'int64')]);
  if (spec.family === 'qwen3' || spec.family === 'gemma3') {
    q3 = rmsNorm(g, q3, normWeight(spec, t, `${p}.self_attn.q_norm.weight`, hs), spec.normEps);
    k3 = rmsNorm(g, k3, normWeight(spec, t, `${p}.self_attn.k_norm.weight`, hs), spec.normEps);
  }
  const pos = g.op('Cast', [positions], { to: int(1) }); // float
  if (layerRope && ropeScale) {
    // inv_i * rope_scale^(-2i/hs): the base multiplied by rope_scale, on top of the layer's own rule.
    const inv = Float32Array.from(inverseFrequencies(hs, layerRope));
    const exponent = Float32Array.from({ length: hs / 2 }, (_, i) => (-2 * i) / hs);
    const scaled = g.op('Mul', [g.constant(inv, [hs / 2]), g.op('Pow', [ropeScale, g.constant(exponent, [hs / 2])])]);
    const angles = g.op('Mul', [g.op('Unsqueeze', [pos, g.constant([1], [1], 'int64')]), scaled]); // (B, hs/2)
    const full = g.op('Unsqueeze', [g.op('Concat', [angles, angles], { axis: int(1) }), g.constant([1], [1], 'int64')]); // (B, 1, hs)
    const cos = g.op('Cos', [full]);
    const sin = g.op('Sin', [full]);
    const rotate = (v3: string): string => {
      const [a, b] = g.opN('Split', [v3, g.constant([hs / 2, hs / 2], [2], 'int64')], 2, { axis: int(2) });
      const turned = g.op('Concat', [g.op('Neg', [b]), a], { axis: int(2) });
      return g.op('Add', [g.op('Mul', [v3, cos]), g.op('Mul', [turned, sin])]);
    };
    q3 = rotate(q3);
    k3 = rotate(k3);
  }
  // SSMax multiplies the logits of query i by s ln n (n = the keys it sees: i + 1, at most the
  // window); s = 0 marks a plain Softmax head. As a factor on q, with the attention scale.
  let n = g.op('Add', [pos, g.constant([1], [])]);
  const window = spec.windows[l];
  if (window !== null) n = g.op('Min', [n, g.constant([window], [])]);
  const logn = g.op('Reshape', [g.op('Log', [n]), g.constant([-1, 1, 1], [3], 'int64')]);
  const sHeads = g.op('Reshape', [s, g.constant([1, H, 1], [3], 'int64')]);
  const ssmax = g.op('Where', [g.op('Greater', [sHeads, g.constant([0], [])]), g.op('Mul', [sHeads, logn]), g.constant([1], [])]);
  q3 = g.op('Mul', [q3, g.op('Mul', [ssmax, g.constant([spec.attentionScale(l)], [])])]);
  g.output('q', g.op('Reshape', [q3, g.constant([-1, H * hs], [2], 'int64')]), [ROW, H * hs]);
  g.output('k', g.op('Reshape', [k3, g.constant([-1, KV * hs], [2], 'int64')]), [ROW, KV * hs]);
  g.output('v', v, [ROW, KV * hs]);
}

export function outGraph(g: GraphFile, spec: ArchSpec, t: Tensors, l: number): void {
  const { width: C, heads: H, headDim: hs, intermediate: I } = spec;
  const x = g.input('x', 'float', [ROW, C]);
  const attn = g.input('attn', 'float', [ROW, H * hs]);
  const p = layerPrefix(spec, l);
  let x1: string;
  let m: string;
  if (spec.family === 'gpt2') {
    x1 = g.op('Add', [x, linear(g, attn, t.take(`${p}.attn.c_proj.weight`, [C, C]), C, C, t.take(`${p}.attn.c_proj.bias`, [C]), true)]);
    const h = norm(g, spec, t, x1, `${p}.ln_2`);
    const fc = linear(g, h, t.take(`${p}.mlp.c_fc.weight`, [C, I]), I, C, t.take(`${p}.mlp.c_fc.bias`, [I]), true);
    m = linear(g, activation(g, spec, fc), t.take(`${p}.mlp.c_proj.weight`, [I, C]), C, I, t.take(`${p}.mlp.c_proj.bias`, [C]), true);
  } else {
    const gemma = spec.family === 'gemma3';
    let o = linear(g, attn, t.take(`${p}.self_attn.o_proj.weight`, [C, H * hs]), C, H * hs, spec.oBias ? t.take(`${p}.self_attn.o_proj.bias`, [C]) : null);
    if (gemma) o = rmsNorm(g, o, normWeight(spec, t, `${p}.post_attention_layernorm.weight`, C), spec.normEps);
    x1 = g.op('Add', [x, o]);
    const h = norm(g, spec, t, x1, gemma ? `${p}.pre_feedforward_layernorm` : `${p}.post_attention_layernorm`);
    const gateUp = concat([t.take(`${p}.mlp.gate_proj.weight`, [I, C]), t.take(`${p}.mlp.up_proj.weight`, [I, C])]);
    const bias = spec.mlpBias ? concat([t.take(`${p}.mlp.gate_proj.bias`, [I]), t.take(`${p}.mlp.up_proj.bias`, [I])]) : null;
    const [gate, up] = g.opN('Split', [linear(g, h, gateUp, 2 * I, C, bias), g.constant([I, I], [2], 'int64')], 2, { axis: int(1) });
    m = linear(g, g.op('Mul', [activation(g, spec, gate), up]), t.take(`${p}.mlp.down_proj.weight`, [C, I]), C, I, spec.mlpBias ? t.take(`${p}.mlp.down_proj.bias`, [C]) : null);
    if (gemma) m = rmsNorm(g, m, normWeight(spec, t, `${p}.post_feedforward_layernorm.weight`, C), spec.normEps);
  }
  g.output('x_out', g.op('Add', [x1, m]), [ROW, C]);
}

export function headGraph(g: GraphFile, spec: ArchSpec, t: Tensors): void {
  const { width: C, vocabSize: V } = spec;
  const x = g.input('x', 'float', [ROW, C]);
  const next = g.input('next_ids', 'int64', [ROW]);
  const h = norm(g, spec, t, x, spec.family === 'gpt2' ? 'ln_f' : 'model.norm');
  // Tied embeddings: the head reads the embed graph's table in the weights file, written once.
  const w = spec.tied ? g.sharedWeight('embed', () => t.take(embedName(spec), [V, C]), [V, C]) : g.weight(t.take('lm_head.weight', [V, C]), [V, C]);
  let logits = g.op('Gemm', [h, w], { transB: int(1) });
  if (spec.finalSoftcap !== null) {
    const cap = g.constant([spec.finalSoftcap], []);
    logits = g.op('Mul', [g.op('Tanh', [g.op('Div', [logits, cap])]), cap]);
  }
  g.output('lse', g.op('ReduceLogSumExp', [logits], { axes: ints([1]), keepdims: int(0) }), [ROW]);
  const at = g.op('Unsqueeze', [next, g.constant([1], [1], 'int64')]);
  g.output('target', g.op('Squeeze', [g.op('GatherElements', [logits, at], { axis: int(1) }), g.constant([1], [1], 'int64')]), [ROW]);
}
