// Fading metrics on the shipped model, against full rows.
import * as assert from 'node:assert/strict';
import { DocumentSession } from '../../src/core/engine/document-session';
import { headFading, supportSizes } from '../../src/core/reading/fading-metrics';
import { ModelRunner } from '../../src/core/engine/runner';
import { MODEL_DIR, SHORT_CODE, allStarts, close } from '../common/fixtures';

describe('fading metrics on the shipped model', function () {
  this.timeout(120_000);
  let runner: ModelRunner;
  before(async () => {
    runner = await ModelRunner.open(MODEL_DIR);
  });
  after(async () => {
    await runner.dispose();
  });

  it('the exact metrics match full rows: entropy ratio from -sum w ln w, sink mass from key 0; support size where the top k hold 90 %', async () => {
    const text = SHORT_CODE.slice(0, 400);
    const first = await new DocumentSession(runner).inspect({ text, mode: 'ssmax' });
    const insp = await new DocumentSession(runner).inspect({ text, mode: 'ssmax', queryOffsets: allStarts(first.tokens) });
    const n = insp.tokens.length;
    const LH = insp.model.layers * insp.model.heads;
    const f = headFading(insp);
    const support = supportSizes({ heads: LH, tokens: n, k: insp.model.topK, index: insp.topIndex, weight: insp.topWeight });
    for (let hh = 0; hh < LH; hh++) {
      let ratio = 0;
      let sink = 0;
      for (let i = 1; i < n; i++) {
        const row = insp.queries[i].rows.subarray(hh * n, hh * n + i + 1);
        const e = -row.reduce((s, w) => (w > 0 ? s + w * Math.log(w) : s), 0);
        ratio += e / Math.log(i + 1);
        sink += row[0];
        // Support from the full row, where the top k hold 90 %.
        if (support[hh * n + i] <= insp.model.topK) {
          const sorted = Array.from(row).sort((a, b) => b - a);
          let s = 0;
          let m = 0;
          while (s < 0.9 - 1e-6) s += sorted[m++];
          assert.equal(support[hh * n + i], m, `head ${hh} query ${i} support`);
        }
      }
      close(f[hh].entropyRatio, ratio / (n - 1), 1e-4, `head ${hh} entropy ratio`);
      close(f[hh].sinkMass, sink / (n - 1), 1e-5, `head ${hh} sink mass`);
    }
  });
});
