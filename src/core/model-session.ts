// Model sessions, run in a worker thread (ort-worker.ts, the one module that imports
// onnxruntime-node) so that inference never blocks the caller's event loop. Sessions are created
// lazily per graph file inside the worker, reused, and released on dispose; runs are serialised
// because they share the CPU.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

export type Feed =
  | { type: 'int64'; data: BigInt64Array; dims: number[] }
  | { type: 'float32'; data: Float32Array; dims: number[] };

export interface Output {
  type: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

export interface SessionOptions {
  /** Threads per run; default: onnxruntime's choice (the physical cores). */
  threads?: number;
  /** The built worker script; default: ort-worker.js beside this bundle. */
  workerPath?: string;
}

/** Messages to and from ort-worker.ts. */
export type WorkerRequest =
  | { id: number; kind: 'run'; graphPath: string; feeds: Record<string, Feed>; threads?: number }
  | { id: number; kind: 'release' };
export type WorkerReply =
  | { id: number; kind: 'result'; loadMs: number; outputs: Record<string, Output> }
  | { id: number; kind: 'error'; stage: 'load' | 'inputs' | 'run'; message: string }
  | { id: number; kind: 'released' };

function describeFeeds(feeds: Record<string, Feed>): string {
  return Object.entries(feeds)
    .map(([name, f]) => `${name}: ${f.type}[${f.dims.join(', ')}]`)
    .join('; ');
}

export class SessionPool {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, (reply: WorkerReply) => void>();
  private readonly loaded = new Set<string>();
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly options: SessionOptions = {},
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  private send(req: WorkerRequest): Promise<WorkerReply> {
    if (!this.worker) {
      const worker = new Worker(this.options.workerPath ?? path.join(__dirname, 'ort-worker.js'));
      worker.on('message', (reply: WorkerReply) => {
        this.waiting.get(reply.id)?.(reply);
        this.waiting.delete(reply.id);
        if (this.waiting.size === 0) worker.unref(); // an idle worker must not keep the CLI or tests alive
      });
      worker.on('error', (err) => this.failAll(`model worker failed: ${oneLine(err)}`));
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        this.loaded.clear();
        if (this.waiting.size > 0) this.failAll(`model worker exited (code ${code})`);
      });
      this.worker = worker;
    }
    const worker = this.worker;
    worker.ref();
    return new Promise((resolve) => {
      this.waiting.set(req.id, resolve);
      worker.postMessage(req);
    });
  }

  private failAll(message: string): void {
    for (const [id, resolve] of this.waiting) resolve({ id, kind: 'error', stage: 'run', message });
    this.waiting.clear();
  }

  /**
   * Runs one graph after every earlier run has finished. `stillWanted` is asked just before the
   * run starts so that a stale request waiting in the queue costs nothing.
   */
  run(graphPath: string, feeds: Record<string, Feed>, stillWanted: () => boolean = () => true): Promise<Record<string, Output>> {
    const job = this.queue.then(async () => {
      if (this.disposed) throw new Error('model session: disposed');
      if (!stillWanted()) return undefined;
      const reply = await this.send({ id: this.nextId++, kind: 'run', graphPath, feeds, threads: this.options.threads });
      if (reply.kind === 'result') {
        if (!this.loaded.has(graphPath)) {
          this.loaded.add(graphPath);
          this.log(`model session: loaded ${graphPath} in ${reply.loadMs.toFixed(0)} ms`);
        }
        return reply.outputs;
      }
      const message = reply.kind === 'error' ? oneLine(reply.message) : 'unexpected reply';
      if (reply.kind === 'error' && reply.stage === 'load') throw new Error(`cannot load model graph ${graphPath}: ${message}`);
      if (reply.kind === 'error' && reply.stage === 'inputs') throw new Error(`model graph ${graphPath} ${message} (see models/README.md)`);
      this.log(`model session: run of ${graphPath} failed with inputs ${describeFeeds(feeds)}: ${message}`);
      throw new Error(`model run failed (${describeFeeds(feeds)}): ${message}`);
    });
    this.queue = job.catch(() => undefined);
    return job.then((r) => {
      if (!r) throw abortError();
      return r;
    });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.queue;
    const worker = this.worker;
    if (!worker) return;
    await this.send({ id: this.nextId++, kind: 'release' });
    this.worker = undefined;
    await worker.terminate();
  }
}

export function abortError(): Error {
  const err = new Error('inspection cancelled: a newer request replaced it');
  err.name = 'AbortError';
  return err;
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
