// Reads and validates a model folder's models.json (models/README.md, "I/O contract") and maps
// each mode onto a graph file and the ssmax_s values it is fed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mode } from '../../shared/vocabulary';
import type { ModelInfo } from '../inspection-types';
import type { GraphSet, ModelDims, ScreeningGraphSet, ScreeningParams, VariantGraphs } from './graphs';
import type { QueryScaling } from './length-rules';

export interface ModelManifest {
  dir: string;
  info: ModelInfo;
  tokenizerPath: string;
  softmax: GraphSet;
  /** Absent when the folder has no SSMax-trained variant. */
  ssmax?: { graphs: GraphSet; s: Float32Array };
  /** ministral3-scaling's beta and L: models.json "llama4Scaling" (the key converters write, after the configs' llama_4_scaling_beta), else 0.1 and trainContext. */
  ministral3: { beta: number; length: number };
  /** s of every head in ssmax-posthoc: 1 / ln(trainContext) unless models.json says otherwise. */
  posthocS: number;
  /**
   * The RoPE rule beyond trainContext tokens: a window of T tokens multiplies the base by the factor
   * of the first band with T <= upTo (the last band's upTo is Infinity); null when the model has no
   * RoPE input. A "fixed" rule is one open band.
   */
  ropeBands: RopeBand[] | null;
  dims: ModelDims;
  /** Absent when the folder has no screening variant (models/README.md, "Screening variants"). */
  screening?: ScreeningVariant;
}

/** A screening variant: its graphs, its own dimensions and model facts, and its learned w and r per tile ([layer][tile]). */
export interface ScreeningVariant {
  graphs: ScreeningGraphSet;
  dims: ModelDims;
  info: ModelInfo;
  learned: ScreeningParams;
}

export interface RopeBand {
  upTo: number;
  factor: number;
}

/** What one mode runs over T tokens: the graphs and the variant's dims, ssmax_s [L, H] row-major, and the RoPE scale. */
export interface ModePlan {
  graphs: VariantGraphs;
  /** The variant's dims: everything that sizes a buffer takes these, never the model's. */
  dims: ModelDims;
  /** The model facts of the variant (a screening variant's layers, tiles and sizes). */
  info: ModelInfo;
  /** A screening variant's w (Infinity beyond the training length for tiles whose w exceeds it) and r. */
  screening?: ScreeningParams;
  s: Float32Array;
  ropeScale: number | null;
  /** The post-hoc length rule the engine applies to q (ministral3-scaling, logn-scaling). */
  queryScaling?: QueryScaling;
}

type Json = Record<string, unknown>;

function fail(dir: string, what: string): never {
  throw new Error(`model folder ${dir}: ${what}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(dir: string, json: Json, key: string, name = key): number {
  const v = json[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(dir, `models.json "${name}" must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** A file named by models.json: must stay inside the folder and exist. */
function fileIn(dir: string, name: unknown, key: string): string {
  if (typeof name !== 'string' || name.length === 0) fail(dir, `models.json "${key}" must be a file name`);
  const full = path.resolve(dir, name);
  if (path.relative(dir, full).startsWith('..') || path.isAbsolute(path.relative(dir, full))) {
    fail(dir, `models.json "${key}" (${name}) points outside the folder`);
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(full);
  } catch {
    fail(dir, `${name} (models.json "${key}") is missing`);
  }
  if (!stat.isFile() || stat.size === 0) fail(dir, `${name} (models.json "${key}") is empty or not a file`);
  return full;
}

function positiveNumber(dir: string, value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(dir, `models.json "${key}" must be a positive number, got ${JSON.stringify(value)}`);
  return value;
}

/** A variant's folder of layered graphs (models/README.md): every file must be there; the window graphs only when a layer slides. */
function graphSet(dir: string, variant: Json, name: string, layers: number, sliding: boolean): GraphSet {
  const sub = variant.dir;
  if (typeof sub !== 'string' || sub.length === 0) fail(dir, `models.json "variants.${name}.dir" must be a folder name`);
  const file = (f: string): string => fileIn(dir, `${sub}/${f}`, `variants.${name}.dir`);
  return {
    embed: file('embed.onnx'),
    qkv: Array.from({ length: layers }, (_, l) => file(`layer${l}.qkv.onnx`)),
    out: Array.from({ length: layers }, (_, l) => file(`layer${l}.out.onnx`)),
    head: file('head.onnx'),
    attention: fileIn(dir, 'attention.onnx', 'attention graph'),
    attentionSplit: fileIn(dir, 'attention-split.onnx', 'attention graph'),
    rows: fileIn(dir, 'attention-rows.onnx', 'attention rows graph'),
    ...(sliding ? { attentionWindow: fileIn(dir, 'attention-window.onnx', 'layerTypes'), windowRows: fileIn(dir, 'attention-window-rows.onnx', 'layerTypes') } : {}),
  };
}

/**
 * models.json "layerTypes": one entry per layer, { "window": null } (full attention) or
 * { "window": w, "ropeBase": b } (a sliding layer; ropeBase is informational: the layer's qkv graph
 * applies its own base). Absent: every layer full. Returns the windows, or null when none slides.
 */
function readLayerTypes(dir: string, value: unknown, layers: number): (number | null)[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length !== layers) fail(dir, `models.json "layerTypes" must list one entry per layer (${layers})`);
  const windows = value.map((entry: unknown, l): number | null => {
    if (!isObject(entry) || !('window' in entry)) fail(dir, `models.json layerTypes[${l}] must be { "window": null } or { "window": w, "ropeBase": b }`);
    const w = entry.window;
    if (w === null) return null;
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 1) fail(dir, `models.json layerTypes[${l}].window must be null or an integer >= 1, got ${JSON.stringify(w)}`);
    if (entry.ropeBase !== undefined) positiveNumber(dir, entry.ropeBase, `layerTypes[${l}].ropeBase`);
    return w;
  });
  return windows.some((w) => w !== null) ? windows : null;
}

