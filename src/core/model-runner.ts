// A model folder opened for use: its manifest, tokenizer and ONNX sessions. Validates requests,
// tokenizes, and runs one window of one text in one mode (`runWindow`). Caching, in-flight runs
// and window reuse belong to DocumentSession.
import { headSummaries, trimPooled } from './analysis';
import type { Mode } from '../shared/vocabulary';
import { isMode } from '../shared/vocabulary';
import type { Inspection, ModelInfo, QueryRows, Token } from './inspection-types';
import type { ModelManifest } from './model-manifest';
import { modesOf, planMode, readManifest } from './model-manifest';
import type { Feed, Output } from './model-session';
import { SessionPool } from './model-session';
import { Tokenizer } from './tokenizer';
import type { Encoding } from './tokenizer';

export interface InspectRequest {
  text: string;
  mode: Mode;
  /** Document offset the window is centred on when the document is over maxTokens; default: the first query, else 0. */
  focusOffset?: number;
  /** Document offsets whose full attention rows are wanted. */
  queryOffsets?: number[];
  /** Token limit; default 8 x the training context. */
  maxTokens?: number;
  /** Identifies the text (e.g. uri + version); default: a hash of the text. */
  cacheKey?: string;
}

export interface RunnerOptions {
  /** onnxruntime threads per run; default: its own choice. */
  threads?: number;
}

/** Window of a text, in document token indices: [first, end). */
export interface TokenWindow {
  first: number;
  end: number;
}

const MAX_TOKENS_PER_TRAIN_CONTEXT = 8;

export class ModelRunner {
  readonly model: ModelInfo;
  readonly modes: readonly Mode[];
  private readonly pool: SessionPool;
  private nextId = 1;

  private constructor(
    private readonly manifest: ModelManifest,
    private readonly tokenizer: Tokenizer,
    private readonly log: (line: string) => void,
    options: RunnerOptions,
  ) {
    this.model = manifest.info;
    this.modes = modesOf(manifest);
    this.pool = new SessionPool({ threads: options.threads }, log);
  }

  static async open(modelDir: string, log: (line: string) => void = () => undefined, options: RunnerOptions = {}): Promise<ModelRunner> {
    const manifest = readManifest(modelDir);
    const tokenizer = Tokenizer.fromFile(manifest.tokenizerPath);
    if (tokenizer.vocabSize > manifest.info.vocabSize) {
      throw new Error(
        `model folder ${manifest.dir}: tokenizer has ${tokenizer.vocabSize} tokens but models.json says vocabSize ${manifest.info.vocabSize}`,
      );
    }
    log(`model runner: model ${manifest.info.id} (${manifest.info.layers} layers x ${manifest.info.heads} heads), modes ${modesOf(manifest).join(', ')}`);
    return new ModelRunner(manifest, tokenizer, log, options);
  }

  get defaultMaxTokens(): number {
    return MAX_TOKENS_PER_TRAIN_CONTEXT * this.model.trainContext;
  }

  encode(text: string): Encoding {
    return this.tokenizer.encode(text);
  }

  async dispose(): Promise<void> {
    await this.pool.dispose();
  }

  /** Throws a clear error for a request the model cannot run; returns its token limit. */
  validate(req: InspectRequest): number {
    if (typeof req.text !== 'string' || req.text.length === 0) throw new Error('the document is empty: nothing to inspect');
    if (req.text.includes('\u0000')) throw new Error('the document looks binary (it holds NUL characters): not inspected');
    if (!isMode(req.mode)) throw new Error(`unknown mode ${JSON.stringify(req.mode)}; modes: ${this.modes.join(', ')}`);
    if (!this.modes.includes(req.mode)) throw new Error(`mode ${req.mode} is not available for model ${this.model.id}; modes: ${this.modes.join(', ')}`);
    const len = req.text.length;
    const checkOffset = (what: string, v: number): void => {
      if (!Number.isInteger(v) || v < 0 || v > len) throw new Error(`${what} ${v} is outside the document (0..${len})`);
    };
    if (req.focusOffset !== undefined) checkOffset('focus offset', req.focusOffset);
    for (const q of req.queryOffsets ?? []) checkOffset('query offset', q);
    const maxTokens = req.maxTokens ?? this.defaultMaxTokens;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new Error(`max tokens must be a positive integer, got ${maxTokens}`);
    return maxTokens;
  }

