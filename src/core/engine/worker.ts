// The model worker: a worker thread (ort-worker.ts, the one module that imports onnxruntime-node)
// runs the layered graphs so that inference never blocks the caller's event loop. Runs are
// serialised because they share the CPU; progress comes back during a run, and cancellation is a
// shared flag the worker checks between graph calls, so it takes effect within one block.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { abortError } from './abort';
import type { ModelDims, ScreeningParams, VariantGraphs } from '../model/graphs';
import type { Feed, LayeredOutputs, MapRegion, Output, RowsSpec, RunSpec } from './layered-run';
import type { TokenSpan } from '../reading/needle';
import type { HeadSelection } from '../../shared/vocabulary';

export interface WorkerOptions {
  /** Threads per graph call; default: onnxruntime's choice (the physical cores). */
  threads?: number;
  /** The built worker script; default: ort-worker.js beside this bundle. */
  workerPath?: string;
}

/** Messages to and from ort-worker.ts. */
export type WorkerRequest =
  | { id: number; kind: 'inspect'; spec: RunSpec; cancel: SharedArrayBuffer; retain: boolean; keep: number; resume?: number; threads?: number }
  | { id: number; kind: 'rows'; runId: number; graphs: VariantGraphs; dims: ModelDims; screening?: ScreeningParams; queries: number[]; threads?: number }
  | { id: number; kind: 'region'; runId: number; graphs: VariantGraphs; dims: ModelDims; screening?: ScreeningParams; region: MapRegion; heads: HeadSelection; size: number; threads?: number }
  | { id: number; kind: 'graph'; graphPath: string; feeds: Record<string, Feed>; threads?: number }
  | { id: number; kind: 'needle'; runId: number; dims: ModelDims; span: TokenSpan; best: Int32Array; focus: Float32Array; screening?: ScreeningParams }
  | { id: number; kind: 'release' };
export type WorkerReply =
  | { id: number; kind: 'progress'; done: number }
  | { id: number; kind: 'inspected'; loadMs: number; outputs: LayeredOutputs; reusedTokens: number; fullRunReason?: string }
  | { id: number; kind: 'rows'; rows: Float32Array | null }
  | { id: number; kind: 'region'; map: RegionMap | null }
  | { id: number; kind: 'graph'; outputs: Record<string, Output> }
  | { id: number; kind: 'needle'; mass: Float32Array | null }
  | { id: number; kind: 'error'; stage: 'load' | 'run'; message: string; aborted: boolean }
  | { id: number; kind: 'released' };

/** A region of an attention map at full resolution: rows x cols cells of qBin x kBin tokens, max weight each. */
export interface RegionMap {
  qBin: number;
  kBin: number;
  rows: number;
  cols: number;
  data: Float32Array;
}

export interface InspectOptions {
  /** Keep each layer's q and k in the worker for rows(), region(), needle() and a later resume. */
  retain: boolean;
  /** Retained runs the worker may hold with this one (the oldest go first); default 1. */
  keep?: number;
  /** A retained run (its id) of an earlier sequence: recompute only from the first changed token (resume.ts). */
  resume?: number;
  onProgress?: (done: number) => void;
  signal?: AbortSignal;
}

export interface InspectResult {
  runId: number;
  loadMs: number;
  outputs: LayeredOutputs;
  reusedTokens: number;
  fullRunReason?: string;
}