function readS(dir: string, value: unknown, layers: number, heads: number): Float32Array {
  const shape = `${layers} x ${heads}`;
  if (!Array.isArray(value) || value.length !== layers) fail(dir, `models.json variants.ssmax.s must be ${shape} numbers`);
  const s = new Float32Array(layers * heads);
  value.forEach((row: unknown, l) => {
    if (!Array.isArray(row) || row.length !== heads) fail(dir, `models.json variants.ssmax.s must be ${shape} numbers`);
    row.forEach((v: unknown, h) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(dir, `models.json variants.ssmax.s[${l}][${h}] must be a number >= 0`);
      s[l * heads + h] = v;
    });
  });
  return s;
}

function readPosthocS(dir: string, value: unknown, trainContext: number): number {
  // 1 / ln(trainContext): the SSMax factor is exactly 1 at the training length.
  if (value === undefined) return 1 / Math.log(trainContext);
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(dir, `models.json "posthocS" must be a number > 0, got ${JSON.stringify(value)}`);
  return value;
}

/** beta defaults to 0.1 (Llama 4's shipped attn_scale, the rule's origin); L to the training context. */
function readMinistral3(dir: string, value: unknown, trainContext: number): { beta: number; length: number } {
  if (value === undefined || value === null) return { beta: 0.1, length: trainContext };
  if (!isObject(value)) fail(dir, 'models.json "llama4Scaling" must be { beta, length }');
  const length = value.length;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 1) fail(dir, `models.json "llama4Scaling.length" must be a positive integer, got ${JSON.stringify(length)}`);
  return { beta: positiveNumber(dir, value.beta, 'llama4Scaling.beta'), length };
}

/**
 * Weights one layer's graphs apply per token: models.json "layerParameters" (written by
 * training/graphs.py since it exists). Older folders lack it, and parameters alone cannot say
 * whether the embeddings are tied, so the fallback takes one vocabulary matrix off: exact for tied
 * embeddings (bar the final norm and a position table), too high by vocabSize x width / layers for
 * untied ones, the safe side for the memory plan. Never below q, k, v and o.
 */
function readLayerParameters(dir: string, json: Json, info: ModelInfo): number {
  if (json.layerParameters !== undefined) {
    const n = positiveInt(dir, json, 'layerParameters');
    if (n * info.layers > info.parameters) {
      fail(dir, `models.json "layerParameters" (${n}) x "layers" (${info.layers}) exceeds "parameters" (${info.parameters})`);
    }
    return n;
  }
  const projections = 2 * info.width * info.headDim * (info.heads + info.kvHeads);
  return Math.max(Math.round((info.parameters - info.vocabSize * info.width) / info.layers), projections);
}

