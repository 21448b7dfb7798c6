// The graph's summaries against plain reference maths over its own full attention rows.
import * as assert from 'node:assert/strict';
import { headFocus, headPooled, queryRow, topKeys } from '../../src/core/reading/analysis';
import { DocumentSession } from '../../src/core/engine/document-session';
import { ModelRunner } from '../../src/core/engine/runner';
import type { Inspection } from '../../src/core/inspection-types';
import type { Mode } from '../../src/shared/vocabulary';
import { modesOf, readManifest } from '../../src/core/model/manifest';
import { MODEL_DIR, SHORT_CODE, allStarts, close, longCode } from '../common/fixtures';
import { refDistance, refEntropy, refFocus, refPooled, refTopK } from '../common/reference-attention';

/** Every query of every head: [L][H][T x T]. */
function fullRows(insp: Inspection): Float32Array[] {
  const T = insp.tokens.length;
  const LH = insp.model.layers * insp.model.heads;
  assert.equal(insp.queries.length, T, 'a row for every token');
  const out: Float32Array[] = [];
  for (let h = 0; h < LH; h++) {
    const m = new Float32Array(T * T);
    insp.queries.forEach((q, i) => {
      assert.equal(q.token, i);
      m.set(q.rows.subarray(h * T, (h + 1) * T), i * T);
    });
    out.push(m);
  }
  return out;
}

function checkAgainstRows(insp: Inspection): void {
  const T = insp.tokens.length;
  const K = insp.model.topK;
  const rows = fullRows(insp);
  rows.forEach((m, h) => {
    for (let i = 0; i < T; i++) {
      const row = m.subarray(i * T, (i + 1) * T);
      let sum = 0;
      for (let j = 0; j < T; j++) {
        if (j > i) assert.equal(row[j], 0, `head ${h} query ${i} attends to future key ${j}`);
        sum += row[j];
      }
      close(sum, 1, 1e-4, `head ${h} row ${i} sum`);
      const at = h * T + i;
      close(insp.focus[at], refFocus(row, i), 1e-6, `focus h${h} q${i}`);
      const e = refEntropy(row, i);
      close(insp.entropy[at], e, 2e-3 * (1 + e), `entropy h${h} q${i}`);
      const d = refDistance(row, i);
      close(insp.distance[at], d, 1e-3 * (1 + d), `distance h${h} q${i}`);
      const ref = refTopK(row, i, K);
      const got = topKeys(insp, Math.floor(h / insp.model.heads), h % insp.model.heads, i, K);
      assert.equal(got.length, Math.min(K, i + 1), `h${h} q${i}: one top key per visible key, up to K`);
      got.forEach((g, k) => {
        // Ties may order differently; the k-th weight and each key's own weight must agree.
        close(g.weight, ref[k].weight, 1e-6, `top-${k} weight h${h} q${i}`);
        close(g.weight, row[g.token], 1e-6, `top-${k} key ${g.token} weight h${h} q${i}`);
        assert.ok(g.token <= i);
      });
    }
    const pooled = refPooled(m, T, insp.model.pooledSize);
    assert.equal(insp.pooled.binSize, pooled.binSize);
    assert.equal(insp.pooled.bins, pooled.bins);
    const got = headPooled(insp, Math.floor(h / insp.model.heads), h % insp.model.heads);
    for (let c = 0; c < pooled.data.length; c++) close(got[c], pooled.data[c], 1e-6, `pooled h${h} cell ${c}`);
  });
}

describe('graph summaries against reference maths over full rows', function () {
  this.timeout(60_000);
  let engine: ModelRunner;
  before(async () => {
    engine = await ModelRunner.open(MODEL_DIR);
  });
  after(() => engine.dispose());

  async function everyRow(text: string, mode: Mode): Promise<Inspection> {
    const first = await new DocumentSession(engine).inspect({ text, mode });
    return new DocumentSession(engine).inspect({ text, mode, queryOffsets: allStarts(first.tokens) });
  }

  // Every mode the shipped folder offers (its models.json: the attention modes; screening has its own test).
  for (const mode of modesOf(readManifest(MODEL_DIR)).filter((m) => m !== 'screening')) {
    it(`focus, entropy, distance, top-k and pooled agree under ${mode} (one token per bin)`, async () => {
      const insp = await everyRow(SHORT_CODE.slice(0, 400), mode);
      assert.equal(insp.pooled.binSize, 1);
      checkAgainstRows(insp);
    });
  }

  it('pooled cells take the max over several tokens a side once T exceeds pooledSize', async () => {
    const insp = await everyRow(longCode(1400), 'ssmax');
    assert.ok(insp.tokens.length > insp.model.pooledSize, `needs more than ${insp.model.pooledSize} tokens, got ${insp.tokens.length}`);
    assert.ok(insp.pooled.binSize >= 2);
    checkAgainstRows(insp);
  });

  it('head summaries are the means of the per-query arrays', async () => {
    const insp = await new DocumentSession(engine).inspect({ text: SHORT_CODE, mode: 'softmax' });
    const T = insp.tokens.length;
    for (const h of insp.heads) {
      const f = headFocus(insp, h.layer, h.head);
      close(h.meanFocus, f.reduce((a, b) => a + b, 0) / T, 1e-6, 'mean focus');
      const base = (h.layer * insp.model.heads + h.head) * T;
      close(h.meanEntropy, insp.entropy.subarray(base, base + T).reduce((a, b) => a + b, 0) / T, 1e-4, 'mean entropy');
      close(h.meanDistance, insp.distance.subarray(base, base + T).reduce((a, b) => a + b, 0) / T, 1e-3, 'mean distance');
    }
  });

  it('queryRow returns the asked row and nothing for other tokens', async () => {
    const insp = await new DocumentSession(engine).inspect({ text: SHORT_CODE, mode: 'softmax', queryOffsets: [SHORT_CODE.indexOf('class')] });
    const q = insp.queries[0];
    assert.equal(insp.tokens[q.token].text.trim(), 'class');
    const row = queryRow(insp, 1, 2, q.token);
    assert.ok(row);
    close(Math.max(...row), headFocus(insp, 1, 2)[q.token], 1e-6, 'row max = focus');
    assert.equal(queryRow(insp, 1, 2, q.token + 1), undefined);
  });
});
