// A Hugging Face config.json read into the facts the graph writer needs, for the families the
// converter supports. Both layouts transformers writes are read: 4.x (`rope_theta`, `rope_scaling`,
// `rope_local_base_freq`, `sliding_window_pattern`) and 5.x (`rope_parameters`, per layer type for
// Gemma 3, and `layer_types`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConvertError } from './convert-error';

/** The model types, short enough for a picker's line; README's table says what each covers. */
export const SUPPORTED_FAMILIES = 'gpt2, llama, mistral, qwen2, qwen3, gemma3_text';

export type Family = 'gpt2' | 'llama' | 'qwen2' | 'qwen3' | 'gemma3';

/** A RoPE frequency rule: plain, `linear` (positions divided by factor) or Llama 3's per-wavelength rule. */
export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalContext: number };

export interface LayerSpec {
  /** Keys a query sees, itself included (transformers' sliding_window); null: every earlier key. */
  window: number | null;
  ropeBase: number;
  ropeScaling: RopeScaling;
}

export interface ArchSpec {
  /** config.json model_type as read, and the family whose graphs it gets. */
  modelType: string;
  family: Family;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  width: number;
  intermediate: number;
  vocabSize: number;
  normEps: number;
  activation: 'silu' | 'gelu-tanh' | 'gelu' | 'relu';
  /** Learned positions (GPT-2): the hard limit; else null. */
  maxPositions: number | null;
  /** The pretraining context: original_max_position_embeddings of a RoPE-scaled model, else max_position_embeddings. */
  trainContext: number;
  tied: boolean;
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  /** Multiplies q before the logits: 1/sqrt(head_dim), Gemma 3's query_pre_attn_scalar^-0.5; GPT-2 may divide by layer + 1. */
  attentionScale: (layer: number) => number;
  /** Gemma 3 multiplies embeddings by sqrt(width). */
  embedScale: number;
  /** null without RoPE (GPT-2). */
  rope: LayerSpec[] | null;
  windows: (number | null)[];
  finalSoftcap: number | null;
  /** Llama 4's query-scaling facts where the config ships them (models.json llama4Scaling). */
  llama4Scaling: { beta: number; length: number } | null;
}

type Json = Record<string, unknown>;

const FAMILY_OF: Record<string, Family> = { gpt2: 'gpt2', llama: 'llama', mistral: 'llama', qwen2: 'qwen2', qwen3: 'qwen3', gemma3_text: 'gemma3' };
const ARCHITECTURE_TYPES: Record<string, string> = {
  GPT2LMHeadModel: 'gpt2',
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  Gemma3ForCausalLM: 'gemma3_text',
};

export function readConfigJson(dir: string): Json {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConvertError(`${file} is missing: ${dir} is not a Hugging Face model folder`);
  }
  let cfg: unknown;
  try {
    cfg = JSON.parse(text);
  } catch (err) {
    throw new ConvertError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw new ConvertError(`${file} must hold a JSON object`);
  return cfg as Json;
}

/** model_type, or the type of architectures[0] when a config lacks it. */
export function modelTypeOf(cfg: Json): string {
  if (typeof cfg.model_type === 'string') return cfg.model_type;
  const arch = Array.isArray(cfg.architectures) ? String(cfg.architectures[0]) : '';
  return ARCHITECTURE_TYPES[arch] ?? (arch || 'unknown');
}

