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
