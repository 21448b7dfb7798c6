// Converts a Hugging Face checkpoint folder (config.json, tokenizer.json, safetensors) into a model
// folder of contract 3 (models/README.md), in this process, one tensor at a time: memory holds the
// largest tensor as stored and as float32 (a fused q|k|v or gate|up matrix: its parts and their
// concatenation) plus the graph being written. The folder is
// written beside its destination and renamed into place at the end, so a failed or cancelled
// conversion leaves nothing half-written.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConvertError } from './convert-error';
import { embedGraph, headGraph, outGraph, qkvGraph, type Tensors } from './decoder-graphs';
import { type ArchSpec, readArchSpec, readConfigJson } from './hf-config';
import { GraphFile, WeightFile } from './onnx-file';
import { readTensor, readWeightIndex, type TensorEntry } from './safetensors';
import { planBefore } from '../engine/memory-plan';
import { Tokenizer } from '../model/tokenizer';

/** Bumped whenever the graphs it writes change: part of the converted-model cache key. */
export const CONVERTER_VERSION = 1;
const TOP_K = 16;
const POOLED_SIZE = 256;
const MB = 1024 * 1024;
/** The shipped weights-free graphs every model folder holds (models/README.md, "Attention graphs"). */
const ATTENTION_GRAPHS = ['attention.onnx', 'attention-split.onnx', 'attention-rows.onnx'];
/** Those of sliding-window layers, copied for models that have some. */
const WINDOW_GRAPHS = ['attention-window.onnx', 'attention-window-rows.onnx'];

export interface ConvertProgress {
  tensors: number;
  tensorsTotal: number;
  bytes: number;
  bytesTotal: number;
}

export interface ConvertOptions {
  /** The folder holding the shipped attention graphs (the extension's or the repository's models/). */
  attentionGraphs: string;
  id?: string;
  /** The checkpoint folder as the user named it, recorded in models.json (converted-model lists). */
  source?: string;
  signal?: AbortSignal;
  onProgress?: (p: ConvertProgress) => void;
  /** Memory the converted model may take when inspected: weights as float32 plus the smallest run. Default: free memory now. */
  memoryBytes?: number;
}

export interface ConvertResult {
  dir: string;
  id: string;
  modelType: string;
  layers: number;
  heads: number;
  kvHeads: number;
  parameters: number;
  slidingLayers: number;
  seconds: number;
}

/** What a folder would convert to, read from its config and headers, not its weights. */
interface HfModelFacts {
  spec: ArchSpec;
  entries: Map<string, TensorEntry>;
  /** Parameters of the checkpoint's float tensors (a tied head counted once). */
  parameters: number;
}

function readHfModel(hfDir: string): HfModelFacts {
  const spec = readArchSpec(readConfigJson(hfDir), path.join(hfDir, 'config.json'));
  const entries = readWeightIndex(hfDir);
  let parameters = 0;
  for (const e of entries.values()) if (!e.name.endsWith('inv_freq')) parameters += e.shape.reduce((a, b) => a * b, 1);
  return { spec, entries, parameters };
}

/** Throws with the numbers when the converted model cannot be inspected within memoryBytes. */
function checkMemory(facts: HfModelFacts, memoryBytes: number): void {
  const { spec } = facts;
  const weights = facts.parameters * 4;
  // One layer's projections: q, k, v and o, and the MLP (three matrices gated, two for GPT-2).
  const attention = spec.width * spec.headDim * (2 * spec.heads + 2 * spec.kvHeads);
  const mlp = (spec.family === 'gpt2' ? 2 : 3) * spec.width * spec.intermediate;
  const dims = { layers: spec.layers, heads: spec.heads, kvHeads: spec.kvHeads, headDim: spec.headDim, width: spec.width, vocabSize: spec.vocabSize, topK: TOP_K, pooledSize: POOLED_SIZE, layerParameters: attention + mlp, windows: spec.windows };
  const run = planBefore(dims, 1000, 4000, true, 1).peakBytes;
  if (weights + run > memoryBytes) {
    throw new ConvertError(
      `this model needs ${Math.ceil(weights / MB).toLocaleString('en-US')} MB for its weights once loaded (${(facts.parameters / 1e6).toFixed(0)} M parameters x 4 bytes as float32) ` +
        `plus ${Math.ceil(run / MB)} MB to inspect 1,000 tokens, above the ${Math.floor(memoryBytes / MB).toLocaleString('en-US')} MB available; not converted`,
    );
  }
}

