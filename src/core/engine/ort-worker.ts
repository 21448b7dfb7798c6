// The one module that imports onnxruntime-node. It runs in a worker thread (started by
// worker.ts) because a graph run blocks its thread: on the extension host's main thread
// that froze VS Code. It owns the sessions (one per graph file, created lazily) and the q/k/v and
// summaries of the latest retained runs (the shown mode's, and its Compare partner's where the
// memory plan allows), which Follow Cursor's full rows and zoomed maps read and a run of the
// edited document resumes from (resume.ts).
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { GARBAGE_BYTES } from './memory-plan';
import { isAbortError } from './abort';
import type { Feed, LayeredOutputs, Output, RetainedKeys, RunGraph } from './layered-run';
import { regionOf, rowsOf, runLayered } from './layered-run';
import { runScreening } from './screening-run';
import { isScreening } from '../model/graphs';
import { needleOfLayers, relevanceNeedleOfLayers } from '../reading/span-mass';
import type { KeptRun, ResumePlan } from './resume';
import { copyOutputs, resumePlan } from './resume';
import type { WorkerReply, WorkerRequest } from './worker';

const sessions = new Map<string, Promise<ort.InferenceSession>>();
/** Retained runs by run id, oldest first. */
const retained = new Map<number, KeptRun>();

// onnxruntime-node copies every output into a fresh ArrayBuffer (a preallocated output is filled
// and copied all the same), which only the garbage collector frees: left to its heuristics, a 32k
// run's 1.3 GB of read outputs decided the peak. The worker collects as outputs become garbage
// (collectOutputs), so at most GARBAGE_BYTES are uncollected and the memory plan can bound them.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
let garbage = 0;

/** ArrayBuffer memory after the last full collection: the kept runs and the run's own buffers. */
let floor = 0;

function external(): number {
  return v8.getHeapStatistics().external_memory;
}

/** Frees what is garbage now: a second collection finishes the first one's concurrent sweep of ArrayBuffers. */
function collect(): void {
  gc();
  gc();
  garbage = 0;
  floor = external();
}

/**
 * Frees the outputs a run has read, once half of GARBAGE_BYTES is garbage. Young-generation
 * collections cost a fraction of full ones (a 1,000-token run spent 40-55 ms in full ones), but
 * they free only part of the outputs at once: some were promoted before they died, and some are
 * swept later. When what they leave passes the other half, a full collection follows, so at most
 * GARBAGE_BYTES stay uncollected, as the memory plan counts (bench/README.md, notes).
 */
function collectOutputs(): void {
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  garbage = 0;
  if (external() - floor > GARBAGE_BYTES / 2) collect();
}

