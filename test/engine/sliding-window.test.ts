// Sliding-window layers (models.json "layerTypes"), every mode, against plain full attention in
// PyTorch with the same windows (training/reference.py --hf: graphs.reference masks keys j <= i - w).
// The model is the tiny Qwen2 fixture with its config made sliding in layer 0 (w = 16, layer_types)
// and full in layer 1, converted by the converter (src/core/convert), which writes layerTypes and
// bakes post-hoc SSMax's n = min(i + 1, w) into the sliding layer's qkv graph; the reference uses
// the same n. 400 tokens run in the engine's blocks and in blocks of 8-13 rows, whose windows
// start past skipped key bins.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { convertHfFolder } from '../../src/core/convert/convert-model';
import { DocumentSession } from '../../src/core/engine/document-session';
import type { LayeredOutputs, RunSpec } from '../../src/core/engine/layered-run';
import { BLOCK_FLOATS, LINEAR_ROWS } from '../../src/core/engine/memory-plan';
import { ModelRunner } from '../../src/core/engine/runner';
import { ModelWorker } from '../../src/core/engine/worker';
import type { ModelManifest } from '../../src/core/model/manifest';
import { planMode, readManifest } from '../../src/core/model/manifest';
import { inspectionHeadRoles } from '../../src/core/reading/head-roles';
import { bestKeys } from '../../src/core/reading/span-mass';
import { panelDocument } from '../../src/extension/panel-payload';
import type { Mode } from '../../src/shared/vocabulary';
import { ROOT, longCode } from '../common/fixtures';
import type { Nested } from '../common/reference-errors';
import { flat, maxError } from '../common/reference-errors';

const PYTHON = '/usr/bin/python3';
const W = 16;
const T = 400;
const QUERIES = [0, 14, 15, 16, 17, 120, 131, 250, 399];
const SPAN = { start: 112, end: 118 }; // in query 120's window, out of 131's and later ones'