function availableMemory(): number {
  const available = (process as { availableMemory?: () => number }).availableMemory?.();
  return available && available > 0 ? available : os.freemem();
}

export async function convertHfFolder(hfDir: string, outDir: string, options: ConvertOptions): Promise<ConvertResult> {
  const started = Date.now();
  if (!fs.existsSync(hfDir) || !fs.statSync(hfDir).isDirectory()) throw new ConvertError(`${hfDir} is not a folder`);
  const facts = readHfModel(hfDir);
  const { spec, entries } = facts;
  const tokenizerPath = path.join(hfDir, 'tokenizer.json');
  if (!fs.existsSync(tokenizerPath)) throw new ConvertError(`${tokenizerPath} is missing (the fast tokenizer file; transformers writes it with save_pretrained)`);
  let tokenizer: Tokenizer;
  try {
    tokenizer = Tokenizer.fromFile(tokenizerPath);
  } catch (err) {
    throw new ConvertError((err as Error).message);
  }
  if (tokenizer.vocabSize > spec.vocabSize) throw new ConvertError(`${tokenizerPath} has token id ${tokenizer.vocabSize - 1}, beyond config.json vocab_size ${spec.vocabSize}`);
  // availableMemory counts what the OS can free (macOS's inactive pages); freemem alone is far lower there.
  checkMemory(facts, options.memoryBytes ?? availableMemory());
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0) throw new ConvertError(`${outDir} already exists and is not empty; name a new folder`);

  const id = options.id ?? path.basename(path.resolve(hfDir));
  const target = path.resolve(outDir);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  // A folder of its own beside the target (two conversions of one checkpoint never share it), renamed into place at the end.
  const partial = fs.mkdtempSync(`${target}.partial-`);
  let weights: WeightFile | undefined;
  try {
    fs.mkdirSync(path.join(partial, 'softmax'));
    weights = new WeightFile(path.join(partial, 'softmax', 'weights.bin'));
    const tensors = new CheckpointTensors(entries, spec, options.onProgress);
    const meta = { attention_lens_contract: '3', attention: 'softmax', converted: id };
    const graphs: [string, (g: GraphFile) => void][] = [
      ['embed', (g) => embedGraph(g, spec, tensors)],
      ...Array.from({ length: spec.layers }, (_, l): [string, (g: GraphFile) => void][] => [
        [`layer${l}.qkv`, (g) => qkvGraph(g, spec, tensors, l)],
        [`layer${l}.out`, (g) => outGraph(g, spec, tensors, l)],
      ]).flat(),
      ['head', (g) => headGraph(g, spec, tensors)],
    ];
    for (const [name, build] of graphs) {
      if (options.signal?.aborted) throw new ConvertError('conversion cancelled');
      const g = new GraphFile(name, weights);
      build(g);
      g.save(path.join(partial, 'softmax', `${name}.onnx`), { ...meta, piece: name });
      await new Promise((resolve) => setImmediate(resolve)); // let progress and cancel through
    }
    weights.close();
    for (const file of spec.windows.some((w) => w !== null) ? [...ATTENTION_GRAPHS, ...WINDOW_GRAPHS] : ATTENTION_GRAPHS) {
      const from = path.join(options.attentionGraphs, file);
      if (!fs.existsSync(from)) throw new ConvertError(`${from} is missing: the attention graphs ship with Attention Lens`);
      fs.copyFileSync(from, path.join(partial, file));
    }
    fs.copyFileSync(tokenizerPath, path.join(partial, 'tokenizer.json'));
    fs.writeFileSync(path.join(partial, 'models.json'), JSON.stringify(manifest(spec, id, tensors, options.source ?? path.resolve(hfDir)), null, 2) + '\n');
    if (options.signal?.aborted) throw new ConvertError('conversion cancelled');
    if (fs.existsSync(target) && fs.readdirSync(target).length === 0) fs.rmdirSync(target);
    try {
      fs.renameSync(partial, target);
    } catch (err) {
      // Another conversion of the same checkpoint finished first: its folder is as good as this one.
      if (!fs.existsSync(path.join(target, 'models.json'))) throw err;
      fs.rmSync(partial, { recursive: true, force: true });
    }
  } catch (err) {
    weights?.close();
    fs.rmSync(partial, { recursive: true, force: true });
    throw err;
  }
  return {
    dir: path.resolve(outDir),
    id,
    modelType: spec.modelType,
    layers: spec.layers,
    heads: spec.heads,
    kvHeads: spec.kvHeads,
    parameters: facts.parameters,
    slidingLayers: spec.windows.filter((w) => w !== null).length,
    seconds: (Date.now() - started) / 1000,
  };
}