function session(graphPath: string, threads: number | undefined): Promise<ort.InferenceSession> {
  let pending = sessions.get(graphPath);
  if (!pending) {
    pending = ort.InferenceSession.create(graphPath, {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      // The arena keeps the largest block's buffers after a run; without it memory follows the run.
      enableCpuMemArena: false,
      ...(threads ? { intraOpNumThreads: threads } : {}),
      // Idle pool threads sleep instead of spinning between the engine's many short calls: with
      // spinning, 2 threads on a 2-core machine with one busy core ran 2-3x slower than 1 thread;
      // without it, as fast as 1 thread there and faster when idle (bench/README.md, notes).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    pending.catch(() => sessions.delete(graphPath));
    sessions.set(graphPath, pending);
  }
  return pending;
}

class LoadError extends Error {}

function graphRunner(threads: number | undefined, loaded: { ms: number }): RunGraph {
  return async (graphPath: string, feeds: Record<string, Feed>): Promise<Record<string, Output>> => {
    const t0 = performance.now();
    let s: ort.InferenceSession;
    try {
      s = await session(graphPath, threads);
    } catch (err) {
      throw new LoadError(`${graphPath}: ${err instanceof Error ? err.message : String(err)}`);
    }
    loaded.ms += performance.now() - t0;
    if (garbage >= GARBAGE_BYTES / 2) collectOutputs(); // the previous calls' outputs have been read
    const missing = s.inputNames.filter((name) => !(name in feeds));
    if (missing.length > 0) throw new LoadError(`${graphPath} needs inputs [${s.inputNames.join(', ')}]; missing: ${missing.join(', ')} (see models/README.md)`);
    const tensors: Record<string, ort.Tensor> = {};
    for (const name of s.inputNames) tensors[name] = new ort.Tensor(feeds[name].type, feeds[name].data, feeds[name].dims);
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await s.run(tensors);
    } catch (err) {
      const shapes = Object.entries(feeds).map(([n, f]) => `${n}: ${f.type}[${f.dims.join(', ')}]`).join('; ');
      throw new Error(`${graphPath} with inputs ${shapes}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const result: Record<string, Output> = {};
    for (const [name, t] of Object.entries(out)) {
      const data = t.data as Float32Array | BigInt64Array;
      result[name] = { type: t.type, dims: t.dims, data };
      garbage += data.byteLength;
    }
    return result;
  };
}

function failure(id: number, err: unknown): WorkerReply {
  return {
    id,
    kind: 'error',
    stage: err instanceof LoadError ? 'load' : 'run',
    message: err instanceof Error ? err.message : String(err),
    aborted: isAbortError(err),
  };
}

type Post = (reply: WorkerReply, transfer?: ArrayBuffer[]) => void;

/** The keys of a retained run, if the worker still holds that run. */
function keysOf(runId: number): RetainedKeys | undefined {
  return retained.get(runId)?.keys;
}

/** Drops the oldest retained runs (never `spare`) until at most `most` are left; collects what they held. */
function dropRetained(most: number, spare?: number): void {
  let dropped = false;
  for (const id of [...retained.keys()]) {
    if (retained.size <= most) break;
    if (id === spare) continue;
    retained.delete(id);
    dropped = true;
  }
  if (dropped) collect();
}

/** The reply to one request and the buffers it transfers; progress goes out through `post` meanwhile. */
async function answer(req: WorkerRequest, post: Post): Promise<[WorkerReply, ArrayBuffer[]]> {
  switch (req.kind) {
    case 'release': {
      const all = [...sessions.values()];
      sessions.clear();
      retained.clear();
      await Promise.all(all.map((p) => p.then((s) => s.release(), () => undefined)));
      return [{ id: req.id, kind: 'released' }, []];
    }
    case 'graph': {
      const outputs = await graphRunner(req.threads, { ms: 0 })(req.graphPath, req.feeds);
      return [{ id: req.id, kind: 'graph', outputs }, Object.values(outputs).map((o) => o.data.buffer as ArrayBuffer)];
    }
    case 'rows': {
      const keys = keysOf(req.runId);
      const rows = keys ? await rowsOf(req, keys, req.queries, graphRunner(req.threads, { ms: 0 })) : null;
      return [{ id: req.id, kind: 'rows', rows }, rows ? [rows.buffer as ArrayBuffer] : []];
    }
    case 'region': {
      const keys = keysOf(req.runId);
      const map = keys ? await regionOf(req, keys, req.region, req.heads, req.size, graphRunner(req.threads, { ms: 0 })) : null;
      return [{ id: req.id, kind: 'region', map }, map ? [map.data.buffer as ArrayBuffer] : []];
    }
    case 'needle': {
      const keys = keysOf(req.runId);
      let mass: Float32Array | null = null;
      if (keys && req.screening) mass = relevanceNeedleOfLayers(keys.q.map((q, l) => ({ q, k: keys.k[l][0] })), req.dims, req.screening, keys.tokens, req.span);
      else if (keys) mass = needleOfLayers(keys.q.map((q, l) => ({ q, k: keys.k[l] })), req.dims, keys.tokens, req.span, req.best, req.focus);
      return [{ id: req.id, kind: 'needle', mass }, mass ? [mass.buffer as ArrayBuffer] : []];
    }
    case 'inspect': {
      const flag = new Int32Array(req.cancel);
      const loaded = { ms: 0 };
      let lastPost = 0;
      const kept = req.resume !== undefined && req.retain ? retained.get(req.resume) : undefined;
      const plan: ResumePlan | undefined =
        req.resume === undefined ? undefined : kept ? resumePlan(req.spec, kept) : { from: 0, reason: req.retain ? `the worker no longer holds run ${req.resume}` : 'a run whose keys are not kept' };
      if (req.retain) {
        // A full run drops the run it replaces before it allocates its own; a resumed one reads it.
        if (!plan?.from && req.resume !== undefined && retained.delete(req.resume)) collect();
        // A resumed run replaces the run it reads, so that one counts among the runs kept.
        dropRetained(plan?.from ? req.keep : req.keep - 1, plan?.from ? req.resume : undefined);
      }
      let outputs: LayeredOutputs;
      let keys: RetainedKeys;
      if (kept && plan?.from === req.spec.ids.length) {
        // The same tokens: the kept run is the answer.
        outputs = copyOutputs(kept.outputs);
        keys = kept.keys;
      } else {
        const resume = kept && plan?.from ? { keys: kept.keys, outputs: kept.outputs, from: plan.from } : undefined;
        ({ outputs, retained: keys } = await (isScreening(req.spec.graphs) ? runScreening : runLayered)(
          req.spec,
          graphRunner(req.threads, loaded),
          {
            cancelled: () => Atomics.load(flag, 0) !== 0,
            progress: (done) => {
              const now = performance.now();
              if (now - lastPost < 100 && done < 1) return;
              lastPost = now;
              post({ id: req.id, kind: 'progress', done });
            },
          },
          resume,
        ));
      }
      if (req.retain) {
        // The run it resumed from is replaced: gone before the copy of the summaries is made.
        if (req.resume !== undefined && retained.delete(req.resume)) collect();
        retained.set(req.id, { spec: req.spec, keys, outputs: copyOutputs(outputs) });
      }
      const arrays = [outputs.focus, outputs.entropy, outputs.distance, outputs.topIndex, outputs.topWeight, outputs.pooled, outputs.surprisal, outputs.sink, outputs.distanceMass, outputs.support];
      for (const extra of [outputs.needle, outputs.passCount, outputs.totalRelevance]) if (extra) arrays.push(extra);
      const reply: WorkerReply = { id: req.id, kind: 'inspected', loadMs: loaded.ms, outputs, reusedTokens: plan?.from ?? 0, fullRunReason: plan?.reason };
      return [reply, arrays.map((a) => a.buffer as ArrayBuffer)];
    }
  }
}

async function handle(req: WorkerRequest, post: Post): Promise<void> {
  try {
    const [reply, transfer] = await answer(req, post);
    post(reply, transfer);
    // A run leaves nothing behind for the next one: its working buffers, and a run not kept its keys.
    if (req.kind === 'inspect') collect();
  } catch (err) {
    post(failure(req.id, err));
  }
}

const port = parentPort;
if (!port) throw new Error('ort-worker.js must run in a worker thread');
let chain: Promise<void> = Promise.resolve();
port.on('message', (req: WorkerRequest) => {
  chain = chain.then(() => handle(req, (reply, transfer) => port.postMessage(reply, transfer ?? [])));
});
