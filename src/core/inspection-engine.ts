// Document text + mode -> Inspection: tokenize, pick the window, run the graph, shape its outputs.
// Results are cached; a request whose signal aborts is abandoned (and skipped if not yet started).
import * as crypto from 'node:crypto';
import { headSummaries } from './analysis';
import type { Inspection, Mode, ModelInfo, QueryRows, Token } from './inspection-types';
import { isMode } from './inspection-types';
import type { RunSpec } from './layered-run';
import { BLOCK_FLOATS, LINEAR_ROWS, defaultBudgetBytes, estimatePeakBytes, tokensWithin } from './memory-plan';
import type { ModelManifest } from './model-manifest';
import { modesOf, planMode, readManifest } from './model-manifest';
import { ModelWorker, abortError } from './model-session';
import { Tokenizer } from './tokenizer';
import type { Encoding } from './tokenizer';

export interface InspectRequest {
  text: string;
  mode: Mode;
  /** Document offset the window is centred on when the document is over maxTokens; default: the first query, else 0. */
  focusOffset?: number;
  /** Document offsets whose full attention rows are wanted. */
  queryOffsets?: number[];
  /** Token limit; default: see defaultMaxTokens. The memory budget may lower it. */
  maxTokens?: number;
  /** Keep the run's keys in the model worker so that rows() can answer later (foreground runs); default true. */
  keepKeys?: boolean;
  /** Identifies the text (e.g. uri + version); default: a hash of the text. */
  cacheKey?: string;
}

export interface EngineOptions {
  /** onnxruntime threads per run; default: its own choice. */
  threads?: number;
  /** Inspections kept in the cache (each is O(L * H * T * topK)). */
  cacheSize?: number;
  /** Extra memory one inspection may take, bytes; default: half the free memory, at most 4 GB. */
  memoryBudgetBytes?: number;
}

/** Fraction done, 0..1, of a run; called during the run. */
export type ProgressListener = (done: number) => void;

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
  /** Aborts the run when the last waiter leaves. */
  controller: AbortController;
}

/** Whole documents up to 16 x the training context, and never fewer than 32,768 tokens. */
const MAX_TOKENS_PER_TRAIN_CONTEXT = 16;
const MIN_DEFAULT_MAX_TOKENS = 32_768;
const MB = 1024 * 1024;

interface RunContext {
  req: InspectRequest;
  enc: Encoding;
  /** Window, in document token indices: [first, end). */
  first: number;
  end: number;
  base: string;
  windowKey: string;
  tokenizeMs: number;
  t0: number;
  /** Why a window rather than the whole document, should it be one. */
  limitReason: string;
}