/** Tensors read on demand, shape-checked against config.json; counts what was taken. */
class CheckpointTensors implements Tensors {
  private readonly byName = new Map<string, TensorEntry>();
  private readonly taken = new Set<string>();
  private bytes = 0;
  private readonly bytesTotal: number;
  parameters = 0;
  layerParameters = 0;

  constructor(
    entries: Map<string, TensorEntry>,
    private readonly spec: ArchSpec,
    private readonly onProgress?: (p: ConvertProgress) => void,
  ) {
    // GPT2LMHeadModel saves "transformer.h.0...", GPT2Model "h.0...".
    for (const [name, e] of entries) this.byName.set(spec.family === 'gpt2' ? name.replace(/^transformer\./, '') : name, e);
    this.bytesTotal = [...entries.values()].reduce((n, e) => n + e.end - e.begin, 0);
  }

  take(name: string, shape: number[]): Float32Array {
    const e = this.byName.get(name);
    if (!e) throw new ConvertError(`the checkpoint lacks tensor ${name} (${this.spec.modelType} with ${this.spec.layers} layers)`);
    if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
      throw new ConvertError(`${e.file}: tensor ${e.name} has shape [${e.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
    }
    const data = readTensor(e);
    if (!this.taken.has(name)) {
      this.taken.add(name);
      this.parameters += data.length;
      if (/^(model\.layers|h)\.0\./.test(name)) this.layerParameters += data.length;
      this.bytes += e.end - e.begin;
      this.onProgress?.({ tensors: this.taken.size, tensorsTotal: this.byName.size, bytes: this.bytes, bytesTotal: this.bytesTotal });
    }
    return data;
  }
}

function manifest(spec: ArchSpec, id: string, tensors: CheckpointTensors, source: string): Record<string, unknown> {
  const sliding = spec.windows.some((w) => w !== null);
  return {
    contract: 3,
    id,
    architecture: spec.modelType,
    layers: spec.layers,
    heads: spec.heads,
    kvHeads: spec.kvHeads,
    headDim: spec.headDim,
    width: spec.width,
    vocabSize: spec.vocabSize,
    trainContext: spec.trainContext,
    maxContext: spec.maxPositions,
    parameters: tensors.parameters,
    layerParameters: tensors.layerParameters,
    topK: TOP_K,
    pooledSize: POOLED_SIZE,
    tokenizer: 'tokenizer.json',
    // Converted models keep their RoPE base at every length (factor 1): they were trained with a fixed base.
    rope: spec.rope === null ? null : { base: spec.rope[0].ropeBase, beyondTrainContext: { rule: 'fixed', factor: 1 } },
    posthocS: Math.round((1 / Math.log(spec.trainContext)) * 1e6) / 1e6,
    ...(spec.llama4Scaling ? { llama4Scaling: spec.llama4Scaling } : {}),
    ...(sliding || spec.rope?.some((r) => r.ropeBase !== spec.rope![0].ropeBase)
      ? { layerTypes: spec.windows.map((window, l) => (window === null ? { window: null } : { window, ropeBase: spec.rope?.[l].ropeBase ?? null })) }
      : {}),
    converter: { version: CONVERTER_VERSION, modelType: spec.modelType, source },
    variants: { softmax: { dir: 'softmax' } },
  };
}
