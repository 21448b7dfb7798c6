// The engine's llama4-scaling and logn-scaling modes on the shipped model against Softmax rows
// raised to the factor (q scaled by f multiplies the logits by f: w' = w^f / sum w^f).
import * as assert from 'node:assert/strict';
import { DocumentSession } from '../../src/core/engine/document-session';
import { queryFactor } from '../../src/core/model/length-rules';
import { ModelRunner } from '../../src/core/engine/runner';
import { planMode, readManifest } from '../../src/core/model/manifest';
import { MODEL_DIR, close, longCode } from '../common/fixtures';

describe('length-rule modes on the shipped model', function () {
  this.timeout(240_000);
  let runner: ModelRunner;
  before(async () => {
    runner = await ModelRunner.open(MODEL_DIR);
  });
  after(async () => {
    await runner.dispose();
  });

  it('every row equals the Softmax row raised to the position factor and renormalised, before and beyond the training context', async () => {
    const L = runner.model.trainContext;
    const text = longCode(4_000);
    const probe = await new DocumentSession(runner).inspect({ text, mode: 'softmax' });
    const T = probe.tokens.length;
    assert.ok(T > 2 * L + 2, `${T} tokens reach past twice the training context (${L})`);
    const picks = [5, L - 2, L - 1, L, 2 * L - 1, T - 1];
    const offsets = picks.map((t) => probe.tokens[t].start);
    const softmax = await new DocumentSession(runner).inspect({ text, mode: 'softmax', queryOffsets: offsets });
    for (const mode of ['llama4-scaling', 'logn-scaling'] as const) {
      const scaled = await new DocumentSession(runner).inspect({ text, mode, queryOffsets: offsets });
      const rule = planMode(readManifest(MODEL_DIR), mode, T).queryScaling!;
      const LH = runner.model.layers * runner.model.heads;
      softmax.queries.forEach((q, qi) => {
        const i = q.token;
        const f = queryFactor(rule, i);
        // Layer 0 only: later layers see the scaled attention's outputs, so their logits differ too.
        for (let h = 0; h < runner.model.heads; h++) {
          const w = q.rows.subarray(h * T, h * T + i + 1);
          let sum = 0;
          for (const v of w) sum += Math.pow(v, f);
          const got = scaled.queries[qi].rows.subarray(h * T, h * T + i + 1);
          for (let j = 0; j <= i; j++) close(got[j], Math.pow(w[j], f) / sum, 2e-5, `${mode} head ${h} query ${i} key ${j} (factor ${f})`);
        }
        if (f === 1) {
          // Factor 1 everywhere before: identical to Softmax in every layer.
          for (let h = 0; h < LH; h++) close(scaled.queries[qi].rows[h * T + i], q.rows[h * T + i], 1e-5, `${mode} head ${h} query ${i} unscaled`);
        }
      });
    }
  });
});
