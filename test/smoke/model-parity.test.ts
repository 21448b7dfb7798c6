// The layered graphs run block by block (src/core/engine/layered-run.ts in the model worker) against
// plain full attention in PyTorch (training/reference.py: every T x T weight materialised), on fixed
// inputs: the smoke model trained by training/smoke.sh, and the shipped models in models/. Every
// output, every mode (the length-rule modes with their factors written in training/reference.py
// from the production formulas), within 1e-4; once with the engine's blocks and once with tiny blocks whose
// edges fall inside the sequence, so block boundaries are covered.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayeredOutputs, RunSpec } from '../../src/core/engine/layered-run';
import { BLOCK_FLOATS, LINEAR_ROWS } from '../../src/core/engine/memory-plan';
import { planMode, readManifest, ropeScaleFor } from '../../src/core/model/manifest';
import { ModelWorker } from '../../src/core/engine/worker';
import type { Mode } from '../../src/shared/vocabulary';
import type { Nested } from '../common/reference-errors';
import { flat, maxError } from '../common/reference-errors';

const root = path.join(__dirname, '..', '..', '..');
const smokeDir = path.join(root, 'training', 'runs', 'smoke');

interface RefCase {
  mode: Mode;
  ids: number[];
  queries: number[];
  ropeScale: number;
  surprisal: number[];
  focus: Nested;
  entropy: Nested;
  distance: Nested;
  rows: Nested;
  topk_weight: Nested;
  pooled: Nested;
  /** [layer][head][query][bucket] */
  distance_mass: Nested;
  /** [layer][head][query]: every query's support size, and how near 0.9 the running sums either side of it were. */
  support: Nested;
  support_margin: Nested;
}

function compareCase(c: RefCase, out: LayeredOutputs, rows: Float32Array, K: number): Record<string, number> {
  const T = c.ids.length;
  const errors: Record<string, number> = {};
  errors.focus = maxError((i) => out.focus[i], flat(c.focus));
  errors.entropy = maxError((i) => out.entropy[i], flat(c.entropy));
  // The graphs compute distance as q - sum(w * key position): a float32 subtraction of two numbers of
  // size q, so a few roundings of q * 2^-24 come on top of the relative 1e-4 (the reference sums
  // w * (q - k) directly). Beyond 1,000 tokens that allowance is what separates the two.
  const allowance = (i: number): number => (4 * (i % T)) / 2 ** 24;
  errors.distance = maxError((i) => out.distance[i], flat(c.distance), allowance);
  errors.rows = maxError((i) => rows[i], flat(c.rows));
  const refK = Math.min(K, T); // the reference lists only real keys
  errors.topk_weight = maxError((i) => out.topWeight[Math.floor(i / refK) * K + (i % refK)], flat(c.topk_weight));
  assert.equal(out.bins, ((c.pooled as Nested[][])[0][0] as Nested[]).length, 'pooled bins');
  errors.pooled = maxError((i) => out.pooled[i], flat(c.pooled));
  errors.surprisal = maxError((i) => out.surprisal[i], c.surprisal);
  errors.distance_mass = maxError((i) => out.distanceMass[i], flat(c.distance_mass));
  return errors;
}

/**
 * The measured support sizes (queries at multiples of the bin) against the reference's: equal, or
 * one apart where the reference's running sum came within 1e-5 of 0.9 (float32 rows may fall either side).
 */
function compareSupport(c: RefCase, out: LayeredOutputs): void {
  const T = c.ids.length;
  const want = flat(c.support);
  const margin = flat(c.support_margin);
  let measured = 0;
  want.forEach((s, at) => {
    if ((at % T) % out.binSize !== 0) return assert.equal(out.support[at], 0, `query ${at % T} is not measured`);
    measured++;
    const ok = out.support[at] === s || (margin[at] < 1e-5 && Math.abs(out.support[at] - s) === 1);
    assert.ok(ok, `support of row ${at}: ${out.support[at]}, reference ${s} (margin ${margin[at].toExponential(1)})`);
  });
  assert.equal(measured, (want.length / T) * Math.ceil(T / out.binSize), 'one query per bin measured');
}

