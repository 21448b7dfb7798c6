// The memory plan on real runs: the estimate bounds the measured peak, the budget windows a document
// that would not fit (with the reason in the inspection), the worker's kept run fits its bound, and progress and
// cancellation move during one run.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { DocumentSession } from '../../src/core/engine/document-session';
import type { LayeredOutputs, RetainedKeys, RunGraph, RunSpec } from '../../src/core/engine/layered-run';
import { runLayered } from '../../src/core/engine/layered-run';
import { BLOCK_FLOATS, LINEAR_ROWS, inspectionBytes, keptBytes, tokensWithin } from '../../src/core/engine/memory-plan';
import { ModelWorker } from '../../src/core/engine/worker';
import { planMode, readManifest } from '../../src/core/model/manifest';
import { ModelRunner } from '../../src/core/engine/runner';
import { MODEL_DIR, ROOT, longCode } from '../common/fixtures';

const MB = 1024 * 1024;
const dims = readManifest(MODEL_DIR).dims;

describe('memory plan on real runs', function () {
  this.timeout(180_000);

  it('bounds the measured extra peak of an inspection at 8,000 tokens in Softmax and SSMax, each in a fresh process', () => {
    // The bench's memory child: graphs loaded first, then one inspection as the editor asks for it;
    // the peak RSS (VmHWM, reset after a full GC) above the RSS before it. A memory bound, not a timing.
    for (const mode of ['softmax', 'ssmax']) {
      const r = spawnSync(process.execPath, ['--expose-gc', path.join(ROOT, 'dist', 'bench.js'), '--memory-child', '8000', mode, MODEL_DIR], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const m = JSON.parse(r.stdout) as { extraMB: number; plan: { plannedMB: number } };
      assert.ok(m.extraMB <= m.plan.plannedMB, `${mode}: measured ${m.extraMB.toFixed(0)} MB > plan ${m.plan.plannedMB} MB`);
    }
  });

  it('a document that does not fit the budget is inspected in a window that does, and says why', async () => {
    const budget = 300 * MB;
    const runner = await ModelRunner.open(MODEL_DIR, () => undefined, { memoryBudgetBytes: budget });
    try {
      const text = longCode(120_000);
      const insp = await new DocumentSession(runner).inspect({ text, mode: 'softmax', maxTokens: 1_000_000, centerOffset: 60_000 });
      assert.equal(insp.windowed, true);
      assert.ok(insp.tokens.length < insp.documentTokens);
      assert.equal(insp.tokens.length, tokensWithin(dims, 1_000_000, budget, runner.tokenizeChars));
      assert.ok((insp.memory?.plannedMB ?? Infinity) * MB <= budget, 'the plan of the run fits');
      assert.match(insp.windowReason ?? '', /the memory budget \(300 MB fits [\d,]+ tokens\)/);
      assert.ok(insp.range.start <= 60_000 && 60_000 <= insp.range.end, 'the window holds the focus');
    } finally {
      await runner.dispose();
    }
  });

  it("cached inspections of every document count: a run that needs the room drops the least recently used, another document's first", async () => {
    const text = (i: number): string => `${longCode(1_500)}\n# document ${i}\n`;
    const probe = await ModelRunner.open(MODEL_DIR);
    let plan: number;
    let bytes: number;
    try {
      const insp = await new DocumentSession(probe).inspect({ text: text(0), mode: 'softmax' });
      assert.equal(insp.memory?.cachedMB, 0, 'nothing cached before the first run');
      plan = (insp.memory?.plannedMB ?? NaN) * MB;
      bytes = inspectionBytes(insp);
    } finally {
      await probe.dispose();
    }
    // Room for one run beside one and a half cached inspections.
    const lines: string[] = [];
    const runner = await ModelRunner.open(MODEL_DIR, (l) => lines.push(l), { memoryBudgetBytes: Math.ceil(plan + 1.5 * bytes) });
    try {
      const a = new DocumentSession(runner);
      const b = new DocumentSession(runner);
      await a.inspect({ text: text(1), mode: 'softmax' });
      await b.inspect({ text: text(2), mode: 'softmax' });
      assert.equal(a.cachedBytes + b.cachedBytes, 2 * bytes, 'one cached inspection beside a run fits: nothing dropped yet');
      assert.ok(a.cached({ text: text(1), mode: 'softmax' }), 'A is used again: B holds the least recently used now');
      const third = await a.inspect({ text: text(1), mode: 'ssmax' });
      assert.ok(!b.cached({ text: text(2), mode: 'softmax' }), "B's inspection, the least recently used, was dropped");
      assert.ok(a.cached({ text: text(1), mode: 'softmax' }), "A's was kept");
      assert.ok(Math.abs((third.memory?.cachedMB ?? NaN) - bytes / MB) < 0.1, `the run says what stays cached beside it: ${third.memory?.cachedMB} MB`);
      assert.ok(lines.some((l) => /dropped the 1 least recently used cached inspections/.test(l)), lines.join('\n'));
      await b.inspect({ text: text(2), mode: 'softmax' });
      // (Each cached() lookup counts as a use: A's Softmax one was used last, above.)
      assert.ok(!a.cached({ text: text(1), mode: 'ssmax' }) && a.cached({ text: text(1), mode: 'softmax' }), "A's least recently used one made room");
      b.dispose();
      await a.inspect({ text: text(3), mode: 'softmax' });
      assert.ok(a.cached({ text: text(1), mode: 'softmax' }), "a disposed session's cache no longer counts: A's stays beside the run");
    } finally {
      await runner.dispose();
    }
  });

  it('a budget below what any inspection needs is a clear error', async () => {
    const runner = await ModelRunner.open(MODEL_DIR, () => undefined, { memoryBudgetBytes: 8 * MB });
    try {
      await assert.rejects(new DocumentSession(runner).inspect({ text: 'x = 1', mode: 'softmax' }), /memory budget \(8 MB\) is below the \d+ MB any inspection/);
    } finally {
      await runner.dispose();
    }
  });
});

describe('progress and cancellation during one run', function () {
  this.timeout(180_000);
  let runner: ModelRunner;
  before(async () => {
    runner = await ModelRunner.open(MODEL_DIR);
  });
  after(() => runner.dispose());

  it('reports increasing progress that ends at 1', async () => {
    const seen: number[] = [];
    await new DocumentSession(runner).inspect({ text: longCode(12_000), mode: 'ssmax' }, undefined, (done) => seen.push(done));
    assert.ok(seen.length >= 3, `progress reports: ${seen.length}`);
    assert.ok(seen.every((v, i) => i === 0 || v >= seen[i - 1]), 'never goes back');
    assert.equal(seen[seen.length - 1], 1);
  });

  it('an abort after the first progress stops the run before it ends; the next run works', async () => {
    const session = new DocumentSession(runner);
    const ac = new AbortController();
    const seen: number[] = [];
    const run = session.inspect({ text: longCode(30_000), mode: 'softmax' }, ac.signal, (done) => {
      seen.push(done);
      if (seen.length === 1) ac.abort();
    });
    await assert.rejects(run, (err: Error) => err.name === 'AbortError');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen.every((v) => v < 1), `the run stopped before its end (last progress ${seen[seen.length - 1]})`);
    assert.equal((await session.inspect({ text: 'x = 1', mode: 'softmax' })).tokens.length > 0, true);
  });
});

