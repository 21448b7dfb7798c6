// The one module that imports onnxruntime-node. Sessions are created lazily per graph file,
// reused, and released on dispose; all runs go through one queue because they share the CPU.
import * as ort from 'onnxruntime-node';

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
}

function describeFeeds(feeds: Record<string, Feed>): string {
  return Object.entries(feeds)
    .map(([name, f]) => `${name}: ${f.type}[${f.dims.join(', ')}]`)
    .join('; ');
}

export class SessionPool {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly options: SessionOptions = {},
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  private session(graphPath: string): Promise<ort.InferenceSession> {
    let pending = this.sessions.get(graphPath);
    if (!pending) {
      const t0 = performance.now();
      pending = ort.InferenceSession.create(graphPath, {
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        // Without the arena, peak memory at 4,000 tokens is about half (models/README.md).
        enableCpuMemArena: false,
        ...(this.options.threads ? { intraOpNumThreads: this.options.threads } : {}),
      }).then(
        (s) => {
          this.log(`model session: loaded ${graphPath} in ${(performance.now() - t0).toFixed(0)} ms`);
          return s;
        },
        (err: unknown) => {
          this.sessions.delete(graphPath);
          throw new Error(`cannot load model graph ${graphPath}: ${oneLine(err)}`);
        },
      );
      this.sessions.set(graphPath, pending);
    }
    return pending;
  }

  /**
   * Runs one graph after every earlier run has finished. `stillWanted` is asked just before the
   * run starts so that a stale request waiting in the queue costs nothing.
   */
  run(graphPath: string, feeds: Record<string, Feed>, stillWanted: () => boolean = () => true): Promise<Record<string, Output>> {
    const job = this.queue.then(async () => {
      if (this.disposed) throw new Error('model session: disposed');
      if (!stillWanted()) return undefined;
      const session = await this.session(graphPath);
      const missing = session.inputNames.filter((name) => !(name in feeds));
      if (missing.length > 0) {
        throw new Error(
          `model graph ${graphPath} needs inputs [${session.inputNames.join(', ')}]; missing: ${missing.join(', ')} (see models/README.md)`,
        );
      }
      const tensors: Record<string, ort.Tensor> = {};
      for (const name of session.inputNames) {
        const f = feeds[name];
        tensors[name] = new ort.Tensor(f.type, f.data, f.dims);
      }
      try {
        const out = await session.run(tensors);
        const result: Record<string, Output> = {};
        for (const [name, t] of Object.entries(out)) {
          result[name] = { type: t.type, dims: t.dims, data: t.data as Float32Array | BigInt64Array };
        }
        return result;
      } catch (err) {
        this.log(`model session: run of ${graphPath} failed with inputs ${describeFeeds(feeds)}: ${oneLine(err)}`);
        throw new Error(`model run failed (${describeFeeds(feeds)}): ${oneLine(err)}`);
      }
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
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.release(), () => undefined)));
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
