// A model folder opened for use: its manifest, tokenizer and model worker. `plan` decides one
// inspection before it runs, in one step: the request checked, how many tokens it may hold (token
// limit, the model's positions, the memory budget), its tokens, its window, the run's spec and its
// memory; `run` carries a finished plan out. Caching, in-flight runs and window reuse belong to
// DocumentSession, which hands `plan` its cached tokens and its window choice.
import { headSummaries, incrementalNote, tokenAt } from '../reading/analysis';
import type { HeadSelection, Mode } from '../../shared/vocabulary';
import { isMode } from '../../shared/vocabulary';
import type { Inspection, ModelInfo, QueryRows, Token } from '../inspection-types';
import type { MapRegion, RunSpec } from './layered-run';
import type { MemoryPlan } from './memory-plan';
import { BLOCK_FLOATS, LINEAR_ROWS, defaultBudgetBytes, keptBytes, planBefore, planInMB, planMemory, tokenizeChars, tokensWithin } from './memory-plan';
import type { DocumentTokens, EncodedRange } from './token-window';
import { encodeRange, tokensAround } from './token-window';
import type { ModelManifest } from '../model/manifest';
import { modesOf, planMode, readManifest, variantOf } from '../model/manifest';
import type { ModelDims } from '../model/graphs';
import { ModelWorker } from './worker';
import type { RegionMap } from './worker';
import type { NeedleCurve, TokenSpan } from '../reading/needle';
import { needleFromMass } from '../reading/needle';
import { bestKeys } from '../reading/span-mass';
import { Tokenizer, tokenIndex, windowStart } from '../model/tokenizer';
import type { Encoding } from '../model/tokenizer';

export interface InspectRequest {
  text: string;
  mode: Mode;
  /** Document offset the window is centred on when the document is over the limit; default: the first query, else 0. */
  centerOffset?: number;
  /** Document offsets whose full attention rows are wanted. */
  queryOffsets?: number[];
  /** Token limit; default: defaultMaxTokens. The memory budget may lower it. */
  maxTokens?: number;
  /** Identifies the text (e.g. uri + version); default: a hash of the text. */
  cacheKey?: string;
  /** Keep the run's keys in the model worker so that rows() can answer later (foreground runs); default true. */
  keepKeys?: boolean;
  /** Kept runs the worker may hold with this one (the shown mode's and its Compare partner's); default 1. */
  keptRuns?: number;
}

export interface RunnerOptions {
  /** onnxruntime threads per graph call; default: its own choice. */
  threads?: number;
  /** Extra memory one inspection may take, bytes; default: half the free memory, at most 4 GB. */
  memoryBudgetBytes?: number;
}

/** Window of a text, in document token indices: [first, end). */
export interface TokenWindow {
  first: number;
  end: number;
}

/** How many tokens one inspection may hold, and what set that number, in words. */
export interface TokenLimit {
  tokens: number;
  reason: string;
}

/** A kept run that a later run of the same mode and window start may resume from: a few numbers, not the inspection. */
export interface ResumePoint {
  runId: number;
  mode: Mode;
  modelId: string;
  /** Document offset of the window's first token. */
  start: number;
}

/** What `plan` asks of the document's session: its tokens (cached or new) and its window choice. */
export interface PlanContext {
  tokens(maxTokens: number, center: number): Promise<DocumentTokens>;
  window(enc: DocumentTokens, center: number, maxTokens: number): TokenWindow;
  /** The last kept run of this document in the request's mode, if any. */
  previous?: ResumePoint;
}

/** A session's cache of inspections, counted toward the process's memory: a run that needs the room drops the least recently used entries of every document's (document-session.ts). */
export interface InspectionCache {
  readonly cachedBytes: number;
  /** When its least recently used entry was last used (performance.now()); undefined when empty. */
  oldestUse(): number | undefined;
  /** Drops its least recently used entry; returns the bytes freed. */
  dropOldest(): number;
}

/** One inspection decided, before it runs: everything `run` needs. */
export interface InspectionPlan {
  req: InspectRequest;
  enc: DocumentTokens;
  window: TokenWindow;
  /** What limited the window, in words (when it is not the whole document). */
  limitReason: string;
  queries: { offset: number; token: number }[];
  spec: RunSpec;
  memory: MemoryPlan;
  /** The kept run it resumes from (the worker checks the tokens). */
  resume?: number;
  /** Kept runs the worker may hold with this one: a second only where the budget fits it beside this run. */
  keptRuns: number;
  tokenizeMs: number;
  t0: number;
}

