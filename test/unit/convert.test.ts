// The converter's pure parts: config.json layouts of transformers 4.x and 5.x, the RoPE rules,
// the converted-model cache key and the Hugging Face hub cache listing. Conversions themselves
// are checked against transformers in the CLI suite.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inverseFrequencies, readArchSpec } from '../../src/core/convert/hf-config';
import { cacheKey, deleteConverted, listHubSnapshots } from '../../src/core/convert/model-store';

const root = path.join(__dirname, '..', '..', '..');
const fixture = (name: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(root, 'test', 'fixtures', 'hf', name, 'config.json'), 'utf8'));
const llama = { model_type: 'llama', hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 2, num_hidden_layers: 2, intermediate_size: 96, vocab_size: 301, max_position_embeddings: 256 };

describe('converter: config.json', () => {
  it('reads Llama 3 RoPE scaling from 5.x rope_parameters and from 4.x rope_scaling alike', () => {
    const five = readArchSpec(fixture('llama3'), 'x');
    const params = five.rope![0].ropeScaling;
    const four = readArchSpec({ ...llama, rope_theta: 500000, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 32 } }, 'x');
    assert.deepEqual(four.rope![0], five.rope![0]);
    assert.deepEqual(params, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 32 });
    // The reference length of a RoPE-scaled model is its pretraining context.
    assert.equal(five.trainContext, 32);
  });

  it("Llama 3's rule by hand: short wavelengths kept, long ones divided by the factor, the band between blended", () => {
    const spec = { window: null, ropeBase: 10000, ropeScaling: { type: 'llama3' as const, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 64 } };
    const plain = inverseFrequencies(16, { ...spec, ropeScaling: { type: 'default' } });
    const scaled = inverseFrequencies(16, spec);
    plain.forEach((f, i) => {
      const wavelength = (2 * Math.PI) / f; // high band below 64 / 4 = 16 tokens, low band above 64
      if (wavelength < 16) assert.equal(scaled[i], f);
      else if (wavelength > 64) assert.ok(Math.abs(scaled[i] - f / 8) < 1e-15);
      else {
        const smooth = (64 / wavelength - 1) / 3;
        assert.ok(Math.abs(scaled[i] - ((1 - smooth) * (f / 8) + smooth * f)) < 1e-15);
      }
    });
    assert.ok(plain.some((f) => (2 * Math.PI) / f > 16 && (2 * Math.PI) / f < 64), 'the blended band is exercised');
    assert.deepEqual(Array.from(inverseFrequencies(4, { ...spec, ropeScaling: { type: 'linear', factor: 2 } })), [0.5, 0.005]);
  });

  it('Gemma 3: 5.x per-layer-type RoPE and layer_types; 4.x rope_local_base_freq and sliding_window_pattern', () => {
    const five = readArchSpec(fixture('gemma3'), 'x');
    assert.deepEqual(five.windows, [16, null]);
    assert.deepEqual(five.rope!.map((r) => r.ropeBase), [10000, 1000000]);
    assert.equal(five.embedScale, 8);
    assert.equal(five.attentionScale(0), 1 / Math.sqrt(24));
    const four = readArchSpec(
      { model_type: 'gemma3_text', hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, num_hidden_layers: 6, intermediate_size: 96, vocab_size: 301, max_position_embeddings: 32768, sliding_window: 512, sliding_window_pattern: 6, rope_theta: 1e6, rope_local_base_freq: 1e4, rope_scaling: { rope_type: 'linear', factor: 8 }, hidden_activation: 'gelu_pytorch_tanh' },
      'x',
    );
    assert.deepEqual(four.windows, [512, 512, 512, 512, 512, null]);
    assert.deepEqual(four.rope!.map((r) => r.ropeBase), [1e4, 1e4, 1e4, 1e4, 1e4, 1e6]);
    // The config's scaling applies to the full layers only.
    assert.deepEqual(four.rope!.map((r) => r.ropeScaling.type), ['default', 'default', 'default', 'default', 'default', 'linear']);
    assert.equal(four.tied, true);
  });

  it('sliding windows: Mistral on every layer, Qwen2 from max_window_layers on, only with use_sliding_window', () => {
    assert.deepEqual(readArchSpec(fixture('mistral-sliding'), 'x').windows, [16, 16]);
    const qwen = { ...llama, model_type: 'qwen2', num_hidden_layers: 4, sliding_window: 8, max_window_layers: 2 };
    assert.deepEqual(readArchSpec({ ...qwen, use_sliding_window: true }, 'x').windows, [null, null, 8, 8]);
    assert.deepEqual(readArchSpec({ ...qwen, use_sliding_window: false }, 'x').windows, [null, null, null, null]);
    assert.equal(readArchSpec(qwen, 'x').qkvBias, true);
  });

  it('Qwen3: per-head q/k norm family, head_dim unlike width / heads', () => {
    const spec = readArchSpec(fixture('qwen3'), 'x');
    assert.equal(spec.family, 'qwen3');
    assert.equal(spec.headDim, 24);
    assert.equal(spec.width / spec.heads, 16);
  });

  it("transformers' defaults where a config leaves a key out: head_dim of Qwen3 and Gemma 3, Gemma 3's GELU", () => {
    const { head_dim: _q, ...qwen } = fixture('qwen3');
    assert.equal(readArchSpec(qwen, 'x').headDim, 128);
    const { head_dim: _g, hidden_activation: _a, ...gemma } = fixture('gemma3');
    assert.equal(readArchSpec(gemma, 'x').headDim, 256);
    assert.equal(readArchSpec(gemma, 'x').activation, 'gelu-tanh');
    assert.equal(readArchSpec({ ...llama, hidden_act: 'swish' }, 'x').activation, 'silu');
  });

  it('refuses what it cannot convert, in one line that says why', () => {
    assert.throws(() => readArchSpec({ ...llama, model_type: 'falcon' }, 'x'), /model_type "falcon" is not supported; supported: gpt2/);
    assert.throws(() => readArchSpec({ ...llama, rope_scaling: { rope_type: 'yarn', factor: 4 } }, 'x'), /RoPE scaling "yarn" is not supported \(default, linear, llama3\)/);
    assert.throws(() => readArchSpec({ ...llama, model_type: 'gemma3' }, 'x'), /vision-language checkpoints \(model_type gemma3\) are not supported/);
    assert.throws(() => readArchSpec({ ...llama, quantization_config: { quant_method: 'gptq' } }, 'x'), /quantized checkpoints/);
    assert.throws(() => readArchSpec({ ...llama, num_key_value_heads: 3 }, 'x'), /not a multiple of num_key_value_heads 3/);
  });
});

