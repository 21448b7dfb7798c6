// A model folder's graphs and dimensions as models.json names them (models/README.md, contract 3):
// what the manifest reads and the engine runs.

export interface ModelDims {
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  width: number;
  vocabSize: number;
  topK: number;
  pooledSize: number;
  /** Parameters of one layer, the weights its qkv and out graphs apply per token (progress weights, memory plan, bench FLOPs). */
  layerParameters: number;
  /** Per layer, null (full attention) or the window w of a sliding layer (query i sees keys i - w + 1 .. i); absent: every layer full. */
  windows?: (number | null)[];
  /** "screening": a screening variant's tiles (Multiscreen; kvHeads = heads, headDim = d_K); absent: softmax attention. */
  attention?: 'screening';
  /** d_V of a screening variant: v, the output h and the gate g per tile. */
  valueDim?: number;
}

/** d_V: a screening variant's value size, else the head size. */
export function valueDimOf(dims: Pick<ModelDims, 'headDim' | 'valueDim'>): number {
  return dims.valueDim ?? dims.headDim;
}

/** Layer l's window, null for full attention. */
export function windowOf(dims: Pick<ModelDims, 'windows'>, layer: number): number | null {
  return dims.windows?.[layer] ?? null;
}

export interface GraphSet {
  embed: string;
  qkv: string[];
  out: string[];
  head: string;
  /** Any block, its keys masked as one (the first blocks). */
  attention: string;
  /** A block after at least topK (and one bin of) keys: the visible past apart from the masked diagonal. */
  attentionSplit: string;
  rows: string;
  /** Sliding layers' forms of attention and rows, with the first key each query sees (only when a layer slides). */
  attentionWindow?: string;
  windowRows?: string;
}

/** A screening variant's graphs (models/README.md, "Screening variants"): its own row-wise pieces and the folder's weights-free screening graphs. */
export interface ScreeningGraphSet {
  embed: string;
  /** layer<l>.proj.onnx: x, positions, window -> q, k (unit, MiPE-rotated), v (unit), g. */
  proj: string[];
  /** layer<l>.out.onnx: x, h, g -> x_out. */
  out: string[];
  head: string;
  /** screening.onnx: a block of queries of every tile against the keys it can see, reduced to relevance summaries. */
  screening: string;
  /** screening-rows.onnx: full relevance rows of chosen queries. */
  rows: string;
}

export type VariantGraphs = GraphSet | ScreeningGraphSet;

export function isScreening(graphs: VariantGraphs): graphs is ScreeningGraphSet {
  return 'proj' in graphs;
}

/** What a screening run feeds its tiles, [layer][tile] row-major: window w (Infinity: the whole causal past) and acceptance width r. */
export interface ScreeningParams {
  window: Float32Array;
  acceptance: Float32Array;
}

/** An attention variant's graphs; a screening variant's are refused (for code that profiles the attention graphs). */
export function attentionGraphs(graphs: VariantGraphs): GraphSet {
  if (isScreening(graphs)) throw new Error('a screening variant has no attention graphs');
  return graphs;
}
