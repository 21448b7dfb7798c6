// Plain data shared by the engine, the extension, the CLI and the exports.
// Dense per-head arrays are flat, row-major, in the order given in each comment.

import type { Mode } from '../shared/vocabulary';

export interface ModelInfo {
  id: string;
  /** "attention-lens" for our checkpoints; "gpt2", "llama", "qwen2" for converted ones. */
  architecture: string;
  layers: number;
  heads: number;
  /** Key/value heads (grouped-query attention: fewer than heads). */
  kvHeads: number;
  width: number;
  headDim: number;
  parameters: number;
  trainContext: number;
  /** Hard position limit (learned position embeddings), else null. */
  maxContext: number | null;
  vocabSize: number;
  /** Keys returned per query by the graph (topIndex/topWeight). */
  topK: number;
  /** Side of the pooled attention map (bins), before trimming to the document. */
  pooledSize: number;
  /** Per layer, null (full attention) or a sliding layer's window (models.json "layerTypes"); absent when no layer slides. */
  windows?: (number | null)[];
}

export interface Token {
  text: string;
  /** UTF-16 offsets into the document (not into the inspected window). */
  start: number;
  end: number;
}

export interface HeadSummary {
  layer: number;
  head: number;
  meanFocus: number;
  meanEntropy: number;
  /** Mean over queries of the expected distance (query index - key index), in tokens. */
  meanDistance: number;
}

export interface QueryRows {
  /** Document offset that was asked for. */
  offset: number;
  /** Index of the token containing that offset. */
  token: number;
  /** [layer][head][key] flattened: L * H * T. */
  rows: Float32Array;
}

export interface PooledMaps {
  /** Tokens per bin along each axis. */
  binSize: number;
  /** Bins along each axis actually covering the inspected tokens: ceil(T / binSize). */
  bins: number;
  /** [layer][head][queryBin][keyBin] flattened: L * H * bins * bins; max weight in each cell. */
  data: Float32Array;
}

export interface Timings {
  tokenizeMs: number;
  inferenceMs: number;
  totalMs: number;
}

/** The model's attention over one window of one text in one mode. */
export interface Inspection {
  /** Unique per model runner: names this inspection in panel messages, so that stale ones are dropped. */
  id: number;
  /** The model as this mode runs it: a screening inspection has the screening variant's layers, tiles (heads) and sizes. */
  model: ModelInfo;
  mode: Mode;
  /** Document offsets of the inspected text. Smaller than the document when it is over the token limit. */
  range: { start: number; end: number };
  /** True when the document had more tokens than the limit and only a window was inspected. */
  windowed: boolean;
  /** When windowed: what limited it (the token limit, the model's positions or the memory budget), in words. */
  windowReason?: string;
  /** Tokens of the document in total (the window holds tokens.length of them). */
  documentTokens: number;
  /** True when documentTokens is an estimate: a document longer than the tokenizer's piece is tokenized only around the window. */
  documentTokensEstimated?: boolean;
  tokens: Token[];
  /** [layer][head][query]: max attention weight of each query token (screening: its largest relevance). */
  focus: Float32Array;
  /** [layer][head][query]: entropy of each attention row, nats. NaN in a screening inspection: a relevance row is no distribution. */
  entropy: Float32Array;
  /** [layer][head][query]: expected distance to the attended keys, tokens (screening: relevance-weighted, 0 where no key passes). */
  distance: Float32Array;
  /** [layer][head][query][k]: key token indices, best first; -1 where fewer than topK keys exist (screening: fewer than topK keys pass). */
  topIndex: Int32Array;
  /** [layer][head][query][k]: weights matching topIndex (screening: relevances, all > 0). */
  topWeight: Float32Array;
  pooled: PooledMaps;
  /** [token]: -log p(token | previous tokens), nats; 0 for the first token. */
  surprisal: Float32Array;
  /** [layer][head][query]: exact weight on token 0, the attention sink (1 for query 0; screening: the relevance of token 0). */
  sink: Float32Array;
  /** [layer][head][query][bucket]: exact mass of each row in the six DISTANCE_BUCKETS (reading/fading-metrics.ts); screening: relevance summed per bucket, unnormalised. */
  distanceMass: Float32Array;
  /** [layer][head][query]: exact support size (fewest keys holding 90 %) of the queries at multiples of pooled.binSize; 0 for the others (not measured); -1 everywhere in a screening inspection (undefined: see passCount). */
  support: Int32Array;
  /** Screening only, [layer][tile][query]: keys whose relevance is > 0 (alpha * m > 0). */
  passCount?: Float32Array;
  /** Screening only, [layer][tile][query]: sum of the row's relevance, unnormalised (0 when nothing passes). */
  totalRelevance?: Float32Array;
  /** Screening only, [layer][tile]: the window w each tile ran with (Infinity beyond the training length where w exceeds it) and its acceptance width r. */
  screening?: { window: Float32Array; acceptance: Float32Array };
  queries: QueryRows[];
  heads: HeadSummary[];
  timings: Timings;
  /** Tokens taken unchanged from the previous inspection of the edited document (an incremental run); 0 for a full run. */
  reusedTokens: number;
  /** The model worker's run that still holds this inspection's keys (for full rows later), if any. */
  runId?: number;
  /** The memory plan of the run, MB: what it may take above the process before it, term by term (memory-plan.ts). */
  memory?: InspectionMemory;
}

/** The memory plan of one inspection, MB (src/core/engine/memory-plan.ts counts it in bytes). */
export interface InspectionMemory {
  /** The sum of the terms: an upper bound of the run's extra peak. */
  plannedMB: number;
  /** Summaries the host receives and caches, its tokens, and the query rows. */
  result: number;
  /** What the worker keeps of the run: q, k and [v | k | position] per layer, a copy of the summaries. */
  kept: number;
  /** The run's own buffers: the residual stream, the attention output, ids and positions. */
  working: number;
  /** Inside one graph call: an attention block's logits and weights, the MLP's rows or the head's logits; and a session the run creates. */
  call: number;
  /** Graph outputs read and dropped, until the worker collects them. */
  garbage: number;
  /** The tokenizer's working memory and the tokens held tokenized. */
  tokenizer: number;
  /** Freed memory the C allocator keeps in pieces between the kept buffers: half the kept run's bytes (the bench saw up to a third, varying 10-20 % run to run). */
  allocator: number;
}