/** Why a config cannot be converted, or null when it can (the HF cache picker shows it). */
export function unsupportedReason(cfg: Json): string | null {
  try {
    readArchSpec(cfg, '');
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function readArchSpec(cfg: Json, where: string): ArchSpec {
  const modelType = modelTypeOf(cfg);
  const fail = (what: string): never => {
    throw new ConvertError(`${where ? where + ': ' : ''}${what}`);
  };
  if (modelType === 'gemma3') fail('Gemma 3 vision-language checkpoints (model_type gemma3) are not supported; a text-only Gemma3ForCausalLM save (gemma3_text) is');
  const family = FAMILY_OF[modelType];
  if (!family) fail(`model_type ${JSON.stringify(modelType)} is not supported; supported: ${SUPPORTED_FAMILIES}`);
  if (cfg.quantization_config) fail('quantized checkpoints (config.json quantization_config) are not supported; use the F32, F16 or BF16 release');
  const int = (key: string, fallback?: number): number => {
    const v = cfg[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`config.json ${key} must be a positive integer, got ${JSON.stringify(cfg[key])}`);
    return v as number;
  };
  if (family === 'gpt2') return gpt2Spec(cfg, int, fail);

  const width = int('hidden_size');
  const heads = int('num_attention_heads');
  const kvHeads = int('num_key_value_heads', heads);
  // transformers' defaults where a config leaves head_dim out: Qwen3 128, Gemma 3 256, else width / heads.
  const headDim = int('head_dim', family === 'qwen3' ? 128 : family === 'gemma3' ? 256 : Math.floor(width / heads));
  const layers = int('num_hidden_layers');
  if (heads % kvHeads) fail(`config.json num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  if (headDim % 2) fail(`head size ${headDim} is odd: RoPE needs an even head size`);
  const act = String(cfg.hidden_activation ?? cfg.hidden_act ?? (family === 'gemma3' ? 'gelu_pytorch_tanh' : 'silu'));
  const activation = act === 'silu' || act === 'swish' ? 'silu' : act === 'gelu_pytorch_tanh' || act === 'gelu_new' ? 'gelu-tanh' : act === 'gelu' ? 'gelu' : fail(`config.json activation ${JSON.stringify(act)} is not supported (silu, gelu, gelu_pytorch_tanh)`);
  if (cfg.attn_logit_softcapping !== undefined && cfg.attn_logit_softcapping !== null) fail('config.json attn_logit_softcapping is set: attention logit soft-capping (Gemma 2) is not supported');
  if (typeof cfg.partial_rotary_factor === 'number' && cfg.partial_rotary_factor !== 1) fail('config.json partial_rotary_factor: partial RoPE is not supported');

  const layerTypes = readLayerTypes(cfg, modelType, family, layers, fail);
  const windowSize = typeof cfg.sliding_window === 'number' && cfg.sliding_window > 0 ? cfg.sliding_window : null;
  const windows = layerTypes.map((t) => (t === 'sliding_attention' ? windowSize ?? fail('config.json layer_types names sliding layers but sliding_window is not set') : null));
  const rope = layerTypes.map((t, l): LayerSpec => ({ window: windows[l], ...ropeOf(cfg, family, t, fail) }));
  const maxPos = int('max_position_embeddings');
  const scaled = rope.find((r) => r.ropeScaling.type === 'llama3');
  const original = scaled?.ropeScaling.type === 'llama3' ? scaled.ropeScaling.originalContext : typeof cfg.original_max_position_embeddings === 'number' ? cfg.original_max_position_embeddings : null;
  const bias = cfg.attention_bias === true;
  const queryScalar = family === 'gemma3' ? Number(cfg.query_pre_attn_scalar ?? headDim) : headDim;
  const softcap = cfg.final_logit_softcapping;
  return {
    modelType,
    family,
    layers,
    heads,
    kvHeads,
    headDim,
    width,
    intermediate: int('intermediate_size'),
    vocabSize: int('vocab_size'),
    normEps: Number(cfg.rms_norm_eps ?? 1e-6),
    activation,
    maxPositions: null,
    trainContext: original ?? maxPos,
    tied: cfg.tie_word_embeddings === undefined ? family === 'gemma3' : cfg.tie_word_embeddings === true,
    qkvBias: bias || family === 'qwen2',
    oBias: bias,
    mlpBias: cfg.mlp_bias === true,
    attentionScale: () => 1 / Math.sqrt(queryScalar),
    embedScale: family === 'gemma3' ? Math.sqrt(width) : 1,
    rope,
    windows,
    finalSoftcap: typeof softcap === 'number' && softcap > 0 ? softcap : null,
    llama4Scaling: llama4ScalingOf(cfg),
  };
}

function gpt2Spec(cfg: Json, int: (key: string, fallback?: number) => number, fail: (what: string) => never): ArchSpec {
  const width = int('n_embd');
  const heads = int('n_head');
  if (width % heads) fail(`config.json n_embd ${width} is not a multiple of n_head ${heads}`);
  const act = String(cfg.activation_function ?? 'gelu_new');
  const activation = act === 'gelu_new' || act === 'gelu_pytorch_tanh' ? 'gelu-tanh' : act === 'gelu' ? 'gelu' : act === 'relu' ? 'relu' : fail(`config.json activation_function ${JSON.stringify(act)} is not supported (gelu_new, gelu_pytorch_tanh, gelu, relu)`);
  const headDim = width / heads;
  const base = cfg.scale_attn_weights === false ? 1 : 1 / Math.sqrt(headDim);
  const byLayer = cfg.scale_attn_by_inverse_layer_idx === true;
  const layers = int('n_layer');
  const positions = int('n_positions');
  return {
    modelType: 'gpt2',
    family: 'gpt2',
    layers,
    heads,
    kvHeads: heads,
    headDim,
    width,
    intermediate: typeof cfg.n_inner === 'number' ? cfg.n_inner : 4 * width,
    vocabSize: int('vocab_size'),
    normEps: Number(cfg.layer_norm_epsilon ?? 1e-5),
    activation,
    maxPositions: positions,
    trainContext: positions,
    tied: true,
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    attentionScale: (l) => (byLayer ? base / (l + 1) : base),
    embedScale: 1,
    rope: null,
    windows: Array<null>(layers).fill(null),
    finalSoftcap: null,
    llama4Scaling: null,
  };
}

/** 'full_attention' or 'sliding_attention' per layer, from layer_types or the older keys. */
function readLayerTypes(cfg: Json, modelType: string, family: Family, layers: number, fail: (what: string) => never): string[] {
  if (Array.isArray(cfg.layer_types)) {
    if (cfg.layer_types.length !== layers) fail(`config.json layer_types has ${cfg.layer_types.length} entries for ${layers} layers`);
    return cfg.layer_types.map((t) => (t === 'sliding_attention' || t === 'full_attention' ? t : fail(`config.json layer_types entry ${JSON.stringify(t)} is not supported`)));
  }
  const all = (sliding: (l: number) => boolean): string[] => Array.from({ length: layers }, (_, l) => (sliding(l) ? 'sliding_attention' : 'full_attention'));
  const hasWindow = typeof cfg.sliding_window === 'number' && cfg.sliding_window > 0;
  if (family === 'gemma3') {
    const pattern = Number(cfg.sliding_window_pattern ?? cfg._sliding_window_pattern ?? 6);
    return all((l) => (l + 1) % pattern !== 0);
  }
  if (family === 'qwen2' || family === 'qwen3') {
    const first = Number(cfg.max_window_layers ?? layers);
    return all((l) => hasWindow && cfg.use_sliding_window === true && l >= first);
  }
  if (modelType === 'mistral') return all(() => hasWindow);
  return all(() => false);
}

function ropeOf(cfg: Json, family: Family, layerType: string, fail: (what: string) => never): { ropeBase: number; ropeScaling: RopeScaling } {
  // 5.x: rope_parameters, per layer type for Gemma 3; 4.x: rope_theta with rope_scaling, and Gemma 3's
  // rope_local_base_freq for its sliding layers (whose scaling, if any, applies to full layers only).
  let params = (cfg.rope_parameters ?? null) as Json | null;
  if (params && typeof params[layerType] === 'object') params = params[layerType] as Json;
  let base: number;
  let scaling: Json | null;
  if (params && params.rope_theta !== undefined) {
    base = Number(params.rope_theta);
    scaling = params;
  } else if (family === 'gemma3' && layerType === 'sliding_attention') {
    base = Number(cfg.rope_local_base_freq ?? 10000);
    scaling = null;
  } else {
    base = Number(cfg.rope_theta ?? 10000);
    scaling = (cfg.rope_scaling ?? null) as Json | null;
  }
  if (!(base > 0)) fail(`config.json RoPE base ${base} must be positive`);
  const kind = scaling ? String(scaling.rope_type ?? scaling.type ?? 'default') : 'default';
  const num = (key: string): number => {
    const v = Number(scaling?.[key]);
    if (!(v > 0)) fail(`config.json RoPE ${kind} lacks a positive ${key}`);
    return v;
  };
  if (scaling && typeof scaling.partial_rotary_factor === 'number' && scaling.partial_rotary_factor !== 1) fail('config.json partial_rotary_factor: partial RoPE is not supported');
  switch (kind) {
    case 'default':
      return { ropeBase: base, ropeScaling: { type: 'default' } };
    case 'linear':
      return { ropeBase: base, ropeScaling: { type: 'linear', factor: num('factor') } };
    case 'llama3':
      return {
        ropeBase: base,
        ropeScaling: { type: 'llama3', factor: num('factor'), lowFreqFactor: num('low_freq_factor'), highFreqFactor: num('high_freq_factor'), originalContext: num('original_max_position_embeddings') },
      };
    default:
      return fail(`config.json RoPE scaling ${JSON.stringify(kind)} is not supported (default, linear, llama3)`);
  }
}

function llama4ScalingOf(cfg: Json): { beta: number; length: number } | null {
  const rope = (cfg.rope_parameters ?? cfg.rope_scaling ?? {}) as Json;
  if (typeof rope.llama_4_scaling_beta === 'number' && typeof rope.original_max_position_embeddings === 'number') {
    return { beta: rope.llama_4_scaling_beta, length: rope.original_max_position_embeddings };
  }
  if (typeof cfg.attn_scale === 'number' && typeof cfg.floor_scale === 'number') return { beta: cfg.attn_scale, length: cfg.floor_scale };
  return null;
}

/** RoPE inverse frequencies of one layer, computed in float64 (transformers computes them in float32: they differ in the last bits). */
export function inverseFrequencies(headDim: number, spec: LayerSpec): Float64Array {
  const half = headDim / 2;
  const inv = Float64Array.from({ length: half }, (_, i) => 1 / spec.ropeBase ** ((2 * i) / headDim));
  const s = spec.ropeScaling;
  if (s.type === 'linear') return inv.map((f) => f / s.factor);
  if (s.type === 'llama3') {
    const lowWavelength = s.originalContext / s.lowFreqFactor;
    const highWavelength = s.originalContext / s.highFreqFactor;
    return inv.map((f) => {
      const wavelength = (2 * Math.PI) / f;
      if (wavelength < highWavelength) return f;
      if (wavelength > lowWavelength) return f / s.factor;
      const smooth = (s.originalContext / wavelength - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      return (1 - smooth) * (f / s.factor) + smooth * f;
    });
  }
  return inv;
}
