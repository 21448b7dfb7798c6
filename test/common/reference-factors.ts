// What each mode multiplies query i's logits by, written from the models' published sources and read
// from models.json directly, never through src/core/model: the references of the length-rule tests.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mode } from '../../src/shared/vocabulary';

/**
 * Ministral 3, huggingface/transformers src/transformers/models/ministral3/modeling_ministral3.py,
 * _get_llama_4_attn_scale(cache_position, beta, original_max_position_embeddings):
 * 1 + beta * log(1 + floor(position / L)), position counted from 0, on every layer.
 */
export function ministral3Reference(position: number, beta: number, L: number): number {
  return 1 + beta * Math.log(1 + Math.floor(position / L));
}

/**
 * Llama 4, huggingface/transformers src/transformers/models/llama4/modeling_llama4.py,
 * Llama4TextAttention.forward (NoPE layers only): log1p(floor((cache_position + 1) / floor_scale)) * attn_scale + 1.
 * Not a mode: the tests show that ministral3-scaling is not this.
 */
export function llama4Reference(position: number, attnScale: number, floorScale: number): number {
  return Math.log1p(Math.floor((position + 1) / floorScale)) * attnScale + 1;
}

/**
 * Qwen-1, Qwen/Qwen-7B modeling_qwen.py, QWenAttention: logn_list = [log(i, seq_length) if
 * i > seq_length else 1 for i in range(1, 32768)], and the query at sequence index p (from 0) is
 * multiplied by logn_tensor[p], that is by logn_list[p]: i = p + 1.
 */
export function qwenLognList(seqLength: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) out.push(i > seqLength ? Math.log(i) / Math.log(seqLength) : 1);
  return out;
}

interface ModelsJson {
  layers: number;
  heads: number;
  trainContext: number;
  posthocS?: number;
  llama4Scaling?: { beta: number; length: number };
  variants: { ssmax?: { s: number[][] } };
}

/**
 * Query i's logit factor for every head (layer-major) of a model folder in `mode`, from the papers'
 * formulas: SSMax s ln(i + 1) (learned s, or posthocS, default 1 / ln trainContext), Ministral 3's
 * and Qwen-1's rules with models.json's parameters or the engine's documented defaults.
 */
export function referenceFactors(modelDir: string, mode: Mode, i: number): number[] {
  const json = JSON.parse(fs.readFileSync(path.join(modelDir, 'models.json'), 'utf8')) as ModelsJson;
  const L = json.trainContext;
  const every = (f: number): number[] => new Array<number>(json.layers * json.heads).fill(f);
  switch (mode) {
    case 'softmax':
      return every(1);
    case 'ssmax':
      return json.variants.ssmax!.s.flat().map((s) => s * Math.log(i + 1));
    case 'ssmax-posthoc':
      return every((json.posthocS ?? 1 / Math.log(L)) * Math.log(i + 1));
    case 'ministral3-scaling': {
      const { beta, length } = json.llama4Scaling ?? { beta: 0.1, length: L };
      return every(ministral3Reference(i, beta, length));
    }
    case 'logn-scaling':
      return every(qwenLognList(L, i + 1)[i]);
    case 'screening':
      throw new Error('screening has no logit factor: its tiles are not softmax heads');
  }
}
