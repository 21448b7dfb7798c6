// Exact needle and sink mass from kept q and k: equal to the full rows' weights, in every mode, for
// every layer and head, both from the worker's kept keys and from a run of their own; at about 1,100
// tokens, so that beyond the training context (512) every mode's logit factor differs from 1 and the
// kept q must carry it.
import * as assert from 'node:assert/strict';
import { DocumentSession } from '../../src/core/engine/document-session';
import { ModelRunner, exactNeedle } from '../../src/core/engine/runner';
import { bestNeedleHead } from '../../src/core/reading/needle';
import { modesOf, readManifest } from '../../src/core/model/manifest';
import { MODEL_DIR, SHORT_CODE, close, longCode } from '../common/fixtures';
import { referenceFactors } from '../common/reference-factors';

describe('exact needle and sink mass (span-mass.ts)', function () {
  this.timeout(240_000);
  let runner: ModelRunner;
  const text = longCode(4_200);

  before(async () => {
    runner = await ModelRunner.open(MODEL_DIR);
  });
  after(async () => {
    await runner.dispose();
  });

  // Every mode the shipped folder offers (its models.json: the attention modes; screening has its own test).
  for (const mode of modesOf(readManifest(MODEL_DIR)).filter((m) => m !== 'screening')) {
    it(`under ${mode}, beyond the training context: the exact needle and sink equal the full rows' weights for every head, from kept keys and from a run of its own`, async () => {
      const first = await new DocumentSession(runner).inspect({ text, mode });
      const T = first.tokens.length;
      const L = runner.model.trainContext;
      assert.ok(T >= 1_100 && !first.windowed, `${T} tokens, all inspected`);
      const span = { start: 20, end: 24 };
      // Full rows for every third query and the rules' steps: L - 1, L, 2L - 1, 2L, the last.
      const picks = new Set([L - 1, L, 2 * L - 1, 2 * L, T - 1]);
      for (let i = span.end; i < T; i += 3) picks.add(i);
      const insp = await new DocumentSession(runner).inspect({ text, mode, queryOffsets: [...picks].map((i) => first.tokens[i].start) });
      const LH = insp.model.layers * insp.model.heads;
      const rows = new Map(insp.queries.map((q) => [q.token, q.rows]));
      assert.deepEqual([...rows.keys()].sort((a, b) => a - b), [...picks].sort((a, b) => a - b), 'full rows for every pick');
      if (mode !== 'softmax') {
        // Log-n and post-hoc SSMax differ from 1 by only 3e-4 at L, by 11 % from 2L; a few learned
        // SSMax s come near 1 at 2L.
        for (const i of [L, 2 * L, T - 1]) {
          const margin = i < 2 * L || mode === 'ssmax' ? 1e-4 : 0.05;
          assert.ok(referenceFactors(MODEL_DIR, mode, i).every((f) => Math.abs(f - 1) > margin), `${mode} scales query ${i}`);
        }
      }
      /** Each picked query's full-row weight on the span, per head. */
      const reference = (h: number, i: number): number => {
        let m = 0;
        for (let j = span.start; j < span.end; j++) m += rows.get(i)![h * T + j];
        return m;
      };
      const kept = await exactNeedle(runner, insp, span, { text });
      assert.equal(kept.exact, true);
      for (let h = 0; h < LH; h++) {
        for (const i of picks) close(kept.perHead[h][i - span.end], reference(h, i), 2e-5, `${mode} head ${h} query ${i} (kept keys)`);
      }
      // Another run replaces the kept keys: the needle then runs the window again.
      await new DocumentSession(runner).inspect({ text: text.slice(0, 300), mode: 'softmax' });
      assert.equal(await runner.needleFromKeys(insp, span), undefined, 'the worker no longer holds the keys');
      const rerun = await exactNeedle(runner, insp, span, { text });
      for (let h = 0; h < LH; h++) {
        for (const i of picks) close(rerun.perHead[h][i - span.end], reference(h, i), 2e-5, `${mode} head ${h} query ${i} (own run)`);
      }
      // The top-k lower bound never exceeds it, and the best head holds the most mass.
      const best = bestNeedleHead(kept);
      const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
      for (let h = 0; h < LH; h++) assert.ok(mean(kept.perHead[h]) <= mean(kept.perHead[best]) + 1e-9);
      // Sink mass: the weight on token 0.
      for (let h = 0; h < LH; h++) {
        for (const i of picks) close(insp.sink[h * T + i], rows.get(i)![h * T], 2e-5, `${mode} sink, head ${h} query ${i}`);
      }
    });
  }

  it('rejects a text that is not the inspected one', async () => {
    const short = SHORT_CODE.slice(0, 500);
    const insp = await new DocumentSession(runner).inspect({ text: short, mode: 'softmax' });
    await new DocumentSession(runner).inspect({ text: short.slice(0, 200), mode: 'softmax' });
    await assert.rejects(exactNeedle(runner, insp, { start: 3, end: 4 }, { text: 'z' + short }), /document changed/);
  });
});