interface RefCase {
  mode: Mode;
  surprisal: number[];
  focus: Nested;
  entropy: Nested;
  distance: Nested;
  rows: Nested;
  topk_weight: Nested;
  pooled: Nested;
  distance_mass: Nested;
  support: Nested;
  support_margin: Nested;
}

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${command} ${args.join(' ')}: ${r.stderr}`);
}

/** Largest |a - b| / max(1, |b|). */

describe('sliding-window layers: every mode against full attention with the same windows', function () {
  this.timeout(300_000);
  let dir: string;
  let manifest: ModelManifest;
  let ids: Int32Array;
  let cases: RefCase[];
  const worker = new ModelWorker({ threads: 2 });
  let hf: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-window-'));
    hf = path.join(dir, 'hf');
    fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'hf', 'qwen2'), hf, { recursive: true });
    const config = path.join(hf, 'config.json');
    const json = JSON.parse(fs.readFileSync(config, 'utf8')) as Record<string, unknown>;
    Object.assign(json, { use_sliding_window: true, sliding_window: W, layer_types: ['sliding_attention', 'full_attention'] });
    fs.writeFileSync(config, JSON.stringify(json));
    const model = path.join(dir, 'model');
    await convertHfFolder(hf, model, { attentionGraphs: path.join(ROOT, 'models') });
    manifest = readManifest(model);
    // Pseudo-random ids with repeats, so that duplicate and induction keys exist inside windows.
    let x = 7;
    ids = Int32Array.from({ length: T }, () => (x = (x * 1103515245 + 12345) % 2 ** 31) % 97);
    const out = path.join(dir, 'ref.json');
    run(PYTHON, [path.join(ROOT, 'training', 'reference.py'), '--hf', hf, '--model-dir', model, '--ids', ids.join(','), '--queries', QUERIES.join(','), '--out', out]);
    cases = (JSON.parse(fs.readFileSync(out, 'utf8')) as { cases: RefCase[] }).cases;
  });
  after(async () => {
    await worker.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const specOf = (mode: Mode, tokens: Int32Array, blockFloats: number, linearRows: number): RunSpec => {
    const plan = planMode(manifest, mode, tokens.length);
    return { graphs: plan.graphs, dims: manifest.dims, ids: tokens, s: plan.s, ropeScale: plan.ropeScale, queryScaling: plan.queryScaling, blockFloats, linearRows };
  };
  const blockings = [
    { name: "the engine's blocks", blockFloats: BLOCK_FLOATS, linearRows: LINEAR_ROWS },
    { name: 'blocks of 8-13 rows', blockFloats: 2 * 13 * 530, linearRows: 7 },
  ];

  it('reads the windows: layer 0 slides, layer 1 is full', () => {
    assert.deepEqual(manifest.dims.windows, [W, null]);
    assert.equal(cases.length, 4);
  });

  for (const mode of ['softmax', 'ssmax-posthoc', 'ministral3-scaling', 'logn-scaling'] as const) {
    for (const b of blockings) {
      it(`${mode}, ${b.name}: summaries, rows, sink, needle and surprisal within 1e-4 of the reference; keys only inside the window`, async () => {
        const c = cases.find((x) => x.mode === mode)!;
        const { layers: L, heads: H, topK: K } = manifest.dims;
        const spec = specOf(mode, ids, b.blockFloats, b.linearRows);
        const { runId, outputs: out } = await worker.inspect(spec, { retain: true });
        const rows = await worker.rows(runId, spec, QUERIES);
        assert.ok(rows);
        const errors: Record<string, number> = {
          focus: maxError((i) => out.focus[i], flat(c.focus)),
          entropy: maxError((i) => out.entropy[i], flat(c.entropy)),
          distance: maxError((i) => out.distance[i], flat(c.distance)),
          rows: maxError((i) => rows[i], flat(c.rows)),
          topk_weight: maxError((i) => out.topWeight[i], flat(c.topk_weight)),
          pooled: maxError((i) => out.pooled[i], flat(c.pooled)),
          surprisal: maxError((i) => out.surprisal[i], c.surprisal),
          distance_mass: maxError((i) => out.distanceMass[i], flat(c.distance_mass)),
        };
        // Sink and needle: exact weights on a few keys, against the reference's rows of the chosen queries.
        const refRows = flat(c.rows);
        const refRow = (l: number, h: number, qi: number): number[] => refRows.slice(((l * H + h) * QUERIES.length + qi) * T, ((l * H + h) * QUERIES.length + qi + 1) * T);
        const needle = await worker.needle(runId, manifest.dims, SPAN, bestKeys(out.topIndex, K), out.focus);
        assert.ok(needle);
        let sink = 0;
        let span = 0;
        for (let l = 0; l < L; l++) {
          for (let h = 0; h < H; h++) {
            QUERIES.forEach((q, qi) => {
              const row = refRow(l, h, qi);
              sink = Math.max(sink, Math.abs(out.sink[(l * H + h) * T + q] - row[0]));
              if (q >= SPAN.end) {
                const want = row.slice(SPAN.start, SPAN.end).reduce((a, v) => a + v, 0);
                span = Math.max(span, Math.abs(needle[(l * H + h) * (T - SPAN.end) + q - SPAN.end] - want));
                if (l === 0 && q - W + 1 >= SPAN.end) assert.equal(want, 0, 'the reference masks the window too');
              }
            });
          }
        }
        errors.sink = sink;
        errors.needle = span;
        for (const [name, err] of Object.entries(errors)) assert.ok(err <= 1e-4, `${name}: error ${err.toExponential(2)} > 1e-4 (all: ${JSON.stringify(errors)})`);
        checkKeys(out, L, H, K);
        checkSupport(c, out);
      });
    }
  }

  /** Every top key of layer 0 lies inside its query's window, and rows of layer 0 are 0 outside it (rows: checked against the reference). */
  function checkKeys(out: LayeredOutputs, L: number, H: number, K: number): void {
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < T; i++) {
          const lowest = l === 0 ? Math.max(0, i - W + 1) : 0;
          let n = 0;
          for (let k = 0; k < K; k++) {
            const key = out.topIndex[((l * H + h) * T + i) * K + k];
            if (key < 0) continue;
            n++;
            assert.ok(key >= lowest && key <= i, `layer ${l} head ${h} query ${i}: top key ${key} outside ${lowest}..${i}`);
          }
          assert.equal(n, Math.min(K, i + 1 - lowest), `layer ${l} head ${h} query ${i}: one top key per key seen, up to K`);
        }
      }
    }
  }

  /** Measured support sizes equal the reference's, or one apart where its running sum came within 1e-5 of 0.9. */
  function checkSupport(c: RefCase, out: LayeredOutputs): void {
    const want = flat(c.support);
    const margin = flat(c.support_margin);
    want.forEach((s, at) => {
      if ((at % T) % out.binSize !== 0) return;
      const ok = out.support[at] === s || (margin[at] < 1e-5 && Math.abs(out.support[at] - s) === 1);
      assert.ok(ok, `support of row ${at}: ${out.support[at]}, reference ${s}`);
      if (at < (T * manifest.dims.heads) && at % T >= W) assert.ok(s <= W, 'a sliding row holds at most W keys');
    });
  }

  it('an edit resumed from a kept run equals a full run of the edited tokens, in blocks of 8-13 rows', async () => {
    const edited = ids.slice();
    edited[301] = (edited[301] + 1) % 97;
    for (const mode of ['softmax', 'ssmax-posthoc'] as const) {
      const b = blockings[1];
      const first = await worker.inspect(specOf(mode, ids, b.blockFloats, b.linearRows), { retain: true });
      const resumed = await worker.inspect(specOf(mode, edited, b.blockFloats, b.linearRows), { retain: true, resume: first.runId });
      assert.equal(resumed.reusedTokens, 300, `${mode}: resumed at the bin of the edit`);
      const full = await worker.inspect(specOf(mode, edited, b.blockFloats, b.linearRows), { retain: false });
      const a = resumed.outputs;
      const f = full.outputs;
      for (const name of ['focus', 'entropy', 'distance', 'topWeight', 'pooled', 'surprisal', 'sink', 'distanceMass'] as const) {
        const worst = a[name].reduce((m, v, i) => Math.max(m, Math.abs(v - f[name][i]) / Math.max(1, Math.abs(f[name][i]))), 0);
        assert.ok(worst <= 2e-5, `${mode} ${name}: resumed differs from the full run by ${worst}`);
      }
      assert.deepEqual(Array.from(a.support), Array.from(f.support), `${mode}: support`);
      const keys = (o: LayeredOutputs): number[] => Array.from(o.topIndex).map((k, i) => (o.topWeight[i] > 1e-4 ? k : -2));
      assert.deepEqual(keys(a), keys(f), `${mode}: top keys`);
    }
  });

  it('an inspection through the runner names the windows, and its head roles and panel document hold them', async () => {
    const runner = await ModelRunner.open(path.join(dir, 'model'));
    try {
      const insp = await new DocumentSession(runner).inspect({ text: longCode(1500), mode: 'softmax' });
      assert.ok(insp.tokens.length > 4 * W);
      assert.deepEqual(insp.model.windows, [W, null]);
      const roles = inspectionHeadRoles(insp);
      assert.equal(roles.length, 8);
      assert.ok(roles.every((r) => Object.values(r.scores).every(Number.isFinite)));
      assert.deepEqual(panelDocument(insp, 'x').windows, [W, null]);
      // Past the window, layer 0 puts no weight on token 0.
      const H = insp.model.heads;
      for (let h = 0; h < H; h++) for (let i = W; i < insp.tokens.length; i++) assert.equal(insp.sink[h * insp.tokens.length + i], 0);
    } finally {
      await runner.dispose();
    }
  });
});