export class InspectionEngine {
  readonly model: ModelInfo;
  readonly modes: readonly Mode[];
  readonly memoryBudgetBytes: number;
  private readonly worker: ModelWorker;
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
    this.worker = new ModelWorker({ threads: options.threads }, log);
    this.cacheSize = Math.max(1, options.cacheSize ?? 8);
    this.memoryBudgetBytes = options.memoryBudgetBytes ?? defaultBudgetBytes();
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
    const wanted = Math.max(MAX_TOKENS_PER_TRAIN_CONTEXT * this.model.trainContext, MIN_DEFAULT_MAX_TOKENS);
    return this.model.maxContext === null ? wanted : Math.min(wanted, this.model.maxContext);
  }

  /** Upper bound of the extra memory an inspection of T tokens takes, bytes. */
  estimatePeakBytes(T: number): number {
    return estimatePeakBytes(this.manifest.dims, T);
  }

  /** Tokens inspected at most, and why: the requested limit, the model's position limit or the memory budget. */
  private tokenLimit(maxTokens: number): { tokens: number; reason: string } {
    let tokens = maxTokens;
    let reason = `the token limit (${maxTokens.toLocaleString('en-US')})`;
    if (this.model.maxContext !== null && this.model.maxContext < tokens) {
      tokens = this.model.maxContext;
      reason = `the model's position limit (${tokens.toLocaleString('en-US')} tokens)`;
    }
    const fit = tokensWithin(this.manifest.dims, tokens, this.memoryBudgetBytes);
    if (fit < tokens) {
      tokens = fit;
      reason = `the memory budget (${Math.round(this.memoryBudgetBytes / MB).toLocaleString('en-US')} MB fits ${fit.toLocaleString('en-US')} tokens)`;
    }
    return { tokens, reason };
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

  async inspect(req: InspectRequest, signal?: AbortSignal, onProgress?: ProgressListener): Promise<Inspection> {
    const t0 = performance.now();
    if (signal?.aborted) throw abortError();
    const maxTokens = this.validate(req);
    const limit = this.tokenLimit(maxTokens);
    const docKey = this.docKey(req);
    const base = this.baseKey(req, docKey);
    const tokenizeStart = performance.now();
    const enc = this.encode(docKey, req.text);
    const tokenizeMs = performance.now() - tokenizeStart;
    const focus = req.focusOffset ?? req.queryOffsets?.[0] ?? 0;
    const windowKey = JSON.stringify([docKey, this.model.id, maxTokens]);
    const [first, end] = this.chooseWindow(windowKey, enc, tokenIndex(enc, focus), limit.tokens);
    const key = `${base}|${first}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.touch(key, hit);
      return hit.inspection;
    }
    let flight = this.inFlight.get(key);
    if (!flight) {
      const controller = new AbortController();
      const context: RunContext = { req, enc, first, end, base, windowKey, tokenizeMs, t0, limitReason: limit.reason };
      const promise = this.run(context, controller.signal, onProgress).finally(() => this.inFlight.delete(key));
      flight = { promise, waiters: 0, controller };
      this.inFlight.set(key, flight);
    }
    const entry = await this.wait(flight, signal);
    this.touch(key, entry);
    return entry.inspection;
  }

  async dispose(): Promise<void> {
    this.cache.clear();
    this.encodings.clear();
    await this.worker.dispose();
  }

  /**
   * Full attention rows ([layer][head][key]) of the tokens at these document offsets, from the
   * keys the model worker kept for this inspection; undefined when it no longer holds them (a later
   * foreground run replaced them), in which case inspect() with queryOffsets computes them.
   */
  async rows(inspection: Inspection, offsets: number[], signal?: AbortSignal): Promise<QueryRows[] | undefined> {
    if (inspection.runId === undefined) return undefined;
    const queries = offsets.map((offset) => ({ offset, token: tokenIndexIn(inspection.tokens, offset) }));
    if (queries.some((q) => q.token < 0)) throw new Error('query offset is outside the inspected range');
    const plan = planMode(this.manifest, inspection.mode, inspection.tokens.length);
    const rows = await this.worker.rows(inspection.runId, { graphs: plan.graphs, dims: this.manifest.dims }, queries.map((q) => q.token), signal);
    return rows ? splitRows(rows, queries, this.model.layers * this.model.heads, inspection.tokens.length) : undefined;
  }

  private wait(flight: InFlight, signal?: AbortSignal): Promise<CacheEntry> {
    flight.waiters++;
    return new Promise<CacheEntry>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        if (settled) return;
        settled = true;
        flight.waiters--;
        if (flight.waiters === 0) flight.controller.abort();
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

  private encode(docKey: string, text: string): Encoding {
    const hit = this.encodings.get(docKey);
    if (hit && hit.text === text) return hit.enc;
    const enc = this.tokenizer.encode(text);
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

  private async run(ctx: RunContext, signal: AbortSignal, onProgress: ProgressListener | undefined): Promise<CacheEntry> {
    const { req, enc, first, end } = ctx;
    const T = end - first;
    const queries = (req.queryOffsets ?? []).map((offset) => {
      const doc = tokenIndex(enc, offset);
      if (doc < first || doc >= end) {
        throw new Error(`query offset ${offset} is outside the inspected window (offsets ${enc.starts[first]}..${enc.ends[end - 1]})`);
      }
      return { offset, token: doc - first };
    });
    const plan = planMode(this.manifest, req.mode, T);
    const spec: RunSpec = {
      graphs: plan.graphs,
      dims: this.manifest.dims,
      ids: enc.ids.slice(first, end),
      s: plan.s,
      ropeScale: plan.ropeScale,
      blockFloats: BLOCK_FLOATS,
      linearRows: LINEAR_ROWS,
    };
    const runStart = performance.now();
    const keepKeys = req.keepKeys ?? true;
    const { runId, outputs } = await this.worker.inspect(spec, { retain: keepKeys || queries.length > 0, onProgress, signal });
    const rows = queries.length > 0 ? await this.worker.rows(runId, spec, queries.map((q) => q.token), signal) : null;
    const inferenceMs = performance.now() - runStart;

    const LH = this.model.layers * this.model.heads;
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
      windowReason: T < n ? ctx.limitReason : undefined,
      documentTokens: n,
      tokens,
      focus: outputs.focus,
      entropy: outputs.entropy,
      distance: outputs.distance,
      topIndex: outputs.topIndex,
      topWeight: outputs.topWeight,
      pooled: { binSize: outputs.binSize, bins: outputs.bins, data: outputs.pooled },
      surprisal: outputs.surprisal,
      queries: rows ? splitRows(rows, queries, LH, T) : [],
      heads: headSummaries(this.model, T, outputs.focus, outputs.entropy, outputs.distance),
      timings: { tokenizeMs: ctx.tokenizeMs, inferenceMs, totalMs: performance.now() - ctx.t0 },
      runId: keepKeys ? runId : undefined,
    };
    const entry: CacheEntry = { base: ctx.base, windowKey: ctx.windowKey, inspection, first, end, documentTokens: n };
    this.touch(`${ctx.base}|${first}`, entry);
    this.log(
      `inspection: ${req.mode}, ${T} of ${n} tokens, tokenize ${ctx.tokenizeMs.toFixed(1)} ms, model ${inferenceMs.toFixed(1)} ms, total ${inspection.timings.totalMs.toFixed(1)} ms`,
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

/** [layer][head][query][key] rows from the worker -> one QueryRows per query ([layer][head][key]). */
function splitRows(rows: Float32Array, queries: { offset: number; token: number }[], LH: number, T: number): QueryRows[] {
  const Q = queries.length;
  return queries.map((q, qi) => {
    const r = new Float32Array(LH * T);
    for (let h = 0; h < LH; h++) r.set(rows.subarray((h * Q + qi) * T, (h * Q + qi + 1) * T), h * T);
    return { offset: q.offset, token: q.token, rows: r };
  });
}

/** Index of the inspected token holding a document offset (the end maps to the last token); -1 outside. */
function tokenIndexIn(tokens: Token[], offset: number): number {
  const n = tokens.length;
  if (n === 0 || offset < tokens[0].start || offset > tokens[n - 1].end) return -1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (tokens[mid].start <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
