// Exact needle and sink mass from kept q and k: equal to the full rows wherever both exist, in every
// mode, for every layer and head, both from the worker's kept keys and from a run of their own.
import * as assert from 'node:assert/strict';
import { DocumentSession } from '../../src/core/engine/document-session';
import type { Inspection } from '../../src/core/inspection-types';
import { ModelRunner, exactNeedle } from '../../src/core/engine/runner';
import { bestNeedleHead, needleFromRows } from '../../src/core/reading/needle';
import { MODES } from '../../src/shared/vocabulary';
import { MODEL_DIR, SHORT_CODE, allStarts, close } from '../common/fixtures';

describe('exact needle and sink mass (span-mass.ts)', function () {
  this.timeout(240_000);
  let runner: ModelRunner;
  const text = SHORT_CODE.slice(0, 500);

  before(async () => {
    runner = await ModelRunner.open(MODEL_DIR);
  });
  after(async () => {
    await runner.dispose();
  });

  /** An inspection holding full rows for every query. */
  async function everyRow(mode: (typeof MODES)[number]): Promise<Inspection> {
    const first = await new DocumentSession(runner).inspect({ text, mode });
    return new DocumentSession(runner).inspect({ text, mode, queryOffsets: allStarts(first.tokens) });
  }

  for (const mode of MODES) {
    it(`under ${mode}: the exact needle equals the full rows' sums for every head, from kept keys and from a run of its own`, async () => {
      const insp = await everyRow(mode);
      const T = insp.tokens.length;
      const LH = insp.model.layers * insp.model.heads;
      const rows = new Map(insp.queries.map((q) => [q.token, q.rows]));
      assert.equal(rows.size, T, 'full rows for every token');
      const span = { start: 20, end: 24 };
      const reference = needleFromRows(LH, T, rows, span);
      const kept = await exactNeedle(runner, insp, span, { text });
      assert.equal(kept.exact, true);
      for (let h = 0; h < LH; h++) {
        for (let p = 0; p < T - span.end; p++) close(kept.perHead[h][p], reference.perHead[h][p], 2e-5, `${mode} head ${h} query ${span.end + p} (kept keys)`);
      }
      // Another run replaces the kept keys: the needle then runs the window again.
      await new DocumentSession(runner).inspect({ text: text.slice(0, 300), mode: 'softmax' });
      assert.equal(await runner.needleFromKeys(insp, span), undefined, 'the worker no longer holds the keys');
      const rerun = await exactNeedle(runner, insp, span, { text });
      for (let h = 0; h < LH; h++) {
        for (let p = 0; p < T - span.end; p++) close(rerun.perHead[h][p], reference.perHead[h][p], 2e-5, `${mode} head ${h} query ${span.end + p} (own run)`);
      }
      // The top-k lower bound never exceeds it, and the best head holds the most mass.
      const best = bestNeedleHead(kept);
      const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
      for (let h = 0; h < LH; h++) assert.ok(mean(kept.perHead[h]) <= mean(kept.perHead[best]) + 1e-9);
      // Sink mass: the weight on token 0, for every query.
      for (let h = 0; h < LH; h++) {
        for (let i = 0; i < T; i++) close(insp.sink[h * T + i], rows.get(i)![h * T], 2e-5, `${mode} sink, head ${h} query ${i}`);
      }
    });
  }

  it('rejects a text that is not the inspected one', async () => {
    const insp = await new DocumentSession(runner).inspect({ text, mode: 'softmax' });
    await new DocumentSession(runner).inspect({ text: text.slice(0, 200), mode: 'softmax' });
    await assert.rejects(exactNeedle(runner, insp, { start: 3, end: 4 }, { text: 'z' + text }), /document changed/);
  });
});
