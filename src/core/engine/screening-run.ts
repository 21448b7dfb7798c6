// Runs a screening variant (models/README.md, "Screening variants"; training/screening.py) over one
// token sequence, as layered-run.ts runs attention: row-wise pieces in row blocks, then per layer
// screening.onnx on causal query blocks of every tile at once, fed only the keys a block can see:
// from the bin holding key a - ceil(max w) + 1 (none skipped when a tile's w is Infinity). Relevance
// is absolute, so a block needs no other block's keys and nothing is merged. Progress, cancel,
// resume and the retained keys work as in layered-run.ts.
import type { LayeredOutputs, Output, Resume, RetainedKeys, RunGraph, RunHooks, RunSpec } from './layered-run';
import { MAX_ATTENTION_ROWS, attentionRows, blockStart, checkResume, copyPrefix, embedRows, f32, groupQueries, headSurprisal, i64, keysFor, keysSeen, out32, out64, poolingOf, progressCalls, windowKeys } from './layered-run';
import type { ModelDims, ScreeningParams } from '../model/graphs';
import { isScreening, valueDimOf } from '../model/graphs';
import type { ScreeningLayerKeys } from '../reading/span-mass';
import { relevanceMass } from '../reading/span-mass';
import { DISTANCE_BUCKETS } from '../reading/fading-metrics';

/** Keys back a layer's tiles can see: ceil(max w), or null (every key) when a tile's w is Infinity. */
export function reachOf(window: Float32Array, layer: number, heads: number): number | null {
  const w = Math.max(...window.subarray(layer * heads, (layer + 1) * heads));
  return Number.isFinite(w) ? Math.ceil(w) : null;
}

/** Multiply-adds of a screening run of rows [from, T), as the progress bar counts them. */
export function screeningWork(dims: ModelDims, params: ScreeningParams, T: number, from = 0): { pair: number; total: number } {
  const { layers: L, heads: H, headDim: dK } = dims;
  // q.k, the trim, square and softmask (a cosine: about ten operations), then relevance against v.
  const pair = H * (dK + valueDimOf(dims) + 10);
  let total = (T - from) * dims.vocabSize * dims.width;
  for (let l = 0; l < L; l++) total += (T - from) * dims.layerParameters + keysSeen(from, T, reachOf(params.window, l, H)) * pair;
  return { pair, total };
}

interface Into {
  dims: ModelDims;
  T: number;
  from: number;
  binSize: number;
  bins: number;
  h: Float32Array;
  out: Omit<LayeredOutputs, 'needle' | 'surprisal' | 'sink'> & { passCount: Float32Array; totalRelevance: Float32Array };
}

/** Copies one screening call's outputs (every tile, queries start..start+rows, keys fed from keyStart) into the run's arrays. */
function storeScreening(res: Record<string, Output>, into: Into, at: { layer: number; start: number; rows: number; keys: number; keyStart: number }): void {
  const { heads: H, topK: K } = into.dims;
  const { T, binSize, bins, out } = into;
  const B = at.rows;
  const nb = at.keys / binSize;
  const NB = DISTANCE_BUCKETS.length;
  const QV = H * valueDimOf(into.dims);
  into.h.set(out32(res, 'h'), (at.start - into.from) * QV); // (B, H*dV): the rows' layout of the output graph
  const focus = out32(res, 'focus');
  const pass = out32(res, 'pass_count');
  const total = out32(res, 'total');
  const distance = out32(res, 'distance');
  const index = out64(res, 'topk_index');
  const top = out32(res, 'topk_relevance');
  const pooled = out32(res, 'pooled');
  const mass = out32(res, 'distance_mass');
  const words = new Int32Array(index.buffer, index.byteOffset, index.length * 2); // little-endian low words
  for (let h = 0; h < H; h++) {
    const lh = at.layer * H + h;
    for (let r = 0; r < B; r++) {
      const i = at.start + r;
      const src = h * B + r;
      out.focus[lh * T + i] = focus[src];
      out.passCount[lh * T + i] = pass[src];
      out.totalRelevance[lh * T + i] = total[src];
      out.distance[lh * T + i] = distance[src];
      for (let b = 0; b < NB; b++) out.distanceMass[(lh * T + i) * NB + b] = mass[src * NB + b];
      // Only keys that pass (relevance > 0) are top keys: rejected keys tie at 0 in any order.
      let w = (lh * T + i) * K;
      for (let kk = 0; kk < K; kk++) {
        const v = top[src * K + kk];
        if (!(v > 0)) break;
        out.topIndex[w] = words[2 * (src * K + kk)] + at.keyStart;
        out.topWeight[w++] = v;
      }
      const qBin = Math.floor(i / binSize);
      const skipped = at.keyStart / binSize;
      const cell = (lh * bins + qBin) * bins + skipped;
      const last = Math.min(nb, bins - skipped, qBin + 1 - skipped);
      for (let b = 0; b < last; b++) {
        const v = pooled[src * nb + b];
        if (v > out.pooled[cell + b]) out.pooled[cell + b] = v;
      }
    }
  }
}