export class ModelWorker {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, (reply: WorkerReply) => void>();
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly options: WorkerOptions = {},
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.options.workerPath ?? path.join(__dirname, 'ort-worker.js'));
    worker.on('message', (reply: WorkerReply) => {
      this.waiting.get(reply.id)?.(reply);
      if (reply.kind !== 'progress') this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref(); // an idle worker must not keep the CLI or tests alive
    });
    worker.on('error', (err) => this.failAll(`model worker failed: ${oneLine(err)}`));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (this.waiting.size > 0) this.failAll(`model worker exited (code ${code})`);
    });
    this.worker = worker;
    return worker;
  }

  private send(req: WorkerRequest, onReply: (reply: WorkerReply) => void): void {
    const worker = this.start();
    worker.ref();
    this.waiting.set(req.id, onReply);
    worker.postMessage(req);
  }

  private request(req: WorkerRequest, onProgress?: (done: number) => void): Promise<WorkerReply> {
    return new Promise((resolve) => {
      this.send(req, (reply) => {
        if (reply.kind === 'progress') onProgress?.(reply.done);
        else resolve(reply);
      });
    });
  }

  private failAll(message: string): void {
    for (const [id, resolve] of this.waiting) resolve({ id, kind: 'error', stage: 'run', message, aborted: false });
    this.waiting.clear();
  }

  /** Serialises a job after every earlier one; a job whose signal aborted before it starts never runs. */
  private enqueue<T>(signal: AbortSignal | undefined, job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.disposed) throw new Error('model worker: disposed');
      if (signal?.aborted) throw abortError();
      return job();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs the layered graphs over spec.ids; resolves with the summaries, the run's id (for rows()),
   * the tokens taken from the resumed run (0: a full run) and, when a resume was asked for but not
   * possible, why.
   */
  inspect(spec: RunSpec, options: InspectOptions): Promise<InspectResult> {
    return this.enqueue(options.signal, async () => {
      const cancel = new SharedArrayBuffer(4);
      const flag = new Int32Array(cancel);
      const onAbort = (): void => void Atomics.store(flag, 0, 1);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const id = this.nextId++;
      try {
        const reply = await this.request({ id, kind: 'inspect', spec, cancel, retain: options.retain, keep: Math.max(1, options.keep ?? 1), resume: options.resume, threads: this.options.threads }, options.onProgress);
        if (reply.kind === 'inspected') return { runId: id, loadMs: reply.loadMs, outputs: reply.outputs, reusedTokens: reply.reusedTokens, fullRunReason: reply.fullRunReason };
        throw this.failure(reply, spec);
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  /** Full rows of the queries from a retained run; null when the worker no longer holds that run. */
  rows(runId: number, spec: RowsSpec, queries: number[], signal?: AbortSignal): Promise<Float32Array | null> {
    return this.enqueue(signal, async () => {
      const reply = await this.request({ id: this.nextId++, kind: 'rows', runId, graphs: spec.graphs, dims: spec.dims, screening: spec.screening, queries, threads: this.options.threads });
      if (reply.kind === 'rows') return reply.rows;
      throw this.failure(reply);
    });
  }

  /** A region's map from a retained run; null when the worker no longer holds that run. */
  region(runId: number, spec: RowsSpec, region: MapRegion, heads: HeadSelection, size: number, signal?: AbortSignal): Promise<RegionMap | null> {
    return this.enqueue(signal, async () => {
      const reply = await this.request({ id: this.nextId++, kind: 'region', runId, graphs: spec.graphs, dims: spec.dims, screening: spec.screening, region, heads, size, threads: this.options.threads });
      if (reply.kind === 'region') return reply.map;
      throw this.failure(reply);
    });
  }

  /**
   * Exact mass on a span from every later query, [layer][head][query - span.end], from a retained
   * run's q and k (span-mass.ts); best and focus: [layer][head][query] of that run. Null when the
   * worker no longer holds the run. A screening run's needle is its relevance on the span (its w and r: `screening`).
   */
  needle(runId: number, dims: ModelDims, span: TokenSpan, best: Int32Array, focus: Float32Array, signal?: AbortSignal, screening?: ScreeningParams): Promise<Float32Array | null> {
    return this.enqueue(signal, async () => {
      const reply = await this.request({ id: this.nextId++, kind: 'needle', runId, dims, span, best, focus, screening });
      if (reply.kind === 'needle') return reply.mass;
      throw this.failure(reply);
    });
  }

  /** One graph call, outside any inspection (the benchmark's sgemm probe, per-graph tests). */
  runGraph(graphPath: string, feeds: Record<string, Feed>): Promise<Record<string, Output>> {
    return this.enqueue(undefined, async () => {
      const reply = await this.request({ id: this.nextId++, kind: 'graph', graphPath, feeds, threads: this.options.threads });
      if (reply.kind === 'graph') return reply.outputs;
      throw this.failure(reply);
    });
  }

  private failure(reply: WorkerReply, spec?: RunSpec): Error {
    if (reply.kind !== 'error') return new Error(`model worker: unexpected reply ${reply.kind}`);
    if (reply.aborted) return abortError();
    const message = oneLine(reply.message);
    if (reply.stage === 'load') return new Error(`cannot load model graph: ${message}`);
    const what = spec ? ` (${spec.ids.length} tokens)` : '';
    this.log(`model worker: run failed${what}: ${message}`);
    return new Error(`model run failed${what}: ${message}`);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.queue;
    const worker = this.worker;
    if (!worker) return;
    await this.request({ id: this.nextId++, kind: 'release' });
    this.worker = undefined;
    await worker.terminate();
  }
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