describe('what the worker keeps of a retained run', function () {
  this.timeout(180_000);
  const manifest = readManifest(MODEL_DIR);
  let worker: ModelWorker;
  before(() => {
    worker = new ModelWorker();
  });
  after(() => worker.dispose());

  const spec = (ids: Int32Array): RunSpec => {
    const plan = planMode(manifest, 'ssmax', ids.length);
    return { graphs: plan.graphs, dims, ids, s: plan.s, ropeScale: plan.ropeScale, blockFloats: BLOCK_FLOATS, linearRows: LINEAR_ROWS };
  };
  const bytesOf = (keys: RetainedKeys, outputs: LayeredOutputs): number =>
    [...keys.q, ...keys.k.flat(), ...keys.vkp.flat(), outputs.focus, outputs.entropy, outputs.distance, outputs.topIndex, outputs.topWeight, outputs.pooled, outputs.surprisal, outputs.sink, outputs.distanceMass, outputs.support].reduce(
      (sum, a) => sum + a.byteLength,
      0,
    ) + keys.tokens * 4; // the ids

  it('is within keptBytes, for a full run and for a run that resumed from it', async () => {
    // The same layered run the worker does, here, with each graph call sent to the worker.
    const runGraph: RunGraph = (graph, feeds) => worker.runGraph(graph, feeds);
    const hooks = { progress: () => undefined, cancelled: () => false };
    for (const T of [300, 1100]) {
      const ids = Int32Array.from({ length: T }, (_, i) => 1 + ((i * 7) % 200));
      const first = await runLayered(spec(ids), runGraph, hooks);
      assert.ok(bytesOf(first.retained, first.outputs) <= keptBytes(dims, T), `${T} tokens: ${bytesOf(first.retained, first.outputs)} > ${keptBytes(dims, T)}`);
      const longer = Int32Array.from({ length: T + 3 }, (_, i) => (i < T ? ids[i] : 5));
      const from = Math.floor((T - 1) / first.outputs.binSize) * first.outputs.binSize;
      const resumed = await runLayered(spec(longer), runGraph, hooks, { keys: first.retained, outputs: first.outputs, from });
      assert.ok(bytesOf(resumed.retained, resumed.outputs) <= keptBytes(dims, T + 3));
    }
  });
});