/**
 * rope.beyondTrainContext (training/rope_rule.py writes it): { rule: "fixed", factor } or
 * { rule: "per-length", bands: [{ upTo, factor }, ..., { upTo: null, factor }] } with upTo ascending
 * and above trainContext.
 */
function readRopeRule(dir: string, rule: Json, trainContext: number): RopeBand[] {
  const where = 'rope.beyondTrainContext';
  if (rule.rule === 'fixed') return [{ upTo: Infinity, factor: positiveNumber(dir, rule.factor, `${where}.factor`) }];
  if (rule.rule !== 'per-length') fail(dir, `models.json ${where}.rule ${JSON.stringify(rule.rule)} is unknown (known: "fixed", "per-length")`);
  if (!Array.isArray(rule.bands) || rule.bands.length === 0) fail(dir, `models.json ${where}.bands must be a non-empty list`);
  let last = trainContext;
  return rule.bands.map((band: unknown, i: number): RopeBand => {
    if (!isObject(band)) fail(dir, `models.json ${where}.bands[${i}] must be { upTo, factor }`);
    const open = i === (rule.bands as unknown[]).length - 1;
    if (open !== (band.upTo === null)) fail(dir, `models.json ${where}.bands: only the last band is open (upTo null)`);
    const upTo = open ? Infinity : band.upTo;
    if (typeof upTo !== 'number' || !(upTo > last)) fail(dir, `models.json ${where}.bands[${i}].upTo must be above ${last}, got ${JSON.stringify(band.upTo)}`);
    last = upTo;
    return { upTo, factor: positiveNumber(dir, band.factor, `${where}.bands[${i}].factor`) };
  });
}

/** A [layer][tile] table of numbers, each accepted by `ok` (described by `what`). */
function readTable(dir: string, value: unknown, name: string, layers: number, heads: number, ok: (v: number) => boolean, what: string): Float32Array {
  const shape = `${layers} x ${heads}`;
  if (!Array.isArray(value) || value.length !== layers) fail(dir, `models.json "${name}" must be ${shape} numbers`);
  const out = new Float32Array(layers * heads);
  value.forEach((row: unknown, l) => {
    if (!Array.isArray(row) || row.length !== heads) fail(dir, `models.json "${name}" must be ${shape} numbers`);
    row.forEach((v: unknown, h) => {
      if (typeof v !== 'number' || !ok(v)) fail(dir, `models.json ${name}[${l}][${h}] must be ${what}, got ${JSON.stringify(v)}`);
      out[l * heads + h] = v;
    });
  });
  return out;
}

/**
 * variants.screening: { dir, attention: "screening", dims: { layers, heads, kvHeads, headDim (d_K),
 * valueDim (d_V), width, layerParameters, parameters?, trainContext? }, window, acceptance } with
 * window (w >= 1) and acceptance (0 < r <= 1) [layer][tile]; the folder's screening.onnx and
 * screening-rows.onnx. Its dims replace the model's wherever a buffer is sized.
 */
