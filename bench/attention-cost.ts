// What this folder's attention graphs add to a run against another set with the same inputs,
// measured in one process so that a shared machine's load falls on both sides alike: every
// attention call of a softmax run goes to this folder's graph and to the OTHER graph of the same
// name, on the same feeds, alternating which goes first; the support counting of storeBlock is
// timed afterwards on the rows the run returned. Two uses (bench/README.md):
// - OTHER = the contract-2 graphs: what the exact fading outputs (distance_mass, sample_rows and
//   the support counting) cost;
//     git show 15fc9a0:models/attention.onnx > OTHER/attention.onnx   (the same for attention-split.onnx)
// - OTHER = the floor graphs (y alone: /usr/bin/python3 bench/attention_floor.py OTHER): what
//   every summary costs, and the run without them.
//
//   node dist/attention-cost.js OTHER 1000,4000 [runs]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLayered } from '../src/core/engine/layered-run';
import { BLOCK_FLOATS, LINEAR_ROWS } from '../src/core/engine/memory-plan';
import { planMode, readManifest } from '../src/core/model/manifest';
import { attentionGraphs } from '../src/core/model/graphs';
import { Tokenizer } from '../src/core/model/tokenizer';
import { DISTANCE_BUCKETS } from '../src/core/reading/fading-metrics';
import { SUPPORT_SHARE, supportOfRow, supportOfTop, supportSampled } from '../src/core/reading/support-size';
import { Sessions } from './profile';

const ROOT = path.join(__dirname, '..');
const MODELS = path.join(ROOT, 'models');

interface Sampled {
  rows: Float32Array;
  keys: number;
  first: number;
  B: number;
  top: Float32Array;
  mass: Float32Array;
}

/** The support counting of storeBlock over a run's sampled rows, ms. */
function supportMs(blocks: Sampled[], K: number, bin: number): number {
  const NB = DISTANCE_BUCKETS.length;
  const t0 = performance.now();
  for (const b of blocks) {
    const queries = Array.from({ length: b.B }, (_, r) => b.first + r).filter((i) => supportSampled(i, bin));
    const G = queries.length === 0 ? 0 : b.rows.length / (queries.length * b.keys);
    for (let g = 0; g < G; g++) {
      queries.forEach((i, s) => {
        const src = g * b.B + (i - b.first);
        let total = 0;
        for (let k = 0; k < NB; k++) total += b.mass[src * NB + k];
        return supportOfTop(b.top, src * K, K, total, SUPPORT_SHARE) || supportOfRow(b.rows, (g * queries.length + s) * b.keys, i + 1, SUPPORT_SHARE);
      });
    }
  }
  return performance.now() - t0;
}

async function main(argv: string[]): Promise<void> {
  const [other, lengths, runs] = [argv[0], (argv[1] ?? '1000,4000').split(',').map(Number), Number(argv[2] ?? 5)];
  if (!other || !fs.existsSync(path.join(other, 'attention-split.onnx'))) throw new Error('usage: attention-cost OTHER_GRAPH_DIR [lengths] [runs]');
  const manifest = readManifest(MODELS);
  const tokenizer = Tokenizer.fromFile(path.join(MODELS, 'tokenizer.json'));
  let text = '';
  for (const f of ['src/core/engine/layered-run.ts', 'src/core/reading/fading-metrics.ts', 'training/graphs.py', 'README.md', 'models/README.md']) text += fs.readFileSync(path.join(ROOT, f), 'utf8');
  const all = (await tokenizer.encode(text)).ids;
  const sessions = new Sessions();
  for (const T of lengths) {
    const plan = planMode(manifest, 'softmax', T);
    const spec = { graphs: plan.graphs, dims: manifest.dims, ids: all.slice(0, T), s: plan.s, ropeScale: plan.ropeScale, blockFloats: BLOCK_FLOATS, linearRows: LINEAR_ROWS };
    const attention = new Set([attentionGraphs(plan.graphs).attention, attentionGraphs(plan.graphs).attentionSplit]);
    const bin = Math.ceil(T / manifest.dims.pooledSize);
    const shares: number[] = [];
    const parts: { run: number; added: number; js: number }[] = [];
    for (let r = 0; r <= runs; r++) {
      let added = 0;
      let otherMs = 0;
      let first = false;
      const blocks: Sampled[] = [];
      const t0 = performance.now();
      await runLayered(
        spec,
        async (graph, feeds) => {
          if (!attention.has(graph)) return (await sessions.run(graph, feeds)).out;
          const otherGraph = path.join(other, path.basename(graph));
          first = !first;
          const o1 = first ? (await sessions.run(otherGraph, feeds)).ms : 0;
          const now = await sessions.run(graph, feeds);
          const o2 = first ? 0 : (await sessions.run(otherGraph, feeds)).ms;
          otherMs += o1 + o2;
          added += now.ms - o1 - o2;
          const q = feeds.q_pos.data as BigInt64Array;
          const o = now.out;
          blocks.push({ rows: o.sample_rows.data as Float32Array, keys: o.sample_rows.dims[2], first: Number(q[0]), B: q.length, top: o.topk_weight.data as Float32Array, mass: o.distance_mass.data as Float32Array });
          return o;
        },
        { progress: () => undefined, cancelled: () => false },
      );
      const run = performance.now() - t0 - otherMs;
      const js = supportMs(blocks, manifest.dims.topK, bin);
      if (r === 0) continue; // warm-up
      parts.push({ run, added, js });
      shares.push((added + js) / run);
    }
    const med = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
    console.log(
      `${T} tokens, softmax, ${runs} runs (load ${os.loadavg()[0].toFixed(2)}): run ${med(parts.map((p) => p.run)).toFixed(0)} ms; ` +
        `graphs +${med(parts.map((p) => p.added)).toFixed(0)} ms, support counting ${med(parts.map((p) => p.js)).toFixed(0)} ms; ` +
        `share of the run: median ${pct(med(shares))}, range ${pct(Math.min(...shares))}-${pct(Math.max(...shares))}; ` +
        `the run without both: ${med(parts.map((p) => p.run - p.added - p.js)).toFixed(0)} ms`,
    );
  }
  await sessions.release();
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