  /**
   * Runs the graph over one window of the text in the request's mode and shapes its outputs into
   * an Inspection. `stillWanted` is asked before the run starts: a request nobody waits for is skipped.
   */
  async runWindow(req: InspectRequest, enc: Encoding, window: TokenWindow, tokenizeMs: number, t0: number, stillWanted: () => boolean): Promise<Inspection> {
    const { first, end } = window;
    const { layers, heads, topK, pooledSize } = this.model;
    const T = end - first;
    const queries = (req.queryOffsets ?? []).map((offset) => {
      const doc = tokenIndex(enc, offset);
      if (doc < first || doc >= end) {
        throw new Error(`query offset ${offset} is outside the inspected window (offsets ${enc.starts[first]}..${enc.ends[end - 1]})`);
      }
      return { offset, token: doc - first };
    });
    const plan = planMode(this.manifest, req.mode);
    const ids = new BigInt64Array(T);
    for (let t = 0; t < T; t++) ids[t] = BigInt(enc.ids[first + t]);
    // The graph needs Q >= 1; with no query asked for, row 0 is computed and dropped.
    const queryIndex = queries.length > 0 ? BigInt64Array.from(queries, (q) => BigInt(q.token)) : BigInt64Array.of(0n);
    const feeds: Record<string, Feed> = {
      input_ids: { type: 'int64', data: ids, dims: [1, T] },
      query_index: { type: 'int64', data: queryIndex, dims: [queryIndex.length] },
      ssmax_s: { type: 'float32', data: plan.s, dims: [layers, heads] },
    };
    const runStart = performance.now();
    const out = await this.pool.run(plan.graphPath, feeds, stillWanted);
    const inferenceMs = performance.now() - runStart;

    const LH = layers * heads;
    const Q = queryIndex.length;
    const focus = expectF32(out, 'focus', [layers, heads, T]);
    const entropy = expectF32(out, 'entropy', [layers, heads, T]);
    const distance = expectF32(out, 'distance', [layers, heads, T]);
    const rawIndex = expect(out, 'topk_index', 'int64', [layers, heads, T, topK]).data as BigInt64Array;
    const rawWeight = expectF32(out, 'topk_weight', [layers, heads, T, topK]);
    const rows = expectF32(out, 'rows', [layers, heads, Q, T]);
    const pooled = expectF32(out, 'pooled', [layers, heads, pooledSize, pooledSize]);
    const surprisal = expectF32(out, 'surprisal', [T]);
    const { topIndex, topWeight } = cleanTopK(rawIndex, rawWeight, LH, T, topK);

    const queryRows: QueryRows[] = queries.map((q, qi) => {
      const r = new Float32Array(LH * T);
      for (let h = 0; h < LH; h++) r.set(rows.subarray((h * Q + qi) * T, (h * Q + qi + 1) * T), h * T);
      return { offset: q.offset, token: q.token, rows: r };
    });
    const tokens: Token[] = new Array<Token>(T);
    for (let t = 0; t < T; t++) {
      const start = enc.starts[first + t];
      const stop = enc.ends[first + t];
      tokens[t] = { text: req.text.slice(start, stop), start, end: stop };
    }
    const n = enc.ids.length;
    const inspection: Inspection = {
      id: this.nextId++,
      model: this.model,
      mode: req.mode,
      range: { start: enc.starts[first], end: enc.ends[end - 1] },
      windowed: T < n,
      documentTokens: n,
      tokens,
      focus,
      entropy,
      distance,
      topIndex,
      topWeight,
      pooled: trimPooled(pooled, LH, pooledSize, T),
      surprisal,
      queries: queryRows,
      heads: headSummaries(this.model, T, focus, entropy, distance),
      timings: { tokenizeMs, inferenceMs, totalMs: performance.now() - t0 },
    };
    this.log(
      `inspection: ${req.mode}, ${T} of ${n} tokens, tokenize ${tokenizeMs.toFixed(1)} ms, model ${inferenceMs.toFixed(1)} ms, total ${inspection.timings.totalMs.toFixed(1)} ms`,
    );
    return inspection;
  }
}

/** Document token holding the offset (the end of the text maps to the last token). */
export function tokenIndex(enc: Encoding, offset: number): number {
  const n = enc.ids.length;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (enc.starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function expect(out: Record<string, Output>, name: string, type: string, dims: number[]): Output {
  const t = out[name];
  if (!t) throw new Error(`model graph has no output "${name}" (models/README.md lists the outputs)`);
  const same = t.type === type && t.dims.length === dims.length && t.dims.every((d, i) => d === dims[i]);
  if (!same) {
    throw new Error(`model graph output "${name}" is ${t.type}[${t.dims.join(', ')}], expected ${type}[${dims.join(', ')}] (models/README.md)`);
  }
  return t;
}

function expectF32(out: Record<string, Output>, name: string, dims: number[]): Float32Array {
  return expect(out, name, 'float32', dims).data as Float32Array;
}

/** Keys the query cannot see (index > query) or padding become -1 with weight 0, moved after the real keys. */
function cleanTopK(rawIndex: BigInt64Array, rawWeight: Float32Array, LH: number, T: number, K: number): { topIndex: Int32Array; topWeight: Float32Array } {
  const topIndex = new Int32Array(LH * T * K).fill(-1);
  const topWeight = new Float32Array(LH * T * K);
  // Indices are small and non-negative: the low 32-bit word (little-endian) is the value, and
  // reading it avoids a BigInt conversion per entry.
  const words = new Int32Array(rawIndex.buffer, rawIndex.byteOffset, rawIndex.length * 2);
  for (let h = 0; h < LH; h++) {
    for (let i = 0; i < T; i++) {
      const base = (h * T + i) * K;
      let w = 0;
      for (let k = 0; k < K; k++) {
        const j = words[2 * (base + k)];
        if (words[2 * (base + k) + 1] !== 0 || j < 0 || j > i) continue;
        topIndex[base + w] = j;
        topWeight[base + w] = rawWeight[base + k];
        w++;
      }
    }
  }
  return { topIndex, topWeight };
}