function readScreening(dir: string, variant: unknown, info: ModelInfo, base: ModelDims): ScreeningVariant {
  const where = 'variants.screening';
  if (!isObject(variant)) fail(dir, `models.json "${where}" must be an object`);
  if (variant.attention !== 'screening') fail(dir, `models.json "${where}.attention" must be "screening", got ${JSON.stringify(variant.attention)}`);
  const d = variant.dims;
  if (!isObject(d)) fail(dir, `models.json "${where}.dims" must be { layers, heads, kvHeads, headDim, valueDim, width, layerParameters }`);
  const dim = (key: string): number => positiveInt(dir, d, key, `${where}.dims.${key}`);
  const layers = dim('layers');
  const heads = dim('heads');
  if (dim('kvHeads') !== heads) fail(dir, `models.json "${where}.dims.kvHeads" must equal its heads (${heads}): every tile has its own keys`);
  const headDim = dim('headDim');
  if (headDim < 2) fail(dir, `models.json "${where}.dims.headDim" must be at least 2 (MiPE rotates two coordinates)`);
  const sub = variant.dir;
  if (typeof sub !== 'string' || sub.length === 0) fail(dir, `models.json "${where}.dir" must be a folder name`);
  const file = (f: string): string => fileIn(dir, `${sub}/${f}`, `${where}.dir`);
  const graphs: ScreeningGraphSet = {
    embed: file('embed.onnx'),
    proj: Array.from({ length: layers }, (_, l) => file(`layer${l}.proj.onnx`)),
    out: Array.from({ length: layers }, (_, l) => file(`layer${l}.out.onnx`)),
    head: file('head.onnx'),
    screening: fileIn(dir, 'screening.onnx', 'screening graph'),
    rows: fileIn(dir, 'screening-rows.onnx', 'screening rows graph'),
  };
  const width = dim('width');
  const layerParameters = dim('layerParameters');
  const parameters = d.parameters === undefined ? info.parameters : dim('parameters');
  const trainContext = d.trainContext === undefined ? info.trainContext : dim('trainContext');
  if (layerParameters * layers > parameters) fail(dir, `models.json "${where}.dims.layerParameters" (${layerParameters}) x layers (${layers}) exceeds its parameters (${parameters})`);
  const window = readTable(dir, variant.window, `${where}.window`, layers, heads, (v) => Number.isFinite(v) && v >= 1, 'a number >= 1');
  const acceptance = readTable(dir, variant.acceptance, `${where}.acceptance`, layers, heads, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
  const dims: ModelDims = { ...base, layers, heads, kvHeads: heads, headDim, width, layerParameters, attention: 'screening', valueDim: dim('valueDim') };
  delete dims.windows; // sliding layers belong to the attention variants
  const { windows: _sliding, ...rest } = info;
  return { graphs, dims, info: { ...rest, layers, heads, kvHeads: heads, headDim, width, parameters, trainContext }, learned: { window, acceptance } };
}

export function readManifest(modelDir: string): ModelManifest {
  const dir = path.resolve(modelDir);
  const manifestPath = path.join(dir, 'models.json');
  let text: string;
  try {
    text = fs.readFileSync(manifestPath, 'utf8');
  } catch {
    fail(dir, 'models.json is missing or unreadable');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(dir, `models.json is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(json)) fail(dir, 'models.json must hold an object');
  if (typeof json.id !== 'string' || json.id.length === 0) fail(dir, 'models.json "id" must be a non-empty string');
  if (json.contract !== 3) {
    fail(dir, `models.json "contract" is ${JSON.stringify(json.contract)}; this version reads contract 3 (models/README.md). Export or convert the model again.`);
  }
  const layers = positiveInt(dir, json, 'layers');
  const heads = positiveInt(dir, json, 'heads');
  const kvHeads = positiveInt(dir, json, 'kvHeads');
  if (heads % kvHeads !== 0) fail(dir, `models.json "heads" (${heads}) must be a multiple of "kvHeads" (${kvHeads})`);
  const maxContext = json.maxContext === null || json.maxContext === undefined ? null : positiveInt(dir, json, 'maxContext');
  const windows = readLayerTypes(dir, json.layerTypes, layers);
  const info: ModelInfo = {
    id: json.id,
    architecture: typeof json.architecture === 'string' ? json.architecture : 'unknown',
    layers,
    heads,
    kvHeads,
    width: positiveInt(dir, json, 'width'),
    headDim: positiveInt(dir, json, 'headDim'),
    parameters: positiveInt(dir, json, 'parameters'),
    trainContext: positiveInt(dir, json, 'trainContext'),
    maxContext,
    vocabSize: positiveInt(dir, json, 'vocabSize'),
    topK: positiveInt(dir, json, 'topK'),
    pooledSize: positiveInt(dir, json, 'pooledSize'),
    ...(windows ? { windows } : {}),
  };
  if (info.trainContext < 2) fail(dir, 'models.json "trainContext" must be at least 2');
  let ropeBands: RopeBand[] | null = null;
  if (json.rope !== null && json.rope !== undefined) {
    if (!isObject(json.rope) || !isObject(json.rope.beyondTrainContext)) fail(dir, 'models.json "rope" must be null or { base, beyondTrainContext: { rule, ... } }');
    ropeBands = readRopeRule(dir, json.rope.beyondTrainContext, info.trainContext);
  }
  const variants = json.variants;
  if (!isObject(variants) || !isObject(variants.softmax)) fail(dir, 'models.json "variants.softmax" is required');
  const manifest: ModelManifest = {
    dir,
    info,
    tokenizerPath: fileIn(dir, json.tokenizer, 'tokenizer'),
    softmax: graphSet(dir, variants.softmax, 'softmax', layers, windows !== null),
    ministral3: readMinistral3(dir, json.llama4Scaling, info.trainContext),
    posthocS: readPosthocS(dir, json.posthocS, info.trainContext),
    ropeBands,
    dims: {
      layers,
      heads,
      kvHeads,
      headDim: info.headDim,
      width: info.width,
      vocabSize: info.vocabSize,
      topK: info.topK,
      pooledSize: info.pooledSize,
      layerParameters: readLayerParameters(dir, json, info),
      ...(windows ? { windows } : {}),
    },
  };
  if (variants.ssmax !== undefined) {
    if (!isObject(variants.ssmax)) fail(dir, 'models.json "variants.ssmax" must be an object');
    manifest.ssmax = { graphs: graphSet(dir, variants.ssmax, 'ssmax', layers, windows !== null), s: readS(dir, variants.ssmax.s, layers, heads) };
  }
  if (variants.screening !== undefined) manifest.screening = readScreening(dir, variants.screening, info, manifest.dims);
  return manifest;
}

export function modesOf(manifest: ModelManifest): Mode[] {
  const posthoc: Mode[] = ['ssmax-posthoc', 'ministral3-scaling', 'logn-scaling'];
  return [...(manifest.ssmax ? ['softmax', 'ssmax'] as const : ['softmax'] as const), ...posthoc, ...(manifest.screening ? ['screening'] as const : [])];
}

/**
 * The windows a screening variant runs T tokens with: its learned w, except that beyond its
 * training length every tile whose w exceeds that length runs with w = Infinity (the paper's
 * inference rule, screening.py infinite_windows: softmask 1 over the whole causal past, MiPE off).
 * At and below the training length the learned windows reproduce training exactly. A rule of the
 * length, like the RoPE bands: an edit that keeps a window on one side keeps every key.
 */
export function screeningWindows(variant: ScreeningVariant, T: number): Float32Array {
  const context = variant.info.trainContext;
  const w = variant.learned.window;
  return T > context ? w.map((v) => (v > context ? Infinity : v)) : w.slice();
}

/** The RoPE base multiplier for T tokens: the training base up to trainContext, the rule's band beyond. */
export function ropeScaleFor(manifest: ModelManifest, T: number): number | null {
  if (manifest.ropeBands === null) return null;
  if (T <= manifest.info.trainContext) return 1;
  return manifest.ropeBands.find((band) => T <= band.upTo)!.factor;
}

/** The dims and model facts a mode runs with: a screening variant's own, else the model's. */
export function variantOf(manifest: ModelManifest, mode: Mode): { dims: ModelDims; info: ModelInfo } {
  return mode === 'screening' && manifest.screening ? manifest.screening : manifest;
}

export function planMode(manifest: ModelManifest, mode: Mode, T: number): ModePlan {
  const { layers, heads } = manifest.info;
  const ropeScale = ropeScaleFor(manifest, T);
  const model = { dims: manifest.dims, info: manifest.info };
  switch (mode) {
    case 'softmax':
      return { ...model, graphs: manifest.softmax, s: new Float32Array(layers * heads), ropeScale };
    case 'ssmax-posthoc':
      return { ...model, graphs: manifest.softmax, s: new Float32Array(layers * heads).fill(manifest.posthocS), ropeScale };
    case 'ministral3-scaling':
      return { ...model, graphs: manifest.softmax, s: new Float32Array(layers * heads), ropeScale, queryScaling: { rule: 'ministral3', ...manifest.ministral3 } };
    case 'logn-scaling':
      return { ...model, graphs: manifest.softmax, s: new Float32Array(layers * heads), ropeScale, queryScaling: { rule: 'logn', length: manifest.info.trainContext } };
    case 'ssmax':
      if (!manifest.ssmax) throw new Error(`model ${manifest.info.id} has no SSMax-trained variant; modes available: ${modesOf(manifest).join(', ')}`);
      return { ...model, graphs: manifest.ssmax.graphs, s: manifest.ssmax.s, ropeScale };
    case 'screening': {
      const v = manifest.screening;
      if (!v) throw new Error(`model ${manifest.info.id} has no screening variant; modes available: ${modesOf(manifest).join(', ')}`);
      // No RoPE and no SSMax: positions enter through MiPE and the softmask.
      const screening = { window: screeningWindows(v, T), acceptance: v.learned.acceptance };
      return { dims: v.dims, info: v.info, graphs: v.graphs, s: new Float32Array(v.dims.layers * v.dims.heads), ropeScale: null, screening };
    }
  }
}