function parity(label: string, modelDir: string, referenceFile: string): void {
  describe(`blocked ONNX vs full-attention PyTorch: ${label}`, function () {
    this.timeout(300_000);
    const worker = new ModelWorker({ threads: 2 });
    after(() => worker.dispose());

    it('has reference outputs from training/smoke.sh', () => {
      assert.ok(fs.existsSync(referenceFile), `${referenceFile} missing: training/smoke.sh did not write it`);
    });
    if (!fs.existsSync(referenceFile)) return;
    const ref = JSON.parse(fs.readFileSync(referenceFile, 'utf8')) as { cases: RefCase[] };
    const manifest = readManifest(modelDir);
    const H = manifest.dims.heads;
    const blockings = [
      { name: "the engine's blocks", blockFloats: BLOCK_FLOATS, linearRows: LINEAR_ROWS },
      { name: 'blocks of 8-13 rows', blockFloats: H * 13 * 530, linearRows: 7 },
    ];
    for (const c of ref.cases) {
      for (const b of blockings) {
        it(`${c.mode}, ${c.ids.length} tokens, RoPE base x${c.ropeScale}, ${b.name}: every output within 1e-4, the support sizes the reference counts`, async () => {
          const plan = planMode(manifest, c.mode, c.ids.length);
          assert.equal(plan.ropeScale, c.ropeScale, 'the engine applies the RoPE rule the reference used');
          const spec: RunSpec = { graphs: plan.graphs, dims: manifest.dims, ids: Int32Array.from(c.ids), s: plan.s, ropeScale: plan.ropeScale, queryScaling: plan.queryScaling, ...b };
          const { runId, outputs } = await worker.inspect(spec, { retain: true });
          const rows = await worker.rows(runId, spec, c.queries);
          assert.ok(rows, 'the worker keeps the run for rows');
          const errors = compareCase(c, outputs, rows, manifest.dims.topK);
          for (const [name, err] of Object.entries(errors)) {
            assert.ok(err <= 1e-4, `${name}: error ${err.toExponential(2)} > 1e-4 (all: ${JSON.stringify(errors)})`);
          }
          compareSupport(c, outputs);
        });
      }
    }
  });
}

parity('smoke model', path.join(smokeDir, 'model'), path.join(smokeDir, 'reference.json'));
parity('shipped models', path.join(root, 'models'), path.join(smokeDir, 'shipped-reference.json'));

describe('shipped models: SSMax changes the attention', () => {
  it('the learned s differ from the initial 1/ln(training context), and the modes give different focus', () => {
    const ref = JSON.parse(fs.readFileSync(path.join(smokeDir, 'shipped-reference.json'), 'utf8')) as { cases: RefCase[] };
    const manifest = readManifest(path.join(root, 'models'));
    const s = [...(manifest.ssmax?.s ?? [])];
    assert.equal(s.length > 0, true);
    assert.ok(s.some((v) => Math.abs(v - manifest.posthocS) > 0.01), `learned s: ${s}`);
    const beyond = ref.cases.filter((c) => c.ids.length > manifest.info.trainContext);
    assert.ok(new Set(beyond.map((c) => c.ropeScale)).size >= 2, 'cases beyond the training context in two bands of the RoPE rule');
    assert.ok(beyond.every((c) => c.ropeScale === ropeScaleFor(manifest, c.ids.length) && c.ropeScale > 1), 'each scaled as the engine scales it');
    const long = ref.cases.filter((c) => c.ids.length === 100);
    const soft = flat(long.find((c) => c.mode === 'softmax')!.focus);
    const post = flat(long.find((c) => c.mode === 'ssmax-posthoc')!.focus);
    assert.ok(soft.some((v, i) => Math.abs(v - post[i]) > 1e-3), 'ssmax-posthoc must differ from softmax away from the training context');
  });
});
