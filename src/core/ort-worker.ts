// The one module that imports onnxruntime-node. It runs in a worker thread (started by
// model-session.ts) because onnxruntime-node's run blocks the calling thread for the whole
// inference: on the extension host's main thread that froze VS Code for seconds.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { WorkerReply, WorkerRequest } from './model-session';

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function session(graphPath: string, threads: number | undefined): Promise<ort.InferenceSession> {
  let pending = sessions.get(graphPath);
  if (!pending) {
    pending = ort.InferenceSession.create(graphPath, {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      // Without the arena, peak memory at 4,000 tokens is about half (models/README.md).
      enableCpuMemArena: false,
      ...(threads ? { intraOpNumThreads: threads } : {}),
    });
    pending.catch(() => sessions.delete(graphPath));
    sessions.set(graphPath, pending);
  }
  return pending;
}

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  if (req.kind === 'release') {
    const all = [...sessions.values()];
    sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.release(), () => undefined)));
    return { id: req.id, kind: 'released' };
  }
  const t0 = performance.now();
  let s: ort.InferenceSession;
  try {
    s = await session(req.graphPath, req.threads);
  } catch (err) {
    return { id: req.id, kind: 'error', stage: 'load', message: String(err instanceof Error ? err.message : err) };
  }
  const loadMs = performance.now() - t0;
  const missing = s.inputNames.filter((name) => !(name in req.feeds));
  if (missing.length > 0) {
    return { id: req.id, kind: 'error', stage: 'inputs', message: `needs inputs [${s.inputNames.join(', ')}]; missing: ${missing.join(', ')}` };
  }
  const tensors: Record<string, ort.Tensor> = {};
  for (const name of s.inputNames) {
    const f = req.feeds[name];
    tensors[name] = new ort.Tensor(f.type, f.data, f.dims);
  }
  try {
    const out = await s.run(tensors);
    const outputs: WorkerReply & { kind: 'result' } = { id: req.id, kind: 'result', loadMs, outputs: {} };
    for (const [name, t] of Object.entries(out)) {
      outputs.outputs[name] = { type: t.type, dims: t.dims, data: t.data as Float32Array | BigInt64Array };
    }
    return outputs;
  } catch (err) {
    return { id: req.id, kind: 'error', stage: 'run', message: String(err instanceof Error ? err.message : err) };
  }
}

const port = parentPort;
if (!port) throw new Error('ort-worker.js must run in a worker thread');
port.on('message', (req: WorkerRequest) => {
  void handle(req).then((reply) => {
    const buffers = reply.kind === 'result' ? Object.values(reply.outputs).map((o) => o.data.buffer as ArrayBuffer) : [];
    port.postMessage(reply, buffers);
  });
});