/**
 * Runs a screening variant's graphs over spec.ids (spec.screening: the run's w and r). With
 * `resume`, only rows [resume.from, T) are computed, from the kept run's q, k, v and summaries.
 * Entropy is NaN (a relevance row is no distribution) and support -1 (undefined) for every query.
 */
export async function runScreening(spec: RunSpec, runGraph: RunGraph, hooks: RunHooks, resume?: Resume): Promise<{ outputs: LayeredOutputs; retained: RetainedKeys }> {
  const { dims, graphs, screening: params } = spec;
  if (!isScreening(graphs) || !params) throw new Error('runScreening needs a screening variant\'s graphs, windows and acceptance widths');
  const { layers: L, heads: H, headDim: dK, width: C, topK: K } = dims;
  const dV = valueDimOf(dims);
  const T = spec.ids.length;
  const from = resume?.from ?? 0;
  const N = T - from;
  const QK = H * dK;
  const QV = H * dV;
  const { binSize, bins } = poolingOf(T, dims.pooledSize);
  checkResume(resume, from, T, binSize);
  const diagPad = keysFor(K, K, binSize);
  const padded = keysFor(T, K, binSize) + diagPad;
  const work = screeningWork(dims, params, T, from);
  const call = progressCalls(runGraph, hooks, work.total);

  const ids = BigInt64Array.from(spec.ids, (id) => BigInt(id));
  const positions = new BigInt64Array(T);
  for (let t = 0; t < T; t++) positions[t] = BigInt(t);
  const rowBlock = Math.max(1, spec.linearRows);
  const x = await embedRows(call, graphs.embed, ids, positions, from, C, rowBlock);

  const LHT = L * H * T;
  const out = {
    focus: new Float32Array(LHT),
    entropy: new Float32Array(LHT).fill(NaN),
    distance: new Float32Array(LHT),
    topIndex: new Int32Array(LHT * K).fill(-1),
    topWeight: new Float32Array(LHT * K),
    pooled: new Float32Array(L * H * bins * bins),
    binSize,
    bins,
    distanceMass: new Float32Array(LHT * DISTANCE_BUCKETS.length),
    support: new Int32Array(LHT).fill(-1),
    passCount: new Float32Array(LHT),
    totalRelevance: new Float32Array(LHT),
  };
  const sink = new Float32Array(LHT);
  const surprisal = new Float32Array(T);
  if (resume) copyPrefix(resume.outputs, { ...out, surprisal, sink }, dims, from);
  const needle = spec.needle ? new Float32Array(L * H * (T - spec.needle.end)) : undefined;
  const h = new Float32Array(N * QV);
  const g = new Float32Array(N * QV);
  const into: Into = { dims, T, from, binSize, bins, h, out };
  const qBlock = new Float32Array(H * MAX_ATTENTION_ROWS * dK);
  const poolTemplate = f32(new Float32Array(binSize), [binSize]);
  // Per layer q (T x H*dK) and, padded with zero rows, k (H*dK) and v (H*dV) per key: a block's keys are one slice.
  const retained: RetainedKeys = { q: [], k: [], vkp: [], tokens: T };
  for (let l = 0; l < L; l++) {
    retained.q.push(new Float32Array(T * QK));
    retained.k.push([new Float32Array(padded * QK)]);
    retained.vkp.push([new Float32Array(padded * QV)]);
  }
  for (let l = 0; l < L; l++) {
    const q = retained.q[l];
    const [k] = retained.k[l];
    const [v] = retained.vkp[l];
    if (resume) {
      q.set(resume.keys.q[l].subarray(0, from * QK));
      k.set(resume.keys.k[l][0].subarray(0, from * QK));
      v.set(resume.keys.vkp[l][0].subarray(0, from * QV));
    }
    const window = params.window.subarray(l * H, (l + 1) * H);
    const tiles = { window: f32(window, [H]), acceptance: f32(params.acceptance.subarray(l * H, (l + 1) * H), [H]) };
    for (let a = from; a < T; a += rowBlock) {
      const e = Math.min(T, a + rowBlock);
      const res = await call(
        graphs.proj[l],
        { x: f32(x.subarray((a - from) * C, (e - from) * C), [e - a, C]), positions: i64(positions.subarray(a, e), [e - a]), window: tiles.window },
        ((e - a) * dims.layerParameters) / 2,
      );
      q.set(out32(res, 'q'), a * QK);
      k.set(out32(res, 'k'), a * QK);
      v.set(out32(res, 'v'), a * QV);
      g.set(out32(res, 'g'), (a - from) * QV);
    }
    // Blocks as a full run lays them out (a resumed run computes queries [from, e) of the block holding from), so
    // each block's keys start at the same bin in both.
    const reach = reachOf(params.window, l, H) ?? Infinity;
    for (let a = blockStart(from, T, H, K, spec.blockFloats); a < T; ) {
      const e = a + attentionRows(a, T, H, K, spec.blockFloats);
      const first = Math.max(a, from);
      const B = e - first;
      const { first: k0, end } = windowKeys(a, e, reach, K, binSize, diagPad);
      const qPos = new BigInt64Array(B);
      for (let r = 0; r < B; r++) qPos[r] = BigInt(first + r - k0);
      groupQueries(q, qBlock, { ...dims, kvHeads: 1 }, 0, first, B); // (H, B, dK)
      const res = await call(
        graphs.screening,
        {
          q: f32(qBlock.subarray(0, H * B * dK), [H, B, dK]),
          q_pos: i64(qPos, [B]),
          k: f32(k.subarray(k0 * QK, end * QK), [end - k0, H, dK]),
          v: f32(v.subarray(k0 * QV, end * QV), [end - k0, H, dV]),
          ...tiles,
          pool_template: poolTemplate,
        },
        (keysSeen(first, e, reach === Infinity ? null : reach) * work.pair),
      );
      storeScreening(res, into, { layer: l, start: first, rows: B, keys: end - k0, keyStart: k0 });
      a = e;
    }
    const layerKeys: ScreeningLayerKeys = { q, k, heads: H, headDim: dK, tokens: T, window, acceptance: params.acceptance.subarray(l * H, (l + 1) * H) };
    relevanceMass(layerKeys, { start: 0, end: 1 }, from).forEach((m, hh) => sink.set(m, (l * H + hh) * T + from));
    if (needle && spec.needle) {
      const n = T - spec.needle.end;
      relevanceMass(layerKeys, spec.needle, spec.needle.end).forEach((m, hh) => needle.set(m, (l * H + hh) * n));
    }
    for (let a = from; a < T; a += rowBlock) {
      const e = Math.min(T, a + rowBlock);
      const rows = (w: number): [number, number] => [(a - from) * w, (e - from) * w];
      const res = await call(
        graphs.out[l],
        { x: f32(x.subarray(...rows(C)), [e - a, C]), h: f32(h.subarray(...rows(QV)), [e - a, QV]), g: f32(g.subarray(...rows(QV)), [e - a, QV]) },
        ((e - a) * dims.layerParameters) / 2,
      );
      x.set(out32(res, 'x_out'), (a - from) * C);
    }
  }

  await headSurprisal(call, graphs.head, x, ids, from, surprisal, C, dims.vocabSize, rowBlock);
  hooks.progress(1);
  return { outputs: { ...out, surprisal, sink, needle }, retained };
}