describe('converter: the converted-model cache and the hub cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-convert-unit-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the cache key follows the weight files: a touched file is a new key', () => {
    const hf = path.join(dir, 'hf');
    fs.cpSync(path.join(root, 'test', 'fixtures', 'hf', 'llama'), hf, { recursive: true });
    const key = cacheKey(hf);
    assert.equal(cacheKey(hf), key);
    fs.utimesSync(path.join(hf, 'model.safetensors'), new Date(), new Date(Date.now() + 10_000));
    assert.notEqual(cacheKey(hf), key);
  });

  it('lists hub snapshots with their id, architecture, size and why one is not supported', () => {
    const hub = path.join(dir, 'hub');
    const good = path.join(hub, 'models--org--tiny-qwen3', 'snapshots', 'abc123');
    const bad = path.join(hub, 'models--org--tiny-mamba', 'snapshots', 'def456');
    fs.mkdirSync(good, { recursive: true });
    fs.mkdirSync(bad, { recursive: true });
    fs.cpSync(path.join(root, 'test', 'fixtures', 'hf', 'qwen3'), good, { recursive: true });
    fs.writeFileSync(path.join(bad, 'config.json'), JSON.stringify({ model_type: 'mamba', architectures: ['MambaForCausalLM'] }));
    const found = listHubSnapshots({ HF_HUB_CACHE: hub, HOME: dir });
    assert.deepEqual(found.map((s) => [s.modelId, s.revision, s.architecture, s.unsupported === null]), [
      ['org/tiny-mamba', 'def456', 'MambaForCausalLM', false],
      ['org/tiny-qwen3', 'abc123', 'Qwen3ForCausalLM', true],
    ]);
    assert.match(found[0].unsupported!, /model_type "mamba" is not supported/);
    assert.ok(found[1].bytes > 100_000);
  });

  it('deletes only folders inside the cache', () => {
    const cache = path.join(dir, 'cache');
    fs.mkdirSync(path.join(cache, 'm-1'), { recursive: true });
    assert.throws(() => deleteConverted(cache, dir), /is not a converted model/);
    assert.throws(() => deleteConverted(cache, path.join(cache, '..', 'other')), /is not a converted model/);
    deleteConverted(cache, path.join(cache, 'm-1'));
    assert.ok(!fs.existsSync(path.join(cache, 'm-1')));
  });
});
