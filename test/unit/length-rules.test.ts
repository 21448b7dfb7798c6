// The production length rules as post-hoc modes: the factors against the formulas in the source
// of the models that ship them (the modes on the shipped model: test/engine/length-rules.test.ts).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lognFactor, ministral3Factor, queryFactor, scaleQueries } from '../../src/core/model/length-rules';
import { planMode, readManifest } from '../../src/core/model/manifest';
import { MODEL_DIR, close } from '../common/fixtures';
import { llama4Reference, ministral3Reference, qwenLognList } from '../common/reference-factors';

describe('length rules (length-rules.ts)', () => {
  it("ministral3-scaling equals Ministral 3's formula at every position, across the floor steps", () => {
    for (const [beta, L] of [
      [0.1, 8192],
      [0.1, 512],
      [0.25, 7],
    ]) {
      for (let p = 0; p < 5 * L + 3; p += L > 100 ? 17 : 1) close(ministral3Factor(p, beta, L), ministral3Reference(p, beta, L), 1e-12, `p ${p} beta ${beta} L ${L}`);
      for (const p of [L - 2, L - 1, L, 2 * L - 1, 2 * L]) close(ministral3Factor(p, beta, L), ministral3Reference(p, beta, L), 1e-12, `step at ${p}`);
    }
  });

  it("ministral3-scaling steps at i = L and 2L, where floor(i / L) does; Llama 4's floor((i + 1) / L) steps one position earlier", () => {
    const [beta, L] = [0.1, 512];
    const cases: [number, number, number][] = [
      // [i, floor(i / L), floor((i + 1) / L)]
      [L - 1, 0, 1],
      [L, 1, 1],
      [2 * L - 1, 1, 2],
      [2 * L, 2, 2],
    ];
    for (const [i, ministral3, llama4] of cases) {
      close(ministral3Factor(i, beta, L), 1 + beta * Math.log(1 + ministral3), 1e-15, `i = ${i}`);
      close(llama4Reference(i, beta, L), 1 + beta * Math.log(1 + llama4), 1e-15, `Llama 4 at i = ${i}`);
    }
    assert.equal(ministral3Factor(L - 1, beta, L), 1, 'the last position of the training context is unscaled');
    assert.notEqual(ministral3Factor(L - 1, beta, L), llama4Reference(L - 1, beta, L), 'not Llama 4 at L - 1');
    assert.notEqual(ministral3Factor(2 * L - 1, beta, L), llama4Reference(2 * L - 1, beta, L), 'not Llama 4 at 2L - 1');
  });

  it("logn-scaling equals Qwen-1's logn_list indexed by the 0-based position", () => {
    for (const L of [2048, 512, 5]) {
      const list = qwenLognList(L, 4 * L);
      list.forEach((v, p) => close(lognFactor(p, L), v, 1e-12, `p ${p} L ${L}`));
    }
    // max(1, ln(i + 1) / ln L) at the same steps: 1 through i = L - 1, then growing by position.
    const L = 512;
    assert.equal(lognFactor(L - 1, L), 1);
    for (const i of [L, 2 * L - 1, 2 * L]) close(lognFactor(i, L), Math.log(i + 1) / Math.log(L), 1e-15, `i = ${i}`);
    close(lognFactor(2 * L - 1, L), 10 / 9, 1e-15, 'ln 1024 / ln 512');
  });

  it('scaleQueries multiplies each row of q by its position factor (constructed q)', () => {
    const width = 3;
    const rows = 6;
    const first = 510;
    const q = Float32Array.from({ length: rows * width }, (_, i) => (i % 5) - 1.5);
    const before = q.slice();
    const rule = { rule: 'ministral3' as const, beta: 0.3, length: 512 };
    scaleQueries(q, width, first, rows, rule);
    for (let t = 0; t < rows; t++) {
      for (let c = 0; c < width; c++) close(q[t * width + c], Math.fround(before[t * width + c] * ministral3Reference(first + t, 0.3, 512)), 1e-6, `row ${t}`);
    }
    assert.equal(queryFactor({ rule: 'logn', length: 4 }, 15), Math.log(16) / Math.log(4));
  });

  it('the manifest gives beta 0.1 and L = training context by default, models.json "llama4Scaling" otherwise (the key converters write); bad values are named', () => {
    const m = readManifest(MODEL_DIR);
    const T = m.info.trainContext * 2;
    assert.deepEqual(planMode(m, 'ministral3-scaling', T).queryScaling, { rule: 'ministral3', beta: 0.1, length: m.info.trainContext });
    assert.deepEqual(planMode(m, 'logn-scaling', T).queryScaling, { rule: 'logn', length: m.info.trainContext });
    assert.equal(planMode(m, 'ministral3-scaling', T).graphs, m.softmax, 'the Softmax weights');
    assert.ok(planMode(m, 'logn-scaling', T).s.every((v) => v === 0), 'no SSMax s');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-rules-'));
    try {
      for (const f of fs.readdirSync(MODEL_DIR)) fs.symlinkSync(path.join(MODEL_DIR, f), path.join(dir, f));
      const json = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'models.json'), 'utf8')) as Record<string, unknown>;
      fs.rmSync(path.join(dir, 'models.json'));
      fs.writeFileSync(path.join(dir, 'models.json'), JSON.stringify({ ...json, llama4Scaling: { beta: 0.2, length: 64 } }));
      assert.deepEqual(planMode(readManifest(dir), 'ministral3-scaling', T).queryScaling, { rule: 'ministral3', beta: 0.2, length: 64 });
      fs.writeFileSync(path.join(dir, 'models.json'), JSON.stringify({ ...json, llama4Scaling: { beta: -1, length: 64 } }));
      assert.throws(() => readManifest(dir), /llama4Scaling\.beta" must be a positive number/);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
