// The production length rules as post-hoc modes: the factors against the formulas in the source
// of the models that ship them (the modes on the shipped model: test/engine/length-rules.test.ts).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { llama4Factor, lognFactor, queryFactor, scaleQueries } from '../../src/core/model/length-rules';
import { planMode, readManifest } from '../../src/core/model/manifest';
import { MODEL_DIR, close } from '../common/fixtures';

/**
 * Llama 4, huggingface/transformers src/transformers/models/llama4/modeling_llama4.py,
 * Llama4TextAttention.forward: attn_scales = log1p(floor((cache_position + 1) / floor_scale)) * attn_scale + 1,
 * cache_position counted from 0, applied to the query states.
 */
function llama4Reference(position: number, attnScale: number, floorScale: number): number {
  return Math.log1p(Math.floor((position + 1) / floorScale)) * attnScale + 1;
}

/**
 * Ministral 3, huggingface/transformers src/transformers/models/ministral3/modeling_ministral3.py,
 * _get_llama_4_attn_scale(cache_position, beta, original_max_position_embeddings):
 * 1 + beta * log(1 + floor(position / L)). It floors position / L, not (position + 1) / L: the
 * factor steps up one position later than Llama 4's.
 */
function ministral3Reference(position: number, beta: number, L: number): number {
  return 1 + beta * Math.log(1 + Math.floor(position / L));
}

/**
 * Qwen-1, Qwen/Qwen-7B modeling_qwen.py, QWenAttention: logn_list = [log(i, seq_length) if
 * i > seq_length else 1 for i in range(1, 32768)], and the query at sequence index p (from 0) is
 * multiplied by logn_tensor[p], that is by logn_list[p]: i = p + 1.
 */
function qwenLognList(seqLength: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) out.push(i > seqLength ? Math.log(i) / Math.log(seqLength) : 1);
  return out;
}

describe('length rules (length-rules.ts)', () => {
  it("llama4-scaling equals Llama 4's formula at every position, across the floor steps", () => {
    for (const [beta, L] of [
      [0.1, 8192],
      [0.1, 512],
      [0.25, 7],
    ]) {
      for (let p = 0; p < 5 * L + 3; p += L > 100 ? 17 : 1) close(llama4Factor(p, beta, L), llama4Reference(p, beta, L), 1e-12, `p ${p} beta ${beta} L ${L}`);
      for (const p of [L - 2, L - 1, L, 2 * L - 1, 2 * L]) close(llama4Factor(p, beta, L), llama4Reference(p, beta, L), 1e-12, `step at ${p}`);
    }
    // The first step: position L - 1 is the first with factor 1 + beta ln 2.
    assert.equal(llama4Factor(510, 0.1, 512), 1);
    close(llama4Factor(511, 0.1, 512), 1 + 0.1 * Math.log(2), 1e-12, 'L - 1');
  });

  it('Ministral 3 applies the same rule one position later (its floor has no + 1)', () => {
    for (let p = 0; p < 40; p++) close(llama4Factor(p, 0.1, 8), ministral3Reference(p + 1, 0.1, 8), 1e-12, `p ${p}`);
    assert.notEqual(llama4Factor(7, 0.1, 8), ministral3Reference(7, 0.1, 8));
  });

  it("logn-scaling equals Qwen-1's logn_list indexed by the 0-based position", () => {
    for (const L of [2048, 512, 5]) {
      const list = qwenLognList(L, 4 * L);
      list.forEach((v, p) => close(lognFactor(p, L), v, 1e-12, `p ${p} L ${L}`));
    }
    assert.equal(lognFactor(511, 512), 1);
    close(lognFactor(512, 512), Math.log(513) / Math.log(512), 1e-12, 'first scaled position');
  });

  it('scaleQueries multiplies each row of q by its position factor (constructed q)', () => {
    const width = 3;
    const rows = 6;
    const first = 510;
    const q = Float32Array.from({ length: rows * width }, (_, i) => (i % 5) - 1.5);
    const before = q.slice();
    const rule = { rule: 'llama4' as const, beta: 0.3, length: 512 };
    scaleQueries(q, width, first, rows, rule);
    for (let t = 0; t < rows; t++) {
      for (let c = 0; c < width; c++) close(q[t * width + c], Math.fround(before[t * width + c] * llama4Reference(first + t, 0.3, 512)), 1e-6, `row ${t}`);
    }
    assert.equal(queryFactor({ rule: 'logn', length: 4 }, 15), Math.log(16) / Math.log(4));
  });

  it('the manifest gives beta 0.1 and L = training context by default, models.json "llama4Scaling" otherwise; bad values are named', () => {
    const m = readManifest(MODEL_DIR);
    const T = m.info.trainContext * 2;
    assert.deepEqual(planMode(m, 'llama4-scaling', T).queryScaling, { rule: 'llama4', beta: 0.1, length: m.info.trainContext });
    assert.deepEqual(planMode(m, 'logn-scaling', T).queryScaling, { rule: 'logn', length: m.info.trainContext });
    assert.equal(planMode(m, 'llama4-scaling', T).graphs, m.softmax, 'the Softmax weights');
    assert.ok(planMode(m, 'logn-scaling', T).s.every((v) => v === 0), 'no SSMax s');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-rules-'));
    try {
      for (const f of fs.readdirSync(MODEL_DIR)) fs.symlinkSync(path.join(MODEL_DIR, f), path.join(dir, f));
      const json = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'models.json'), 'utf8')) as Record<string, unknown>;
      fs.rmSync(path.join(dir, 'models.json'));
      fs.writeFileSync(path.join(dir, 'models.json'), JSON.stringify({ ...json, llama4Scaling: { beta: 0.2, length: 64 } }));
      assert.deepEqual(planMode(readManifest(dir), 'llama4-scaling', T).queryScaling, { rule: 'llama4', beta: 0.2, length: 64 });
      fs.writeFileSync(path.join(dir, 'models.json'), JSON.stringify({ ...json, llama4Scaling: { beta: -1, length: 64 } }));
      assert.throws(() => readManifest(dir), /llama4Scaling\.beta" must be a positive number/);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
