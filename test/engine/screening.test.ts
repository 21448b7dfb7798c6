// A screening variant (Multiscreen, training/screening.py) run by the engine against PyTorch:
// training/screening_fixture.py writes a small random Multiscreen (Psi = 4, training length 64;
// layer 0's windows all within 64 tokens, the other layers reach past it), training/export.py
// --screening adds it to a copy of the shipped folder, and training/reference.py --screening
// computes Multiscreen.forward's relevance maps with the engine's w rule (w = Infinity beyond 64
// tokens for tiles whose w exceeds 64), reduced in float64. Lengths 1, 5, 64 (the training length),
// 100 and 300, in the engine's blocks and in blocks of 8 rows (which skip key bins in layer 0).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DocumentSession } from '../../src/core/engine/document-session';
import type { LayeredOutputs, RunSpec } from '../../src/core/engine/layered-run';
import { BLOCK_FLOATS, LINEAR_ROWS } from '../../src/core/engine/memory-plan';
import { ModelRunner } from '../../src/core/engine/runner';
import { ModelWorker } from '../../src/core/engine/worker';
import type { ModelManifest } from '../../src/core/model/manifest';
import { modesOf, planMode, readManifest } from '../../src/core/model/manifest';
import { bestKeys } from '../../src/core/reading/span-mass';
import { keysInWindow } from '../../src/core/reading/relevance';
import { ROOT, longCode } from '../common/fixtures';
import { runPython, screeningModel } from '../common/screening-model';
import type { Nested } from '../common/reference-errors';
import { flat, maxError } from '../common/reference-errors';

const LENGTHS = [1, 5, 64, 100, 300];
const SPAN = { start: 2, end: 4 };

interface RefCase {
  surprisal: number[];
  focus: Nested;
  pass_count: Nested;
  total: Nested;
  distance: Nested;
  rows: Nested;
  topk_relevance: Nested;
  pooled: Nested;
  distance_mass: Nested;
  windows: Nested;
}

function idsOf(T: number, seed: number): Int32Array {
  let x = seed;
  return Int32Array.from({ length: T }, () => (x = (x * 1103515245 + 12345) % 2 ** 31) % 4096);
}

function queriesOf(T: number): number[] {
  return [...new Set([0, Math.floor(T / 3), T - 1])].sort((a, b) => a - b);
}

