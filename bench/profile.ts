// Where an inspection's time goes: the engine's own runLayered, in this process, over
// onnxruntime sessions made with the model worker's options, with every graph call timed. Per
// graph kind (embed, qkv, attention, out, head): calls, ms inside session.run, ms in the call
// wrapper (tensors in and out), and the matrix FLOPs the kind needs (for its GFLOP/s). What the run
// spends outside session.run is the engine's fixed cost: feeds, copies, summaries, call dispatch.
import * as ort from 'onnxruntime-node';
import type { GraphSet, ModelDims } from '../src/core/model/graphs';
import { attentionGraphs } from '../src/core/model/graphs';
import type { Feed, Output, RunGraph, RunSpec } from '../src/core/engine/layered-run';
import { runLayered } from '../src/core/engine/layered-run';

export const KINDS = ['embed', 'qkv', 'attention', 'out', 'head'] as const;
export type Kind = (typeof KINDS)[number];

export interface KindStats {
  calls: number;
  /** Inside session.run. */
  runMs: number;
  /** From the call into the graph runner to its return (tensors in and out included). */
  callMs: number;
}

export interface RunProfile {
  totalMs: number;
  calls: number;
  /** totalMs minus the time inside session.run. */
  overheadMs: number;
  kinds: Record<Kind, KindStats>;
}

function kindOf(graphs: GraphSet, graph: string): Kind {
  if (graph === graphs.embed) return 'embed';
  if (graph === graphs.head) return 'head';
  if (graph === graphs.attention || graph === graphs.attentionSplit) return 'attention';
  if (graphs.qkv.includes(graph)) return 'qkv';
  if (graphs.out.includes(graph)) return 'out';
  throw new Error(`bench: unknown graph ${graph}`);
}

/** Sessions as the model worker makes them (ort-worker.ts: idle threads do not spin), one set per thread count and spinning. */
export class Sessions {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();

  /** `spinning` false: idle intra-op threads sleep instead of spinning (session.intra_op.allow_spinning = 0). */
  get(graph: string, threads: number, spinning = false): Promise<ort.InferenceSession> {
    const key = `${threads}|${spinning}|${graph}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = ort.InferenceSession.create(graph, {
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        enableCpuMemArena: false,
        ...(threads ? { intraOpNumThreads: threads } : {}),
        ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
      });
      this.sessions.set(key, s);
    }
    return s;
  }

  /** One call, timed inside session.run. */
  async run(graph: string, feeds: Record<string, Feed>, threads = 0): Promise<{ out: Record<string, Output>; ms: number }> {
    const s = await this.get(graph, threads);
    const tensors: Record<string, ort.Tensor> = {};
    for (const name of s.inputNames) tensors[name] = new ort.Tensor(feeds[name].type, feeds[name].data, feeds[name].dims);
    const t0 = performance.now();
    const o = await s.run(tensors);
    const ms = performance.now() - t0;
    const out: Record<string, Output> = {};
    for (const [name, t] of Object.entries(o)) out[name] = { type: t.type, dims: t.dims, data: t.data as Float32Array | BigInt64Array };
    return { out, ms };
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.release())));
  }
}

/** One profiled run of the engine; `threads` 0 = onnxruntime's default. */
export async function profileRun(spec: RunSpec, sessions: Sessions, threads: number, spinning = false): Promise<RunProfile> {
  const kinds = Object.fromEntries(KINDS.map((k) => [k, { calls: 0, runMs: 0, callMs: 0 }])) as Record<Kind, KindStats>;
  const runGraph: RunGraph = async (graph: string, feeds: Record<string, Feed>): Promise<Record<string, Output>> => {
    const t0 = performance.now();
    const s = await sessions.get(graph, threads, spinning);
    const tensors: Record<string, ort.Tensor> = {};
    for (const name of s.inputNames) tensors[name] = new ort.Tensor(feeds[name].type, feeds[name].data, feeds[name].dims);
    const r0 = performance.now();
    const out = await s.run(tensors);
    const r1 = performance.now();
    const result: Record<string, Output> = {};
    for (const [name, t] of Object.entries(out)) result[name] = { type: t.type, dims: t.dims, data: t.data as Float32Array | BigInt64Array };
    const k = kinds[kindOf(attentionGraphs(spec.graphs), graph)];
    k.calls++;
    k.runMs += r1 - r0;
    k.callMs += performance.now() - t0;
    return result;
  };
  const t0 = performance.now();
  await runLayered(spec, runGraph, { progress: () => undefined, cancelled: () => false });
  const totalMs = performance.now() - t0;
  const calls = KINDS.reduce((s, k) => s + kinds[k].calls, 0);
  const runMs = KINDS.reduce((s, k) => s + kinds[k].runMs, 0);
  return { totalMs, calls, overheadMs: totalMs - runMs, kinds };
}

/** Matrix FLOPs per kind for T tokens (as the bench's causal count: the attention kind over the causal half). */
export function kindFlops(dims: ModelDims, T: number): Record<Kind, number> {
  const linear = 2 * T * dims.layers * dims.layerParameters;
  const qkvShare = (dims.heads + 2 * dims.kvHeads) * dims.headDim;
  const qkvParams = dims.width * qkvShare;
  const qkv = 2 * T * dims.layers * Math.min(qkvParams, dims.layerParameters);
  return {
    embed: 0,
    qkv,
    attention: dims.layers * dims.heads * 2 * 2 * ((T * (T + 1)) / 2) * dims.headDim,
    out: linear - qkv,
    head: 2 * T * dims.vocabSize * dims.width,
  };
}
