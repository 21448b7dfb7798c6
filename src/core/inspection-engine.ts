// Document text + mode -> Inspection: tokenize, pick the window, run the graph, shape its outputs.
// Results are cached; a request whose signal aborts is abandoned (and skipped if not yet started).
import * as crypto from 'node:crypto';
import { headSummaries, trimPooled } from './analysis';
import type { Inspection, Mode, ModelInfo, QueryRows, Token } from './inspection-types';
import { isMode } from './inspection-types';
import type { ModelManifest } from './model-manifest';
import { modesOf, planMode, readManifest } from './model-manifest';
import type { Feed, Output } from './model-session';
import { SessionPool, abortError } from './model-session';
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

export interface EngineOptions {
  /** onnxruntime threads per run; default: its own choice. */
  threads?: number;
  /** Inspections kept in the cache (each is O(L * H * T * topK)). */
  cacheSize?: number;
}

interface CacheEntry {
  base: string;
  /** Document, model and limit: entries sharing it may share a window whatever their mode and queries. */
  windowKey: string;
  inspection: Inspection;
  /** Window, in document token indices: [first, end). */
  first: number;
  end: number;
  documentTokens: number;
}

interface InFlight {
  promise: Promise<CacheEntry>;
  waiters: number;
}

const MAX_TOKENS_PER_TRAIN_CONTEXT = 8;

export class InspectionEngine {
  readonly model: ModelInfo;
  readonly modes: readonly Mode[];
  private readonly pool: SessionPool;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly encodings = new Map<string, { text: string; enc: Encoding }>();
  private readonly cacheSize: number;

  private constructor(
    private readonly manifest: ModelManifest,
    private readonly tokenizer: Tokenizer,
    private readonly log: (line: string) => void,
    options: EngineOptions,
  ) {
    this.model = manifest.info;
    this.modes = modesOf(manifest);
    this.pool = new SessionPool({ threads: options.threads }, log);
    this.cacheSize = Math.max(1, options.cacheSize ?? 8);
  }

  static async open(modelDir: string, log: (line: string) => void = () => undefined, options: EngineOptions = {}): Promise<InspectionEngine> {
    const manifest = readManifest(modelDir);
    const tokenizer = Tokenizer.fromFile(manifest.tokenizerPath);
    if (tokenizer.vocabSize > manifest.info.vocabSize) {
      throw new Error(
        `model folder ${manifest.dir}: tokenizer has ${tokenizer.vocabSize} tokens but models.json says vocabSize ${manifest.info.vocabSize}`,
      );
    }
    log(`inspection engine: model ${manifest.info.id} (${manifest.info.layers} layers x ${manifest.info.heads} heads), modes ${modesOf(manifest).join(', ')}`);
    return new InspectionEngine(manifest, tokenizer, log, options);
  }

  get defaultMaxTokens(): number {
    return MAX_TOKENS_PER_TRAIN_CONTEXT * this.model.trainContext;
  }

  /** Synchronous cache lookup (hovers): an inspection of this text and mode whose range holds the focus. */
  cached(req: InspectRequest): Inspection | undefined {
    const base = this.baseKey(req, this.docKey(req));
    const focus = req.focusOffset ?? req.queryOffsets?.[0] ?? 0;
    for (const [key, entry] of this.cache) {
      if (entry.base !== base) continue;
      const r = entry.inspection.range;
      if (!entry.inspection.windowed || (focus >= r.start && focus <= r.end)) {
        this.touch(key, entry);
        return entry.inspection;
      }
    }
    return undefined;
  }