describe('screening variant: the engine against Multiscreen in PyTorch', function () {
  this.timeout(300_000);
  let dir: string;
  let model: string;
  let ckpt: string;
  let manifest: ModelManifest;
  const refs = new Map<number, RefCase>();
  const worker = new ModelWorker({ threads: 2 });

  function reference(ids: Int32Array, name: string): RefCase {
    const out = path.join(dir, `${name}.json`);
    const q = queriesOf(ids.length);
    runPython([path.join(ROOT, 'training', 'reference.py'), '--screening', ckpt, '--model-dir', model, '--ids', ids.join(','), '--queries', q.join(','), '--out', out]);
    return (JSON.parse(fs.readFileSync(out, 'utf8')) as { cases: RefCase[] }).cases[0];
  }

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-screening-'));
    ({ ckpt, model } = screeningModel(dir));
    manifest = readManifest(model);
    for (const T of LENGTHS) refs.set(T, reference(idsOf(T, T), `ref${T}`));
  });
  after(async () => {
    await worker.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const specOf = (tokens: Int32Array, blockFloats: number, linearRows: number): RunSpec => {
    const plan = planMode(manifest, 'screening', tokens.length);
    return { graphs: plan.graphs, dims: plan.dims, screening: plan.screening, ids: tokens, s: plan.s, ropeScale: plan.ropeScale, blockFloats, linearRows };
  };
  const blockings = [
    { name: "the engine's blocks", blockFloats: BLOCK_FLOATS, linearRows: LINEAR_ROWS },
    { name: 'blocks of 8 rows', blockFloats: 4 * 8 * 530, linearRows: 7 },
  ];

  it('reads the variant: its own dims, the mode offered, w = Infinity beyond the training length for tiles whose w exceeds it', () => {
    assert.ok(manifest.screening);
    assert.deepEqual(modesOf(manifest), ['softmax', 'ssmax', 'ssmax-posthoc', 'ministral3-scaling', 'logn-scaling', 'screening']);
    const d = manifest.screening.dims;
    assert.deepEqual([d.layers, d.heads, d.kvHeads, d.headDim, d.valueDim, d.width, d.attention], [4, 4, 4, 16, 64, 16, 'screening']);
    assert.equal(manifest.dims.layers, 6, 'the model keeps its own dims');
    const at64 = planMode(manifest, 'screening', 64).screening!.window;
    const at65 = planMode(manifest, 'screening', 65).screening!.window;
    assert.ok(at64.every(Number.isFinite));
    assert.deepEqual(Array.from(at65, (w, i) => (Number.isFinite(w) ? w : at64[i] > 64)), Array.from(at64, (w) => (w > 64 ? true : w)));
    assert.deepEqual(flat(refs.get(300)!.windows).map((w) => (w === null ? Infinity : w)).map(Number.isFinite), Array.from(at65, Number.isFinite));
  });

  for (const T of LENGTHS) {
    for (const b of blockings) {
      it(`T = ${T}, ${b.name}: relevance summaries, rows, sink, needle and surprisal within 1e-4 of PyTorch`, async () => {
        const c = refs.get(T)!;
        const { layers: L, heads: H, topK: K } = manifest.screening!.dims;
        const ids = idsOf(T, T);
        const queries = queriesOf(T);
        const spec = specOf(ids, b.blockFloats, b.linearRows);
        const { runId, outputs: out } = await worker.inspect(spec, { retain: true });
        const rows = await worker.rows(runId, spec, queries);
        assert.ok(rows && out.passCount && out.totalRelevance);
        const pass = out.passCount;
        const total = out.totalRelevance;
        const errors: Record<string, number> = {
          focus: maxError((i) => out.focus[i], flat(c.focus)),
          passCount: maxError((i) => pass[i], flat(c.pass_count)),
          totalRelevance: maxError((i) => total[i], flat(c.total)),
          distance: maxError((i) => out.distance[i], flat(c.distance)),
          rows: maxError((i) => rows[i], flat(c.rows)),
          topRelevance: maxError((i) => out.topWeight[i], flat(c.topk_relevance)),
          pooled: maxError((i) => out.pooled[i], flat(c.pooled)),
          distanceMass: maxError((i) => out.distanceMass[i], flat(c.distance_mass)),
          surprisal: maxError((i) => out.surprisal[i], c.surprisal),
        };
        const refRows = flat(c.rows);
        const refRow = (l: number, h: number, qi: number): number[] => refRows.slice(((l * H + h) * queries.length + qi) * T, ((l * H + h) * queries.length + qi + 1) * T);
        let sink = 0;
        let needle = 0;
        const span = T > SPAN.end ? await worker.needle(runId, spec.dims, SPAN, bestKeys(out.topIndex, K), out.focus, undefined, spec.screening) : null;
        for (let l = 0; l < L; l++) {
          for (let h = 0; h < H; h++) {
            queries.forEach((q, qi) => {
              const row = refRow(l, h, qi);
              sink = Math.max(sink, Math.abs(out.sink[(l * H + h) * T + q] - row[0]));
              if (span && q >= SPAN.end) needle = Math.max(needle, Math.abs(span[(l * H + h) * (T - SPAN.end) + q - SPAN.end] - row[SPAN.start] - row[SPAN.start + 1]));
            });
          }
        }
        Object.assign(errors, { sink, needle });
        for (const [name, err] of Object.entries(errors)) assert.ok(err <= 1e-4, `${name}: error ${err.toExponential(2)} > 1e-4 (all: ${JSON.stringify(errors)})`);
        checkTopKeys(out, L, H, K, T);
        assert.ok(out.entropy.every(Number.isNaN), 'entropy is undefined for relevance');
        assert.ok(out.support.every((s) => s === -1), 'support is undefined for relevance');
      });
    }
  }

  /** Top keys pass (relevance > 0), lie at or before their query, come best first, and their number is min(K, keys passing). */
  function checkTopKeys(out: LayeredOutputs, L: number, H: number, K: number, T: number): void {
    for (let lh = 0; lh < L * H; lh++) {
      for (let i = 0; i < T; i++) {
        let n = 0;
        for (let k = 0; k < K; k++) {
          const at = (lh * T + i) * K + k;
          if (out.topIndex[at] < 0) continue;
          n++;
          assert.ok(out.topIndex[at] <= i && out.topWeight[at] > 0);
          if (k > 0) assert.ok(out.topWeight[at] <= out.topWeight[at - 1]);
        }
        assert.equal(n, Math.min(K, out.passCount![lh * T + i]), `tile ${lh} query ${i}`);
      }
    }
  }

  it('an edit resumed from a kept run equals a full run of the edited tokens, beyond the training length, in blocks of 8 rows', async () => {
    const ids = idsOf(300, 300);
    const edited = ids.slice();
    edited[201] = (edited[201] + 1) % 4096;
    const b = blockings[1];
    const first = await worker.inspect(specOf(ids, b.blockFloats, b.linearRows), { retain: true });
    const resumed = await worker.inspect(specOf(edited, b.blockFloats, b.linearRows), { retain: true, resume: first.runId });
    assert.equal(resumed.reusedTokens, 200, 'resumed at the bin of the edit');
    const full = await worker.inspect(specOf(edited, b.blockFloats, b.linearRows), { retain: false });
    const a = resumed.outputs;
    const f = full.outputs;
    for (const name of ['focus', 'distance', 'topWeight', 'pooled', 'surprisal', 'sink', 'distanceMass', 'passCount', 'totalRelevance'] as const) {
      const x = a[name]!;
      const y = f[name]!;
      const worst = x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]) / Math.max(1, Math.abs(y[i]))), 0);
      assert.ok(worst <= 2e-5, `${name}: resumed differs from the full run by ${worst}`);
    }
    assert.deepEqual(Array.from(a.topIndex), Array.from(f.topIndex), 'top keys');
    // Crossing the training length changes the windows: a full run.
    const short = await worker.inspect(specOf(ids.slice(0, 60), b.blockFloats, b.linearRows), { retain: true });
    const long = await worker.inspect(specOf(ids.slice(0, 70), b.blockFloats, b.linearRows), { retain: true, resume: short.runId });
    assert.equal(long.reusedTokens, 0);
    assert.match(long.fullRunReason ?? '', /screening windows/);
  });

  it("through the runner: the variant's layers and tiles, relevance arrays, rows, zoom, an exact needle and the memory plan by the variant's dims", async () => {
    const runner = await ModelRunner.open(model);
    try {
      assert.ok(runner.modes.includes('screening'));
      const text = longCode(900);
      const session = new DocumentSession(runner);
      const insp = await session.inspect({ text, mode: 'screening', queryOffsets: [text.length - 1] });
      const T = insp.tokens.length;
      assert.ok(T > 64, `${T} tokens: beyond the training length`);
      assert.deepEqual([insp.model.layers, insp.model.heads, insp.model.headDim, insp.model.width], [4, 4, 16, 16]);
      assert.equal(insp.focus.length, 16 * T);
      assert.equal(insp.passCount?.length, 16 * T);
      assert.equal(insp.totalRelevance?.length, 16 * T);
      assert.equal(insp.queries[0].rows.length, 16 * T);
      assert.ok(insp.heads.every((h) => Number.isNaN(h.meanEntropy)));
      // The tiles' w (Infinity beyond the training length where w exceeds it) and r travel with the
      // inspection, and no query passes more keys than its tile's window reaches.
      const params = planMode(manifest, 'screening', T).screening!;
      assert.deepEqual(insp.screening, params);
      assert.ok(params.window.some((w) => w === Infinity) && params.window.some(Number.isFinite));
      for (let lh = 0; lh < 16; lh++) {
        for (let i = 0; i < T; i++) assert.ok(insp.passCount![lh * T + i] <= keysInWindow(i, params.window[lh]), `tile ${lh}, query ${i}`);
      }
      // The needle from kept keys equals the rows' relevance on the span.
      const span = { start: 10, end: 13 };
      const needle = await runner.needleFromKeys(insp, span);
      assert.ok(needle);
      const q = insp.queries[0];
      for (let lh = 0; lh < 16; lh++) {
        const want = q.rows[lh * T + 10] + q.rows[lh * T + 11] + q.rows[lh * T + 12];
        assert.ok(Math.abs(needle[lh * (T - 13) + q.token - 13] - want) < 1e-5, `tile ${lh}`);
      }
      const region = await runner.region(insp, { q0: T - 40, q1: T, k0: 0, k1: T }, { kind: 'head', layer: 1, head: 3 }, 64);
      assert.ok(region && region.data.some((v) => v > 0));
      // After the needle and zoom: a run of another mode replaces the kept keys.
      const softmax = await new DocumentSession(runner).inspect({ text, mode: 'softmax' });
      assert.equal(softmax.focus.length, 24 * T, 'the Softmax run keeps the model\'s 6 x 4 heads');
      assert.ok(insp.memory && softmax.memory && insp.memory.kept < softmax.memory.kept, 'a 4 x 4 x (16 + 64) variant keeps less than 6 x 4 x 48 heads');
    } finally {
      await runner.dispose();
    }
  });
});