/** Fraction done, 0..1, of a run; called during the run. */
export type ProgressListener = (done: number) => void;

/** Whole documents up to 16 x the training context, and never fewer than 32,768 tokens. */
const MAX_TOKENS_PER_TRAIN_CONTEXT = 16;
const MIN_DEFAULT_MAX_TOKENS = 32_768;
const MB = 1024 * 1024;

export class ModelRunner {
  readonly model: ModelInfo;
  readonly modes: readonly Mode[];
  readonly memoryBudgetBytes: number;
  private readonly worker: ModelWorker;
  private nextId = 1;
  private readonly caches = new Set<InspectionCache>();

  private constructor(
    private readonly manifest: ModelManifest,
    private readonly tokenizer: Tokenizer,
    private readonly log: (line: string) => void,
    options: RunnerOptions,
  ) {
    this.model = manifest.info;
    this.modes = modesOf(manifest);
    this.worker = new ModelWorker({ threads: options.threads }, log);
    this.memoryBudgetBytes = options.memoryBudgetBytes ?? defaultBudgetBytes();
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

  /** The model facts a mode runs with: a screening variant's own layers and tiles, else the model's. */
  modelOf(mode: Mode): ModelInfo {
    return variantOf(this.manifest, mode).info;
  }

  get defaultMaxTokens(): number {
    const wanted = Math.max(MAX_TOKENS_PER_TRAIN_CONTEXT * this.model.trainContext, MIN_DEFAULT_MAX_TOKENS);
    return this.model.maxContext === null ? wanted : Math.min(wanted, this.model.maxContext);
  }

  /** Characters the tokenizer is given at once: the memory plan's share of the budget. */
  get tokenizeChars(): number {
    return tokenizeChars(this.memoryBudgetBytes);
  }

  /** The dims a mode's runs size their buffers by; without a mode, every variant's (the plans take the largest). */
  private dimsFor(mode?: Mode): ModelDims[] {
    if (mode !== undefined) return [variantOf(this.manifest, mode).dims];
    return this.manifest.screening ? [this.manifest.dims, this.manifest.screening.dims] : [this.manifest.dims];
  }

  /** The memory plan of a window of T tokens of a text of `chars` characters, before it is tokenized (the largest over the variants without a mode). */
  planFor(T: number, chars: number, keep = true, mode?: Mode): MemoryPlan {
    const plans = this.dimsFor(mode).map((dims) => planBefore(dims, T, Math.min(chars, this.tokenizeChars), keep, keep ? 1 : 0));
    return plans.reduce((a, b) => (b.peakBytes > a.peakBytes ? b : a));
  }

  /** Counts a session's cache toward the process's memory until removeCache (document-session.ts). */
  addCache(cache: InspectionCache): void {
    this.caches.add(cache);
  }

  removeCache(cache: InspectionCache): void {
    this.caches.delete(cache);
  }

  /** Drops the least recently used cached inspections, across every document, until they fit beside a run of `runBytes` in the budget; returns what they hold after. */
  private makeRoom(runBytes: number): number {
    let held = 0;
    for (const c of this.caches) held += c.cachedBytes;
    const before = held;
    let dropped = 0;
    while (held + runBytes > this.memoryBudgetBytes) {
      let oldest: InspectionCache | undefined;
      let at = Infinity;
      for (const c of this.caches) {
        const used = c.oldestUse();
        if (used !== undefined && used < at) [oldest, at] = [c, used];
      }
      if (!oldest) break;
      held -= oldest.dropOldest();
      dropped++;
    }
    if (dropped > 0) this.log(`memory: dropped the ${dropped} least recently used cached inspections (${((before - held) / MB).toFixed(1)} MB) to fit a run of ${(runBytes / MB).toFixed(1)} MB in the budget of ${(this.memoryBudgetBytes / MB).toFixed(0)} MB`);
    return held;
  }

  /** Bytes the worker keeps of a retained run of T tokens (the most over the variants without a mode). */
  keptBytes(T: number, mode?: Mode): number {
    return Math.max(...this.dimsFor(mode).map((dims) => keptBytes(dims, T)));
  }

  /**
   * Tokens one inspection of a text of `chars` characters may hold under maxTokens: the model's
   * position limit and the memory budget may lower it. Without a mode, what every variant fits.
   */
  tokenLimit(maxTokens: number, chars: number, mode?: Mode): TokenLimit {
    let tokens = maxTokens;
    let reason = `the token limit (${maxTokens.toLocaleString('en-US')})`;
    if (this.model.maxContext !== null && this.model.maxContext < tokens) {
      tokens = this.model.maxContext;
      reason = `the model's position limit (${tokens.toLocaleString('en-US')} tokens)`;
    }
    const pieceChars = Math.min(chars, this.tokenizeChars);
    const dims = this.dimsFor(mode);
    const least = Math.max(...dims.map((d) => planBefore(d, 1, pieceChars, true, 1).peakBytes));
    if (least > this.memoryBudgetBytes) {
      throw new Error(
        `the memory budget (${Math.round(this.memoryBudgetBytes / MB)} MB) is below the ${Math.ceil(least / MB)} MB any inspection with model ${this.model.id} needs; raise it`,
      );
    }
    const fit = Math.min(...dims.map((d) => tokensWithin(d, tokens, this.memoryBudgetBytes, pieceChars)));
    if (fit < tokens) {
      tokens = fit;
      reason = `the memory budget (${Math.round(this.memoryBudgetBytes / MB).toLocaleString('en-US')} MB fits ${fit.toLocaleString('en-US')} tokens)`;
    }
    return { tokens, reason };
  }

  /** The whole text's tokens: only for texts of at most tokenizeChars characters (the memory plan). */
  encode(text: string, atStart = true): Promise<Encoding> {
    return this.tokenizer.encode(text, atStart);
  }

  /** The document's tokens covering [from, to), as whole-document tokenization gives them, tokenized in pieces. */
  encodeRange(text: string, from: number, to: number): Promise<EncodedRange> {
    return encodeRange((t, atStart) => this.encode(t, atStart), text, from, to, this.tokenizeChars);
  }

  /** The whole document's tokens, or a stretch of them that holds the window of maxTokens around `center`. */
  documentTokens(text: string, center: number, maxTokens: number): Promise<DocumentTokens> {
    return tokensAround((t, atStart) => this.encode(t, atStart), text, center, maxTokens, this.tokenizeChars);
  }

  async dispose(): Promise<void> {
    await this.worker.dispose();
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
    if (req.centerOffset !== undefined) checkOffset('center offset', req.centerOffset);
    for (const q of req.queryOffsets ?? []) checkOffset('query offset', q);
    const maxTokens = req.maxTokens ?? this.defaultMaxTokens;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new Error(`max tokens must be a positive integer, got ${maxTokens}`);
    return maxTokens;
  }

  /**
   * Decides one inspection: checks the request, limits its tokens, tokenizes (through the
   * session's cache), picks the window, maps the query offsets, sets up the run in its mode and
   * plans its memory. Throws a clear error for a request the model cannot run.
   */
  async plan(req: InspectRequest, context: PlanContext): Promise<InspectionPlan> {
    const t0 = performance.now();
    const limit = this.tokenLimit(this.validate(req), req.text.length, req.mode);
    const center = req.centerOffset ?? req.queryOffsets?.[0] ?? 0;
    const tokenizeStart = performance.now();
    const enc = await context.tokens(limit.tokens, center);
    const tokenizeMs = performance.now() - tokenizeStart;
    const window = context.window(enc, center, limit.tokens);
    const { first, end } = window;
    const T = end - first;
    const queries = (req.queryOffsets ?? []).map((offset) => {
      const doc = tokenIndex(enc, offset);
      if (doc < first || doc >= end || offset < enc.starts[first] || offset > enc.ends[end - 1]) {
        throw new Error(`query offset ${offset} is outside the inspected window (offsets ${enc.starts[first]}..${enc.ends[end - 1]})`);
      }
      return { offset, token: doc - first };
    });
    const mode = planMode(this.manifest, req.mode, T);
    const spec: RunSpec = {
      graphs: mode.graphs,
      dims: mode.dims,
      screening: mode.screening,
      ids: enc.ids.slice(first, end),
      s: mode.s,
      ropeScale: mode.ropeScale,
      queryScaling: mode.queryScaling,
      blockFloats: BLOCK_FLOATS,
      linearRows: LINEAR_ROWS,
    };
    const keep = req.keepKeys ?? true;
    const memory = planMemory(mode.dims, {
      tokens: T,
      tokenizeChars: Math.min(req.text.length, this.tokenizeChars),
      encodedTokens: enc.ids.length,
      queryRows: queries.length,
      keep: keep || queries.length > 0,
    });
    const p = context.previous;
    const resume = keep && p && p.mode === req.mode && p.modelId === this.model.id && p.start === enc.starts[first] ? p.runId : undefined;
    const wanted = req.keptRuns ?? 1;
    const keptRuns = wanted > 1 && memory.peakBytes + (wanted - 1) * this.keptBytes(T, req.mode) <= this.memoryBudgetBytes ? wanted : 1;
    return { req, enc, window, limitReason: limit.reason, queries, spec, memory, resume, keptRuns, tokenizeMs, t0 };
  }

  /**
   * Runs a plan: the layered graphs over its window, block by block in the model worker, shaped
   * into an Inspection. `signal` cancels between graph calls. With a kept run to resume from, only
   * tokens from the first changed one on are computed again.
   */
  async run(plan: InspectionPlan, signal?: AbortSignal, onProgress?: ProgressListener): Promise<Inspection> {
    const { req, enc, spec, queries } = plan;
    const { first, end } = plan.window;
    const T = end - first;
    const runStart = performance.now();
    const keepKeys = req.keepKeys ?? true;
    const cachedBytes = this.makeRoom(plan.memory.peakBytes);
    const { runId, outputs, reusedTokens, fullRunReason } = await this.worker.inspect(spec, {
      retain: keepKeys || queries.length > 0,
      keep: plan.keptRuns,
      resume: plan.resume,
      onProgress,
      signal,
    });
    const rows = queries.length > 0 ? await this.worker.rows(runId, spec, queries.map((q) => q.token), signal) : null;
    const inferenceMs = performance.now() - runStart;

    const tokens: Token[] = new Array<Token>(T);
    for (let t = 0; t < T; t++) {
      const start = enc.starts[first + t];
      const stop = enc.ends[first + t];
      tokens[t] = { text: req.text.slice(start, stop), start, end: stop };
    }
    const n = enc.count;
    // A screening run has its variant's layers and tiles: every [layer][head] array is laid out by them.
    const model = this.modelOf(req.mode);
    const inspection: Inspection = {
      id: this.nextId++,
      model,
      mode: req.mode,
      range: { start: enc.starts[first], end: enc.ends[end - 1] },
      windowed: T < n || enc.estimated,
      windowReason: T < n || enc.estimated ? plan.limitReason : undefined,
      documentTokens: n,
      documentTokensEstimated: enc.estimated || undefined,
      tokens,
      focus: outputs.focus,
      entropy: outputs.entropy,
      distance: outputs.distance,
      topIndex: outputs.topIndex,
      topWeight: outputs.topWeight,
      pooled: { binSize: outputs.binSize, bins: outputs.bins, data: outputs.pooled },
      surprisal: outputs.surprisal,
      sink: outputs.sink,
      distanceMass: outputs.distanceMass,
      support: outputs.support,
      ...(outputs.passCount && outputs.totalRelevance ? { passCount: outputs.passCount, totalRelevance: outputs.totalRelevance } : {}),
      ...(spec.screening ? { screening: spec.screening } : {}),
      queries: rows ? splitRows(rows, queries, model.layers * model.heads, T) : [],
      heads: headSummaries(model, T, outputs.focus, outputs.entropy, outputs.distance),
      timings: { tokenizeMs: plan.tokenizeMs, inferenceMs, totalMs: performance.now() - plan.t0 },
      reusedTokens,
      runId: keepKeys ? runId : undefined,
      memory: planInMB({ ...plan.memory, cachedBytes }),
    };
    const how = reusedTokens > 0 ? `, ${incrementalNote(inspection) ?? ''}` : fullRunReason ? `, full run (${fullRunReason})` : '';
    this.log(
      `inspection: ${req.mode}, ${T} of ${enc.estimated ? 'about ' : ''}${n} tokens${enc.exact ? '' : ' (tokenized in pieces that never agreed: may differ from whole-document tokens)'}${how}, tokenize ${plan.tokenizeMs.toFixed(1)} ms, model ${inferenceMs.toFixed(1)} ms, total ${inspection.timings.totalMs.toFixed(1)} ms, memory planned ${inspection.memory?.plannedMB} MB beside ${inspection.memory?.cachedMB} MB of cached inspections`,
    );
    return inspection;
  }

  /**
   * Full attention rows ([layer][head][key]) of the tokens at these document offsets, from the
   * keys the model worker kept for this inspection; undefined when it no longer holds them (a later
   * foreground run replaced them).
   */
  async rows(inspection: Inspection, offsets: number[], signal?: AbortSignal): Promise<QueryRows[] | undefined> {
    if (inspection.runId === undefined) return undefined;
    const queries = offsets.map((offset) => ({ offset, token: tokenAt(inspection, offset) }));
    if (queries.some((q) => q.token < 0)) throw new Error('query offset is outside the inspected range');
    const plan = planMode(this.manifest, inspection.mode, inspection.tokens.length);
    const rows = await this.worker.rows(inspection.runId, plan, queries.map((q) => q.token), signal);
    return rows ? splitRows(rows, queries, plan.info.layers * plan.info.heads, inspection.tokens.length) : undefined;
  }

  /** Exact needle masses, [layer][head][query - span.end], from the worker's kept keys (screening: relevance on the span); undefined when it no longer holds them. */
  async needleFromKeys(inspection: Inspection, span: TokenSpan, signal?: AbortSignal): Promise<Float32Array | undefined> {
    if (inspection.runId === undefined) return undefined;
    const plan = planMode(this.manifest, inspection.mode, inspection.tokens.length);
    const best = bestKeys(inspection.topIndex, this.model.topK);
    const mass = await this.worker.needle(inspection.runId, plan.dims, span, best, inspection.focus, signal, plan.screening);
    return mass ?? undefined;
  }

  /** Exact needle masses, [layer][head][query - span.end], by running the inspection's window again (in `mode`) with the needle computed in the run. */
  async needleByRun(inspection: Inspection, span: TokenSpan, source: NeedleSource, mode: Mode = inspection.mode): Promise<Float32Array> {
    const T = inspection.tokens.length;
    if (inspection.range.end > source.text.length) throw new Error('the document changed since it was inspected: inspect it again for the needle');
    const enc = await this.encodeRange(source.text, inspection.range.start, inspection.range.end);
    const first = windowStart(enc, inspection.range.start, inspection.range.end, T);
    if (first < 0) throw new Error('the document changed since it was inspected: inspect it again for the needle');
    if (!this.modes.includes(mode)) throw new Error(`mode ${mode} is not available for model ${this.model.id}; modes: ${this.modes.join(', ')}`);
    const plan = planMode(this.manifest, mode, T);
    const spec: RunSpec = {
      graphs: plan.graphs,
      dims: plan.dims,
      screening: plan.screening,
      ids: enc.ids.slice(first, first + T),
      s: plan.s,
      ropeScale: plan.ropeScale,
      queryScaling: plan.queryScaling,
      blockFloats: BLOCK_FLOATS,
      linearRows: LINEAR_ROWS,
      needle: span,
    };
    const { outputs } = await this.worker.inspect(spec, { retain: false, onProgress: source.onProgress, signal: source.signal });
    if (!outputs.needle) throw new Error('model worker returned no needle');
    return outputs.needle;
  }

  /**
   * A region of one head's (or the mean / max over heads) attention map at full resolution, at
   * most size x size cells, from the keys the worker kept for this inspection; undefined when it no
   * longer holds them. Zooming in the panel asks for this instead of magnifying the pooled map.
   */
  async region(inspection: Inspection, region: MapRegion, heads: HeadSelection, size: number, signal?: AbortSignal): Promise<RegionMap | undefined> {
    if (inspection.runId === undefined) return undefined;
    const plan = planMode(this.manifest, inspection.mode, inspection.tokens.length);
    const map = await this.worker.region(inspection.runId, plan, region, heads, size, signal);
    return map ?? undefined;
  }
}

/** Exact needles: from the worker's kept keys, or by a run of their own. */
export interface NeedleSource {
  /** The inspection's text (the needle runs it again when the worker no longer holds its keys). */
  text: string;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/**
 * The exact needle of a span in an inspection, every layer and head (span-mass.ts): from the keys
 * the model worker kept for it, else by running its window again in its mode with the needle
 * computed during the run (no keys kept). The text must be the one inspected. Another `mode` runs
 * the same window in that mode.
 */
export async function exactNeedle(runner: ModelRunner, insp: Inspection, span: TokenSpan, source: NeedleSource, mode: Mode = insp.mode): Promise<NeedleCurve> {
  // The mode's own heads: the screening twin's 11 x 11 tiles from a 6 x 4 inspection's window, and back.
  const { layers, heads: perLayer } = runner.modelOf(mode);
  const heads = layers * perLayer;
  const T = insp.tokens.length;
  const kept = mode === insp.mode ? await runner.needleFromKeys(insp, span, source.signal) : undefined;
  return needleFromMass(heads, T, span, kept ?? (await runner.needleByRun(insp, span, source, mode)));
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