  async inspect(req: InspectRequest, signal?: AbortSignal): Promise<Inspection> {
    const t0 = performance.now();
    if (signal?.aborted) throw abortError();
    const maxTokens = this.validate(req);
    const docKey = this.docKey(req);
    const base = this.baseKey(req, docKey);
    const tokenizeStart = performance.now();
    const enc = await this.encode(docKey, req.text);
    const tokenizeMs = performance.now() - tokenizeStart;
    if (signal?.aborted) throw abortError(); // aborted while the tokenizer ran
    const focus = req.focusOffset ?? req.queryOffsets?.[0] ?? 0;
    const windowKey = JSON.stringify([docKey, this.model.id, maxTokens]);
    const [first, end] = this.chooseWindow(windowKey, enc, tokenIndex(enc, focus), maxTokens);
    const key = `${base}|${first}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.touch(key, hit);
      return hit.inspection;
    }
    let flight = this.inFlight.get(key);
    if (!flight) {
      const state = { waiters: 0 };
      const promise = this.run(req, enc, first, end, base, windowKey, tokenizeMs, t0, () => state.waiters > 0).finally(() => this.inFlight.delete(key));
      flight = Object.assign(state, { promise });
      this.inFlight.set(key, flight);
    }
    const entry = await this.wait(flight, signal);
    this.touch(key, entry);
    return entry.inspection;
  }

  async dispose(): Promise<void> {
    this.cache.clear();
    this.encodings.clear();
    await this.pool.dispose();
  }

  private wait(flight: InFlight, signal?: AbortSignal): Promise<CacheEntry> {
    flight.waiters++;
    return new Promise<CacheEntry>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        if (settled) return;
        settled = true;
        flight.waiters--;
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (entry) => {
          signal?.removeEventListener('abort', onAbort);
          if (settled) return;
          settled = true;
          flight.waiters--;
          resolve(entry);
        },
        (err: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          if (settled) return;
          settled = true;
          flight.waiters--;
          reject(err);
        },
      );
    });
  }

  private validate(req: InspectRequest): number {
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

  private docKey(req: InspectRequest): string {
    return req.cacheKey ?? `sha1:${crypto.createHash('sha1').update(req.text, 'utf16le').digest('base64')}`;
  }

  private baseKey(req: InspectRequest, docKey: string): string {
    const maxTokens = req.maxTokens ?? this.defaultMaxTokens;
    return JSON.stringify([docKey, req.mode, this.model.id, maxTokens, req.queryOffsets ?? []]);
  }

  private async encode(docKey: string, text: string): Promise<Encoding> {
    const hit = this.encodings.get(docKey);
    if (hit && hit.text === text) return hit.enc;
    const enc = await this.tokenizer.encode(text);
    if (this.encodings.size >= 4) this.encodings.delete(this.encodings.keys().next().value as string);
    this.encodings.set(docKey, { text, enc });
    return enc;
  }

  /**
   * The whole document when it fits; else maxTokens tokens centred on the focus token. A cached
   * window (of any mode or query set) is reused while the focus stays in its middle half (or near
   * the document edge it touches): switching modes keeps the same tokens in view, and moving the
   * cursor does not move the window at every step.
   */
  private chooseWindow(windowKey: string, enc: Encoding, focusToken: number, maxTokens: number): [number, number] {
    const n = enc.ids.length;
    if (n <= maxTokens) return [0, n];
    const margin = Math.floor(maxTokens / 4);
    for (const entry of this.cache.values()) {
      if (entry.windowKey !== windowKey || entry.documentTokens !== n) continue;
      const lo = entry.first === 0 ? 0 : entry.first + margin;
      const hi = entry.end === n ? n : entry.end - margin;
      if (focusToken >= lo && focusToken < hi) return [entry.first, entry.end];
    }
    const first = Math.min(Math.max(focusToken - Math.floor(maxTokens / 2), 0), n - maxTokens);
    return [first, first + maxTokens];
  }

  private async run(
    req: InspectRequest,
    enc: Encoding,
    first: number,
    end: number,
    base: string,
    windowKey: string,
    tokenizeMs: number,
    t0: number,
    stillWanted: () => boolean,
  ): Promise<CacheEntry> {
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
    const entry: CacheEntry = { base, windowKey, inspection, first, end, documentTokens: n };
    this.touch(`${base}|${first}`, entry);
    this.log(
      `inspection: ${req.mode}, ${T} of ${n} tokens, tokenize ${tokenizeMs.toFixed(1)} ms, model ${inferenceMs.toFixed(1)} ms, total ${inspection.timings.totalMs.toFixed(1)} ms`,
    );
    return entry;
  }

  /** Inserts or refreshes a cache entry as most recently used, evicting the oldest. */
  private touch(key: string, entry: CacheEntry): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }
}

/** Document token holding the offset (the end of the text maps to the last token). */
function tokenIndex(enc: Encoding, offset: number): number {
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
