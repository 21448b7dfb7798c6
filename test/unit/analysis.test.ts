// The graph's summaries against plain reference maths over its own full attention rows, and the
// analysis helpers against straightforward re-implementations.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  aggregateFocus,
  fadingCurve,
  headFocus,
  headPooled,
  queryRow,
  refDistance,
  refEntropy,
  refFocus,
  refPooled,
  refTopK,
  tokenAt,
  topKeys,
} from '../../src/core/reading/analysis';
import { rowOf } from '../../src/core/reading/selection';
import { DocumentSession } from '../../src/core/engine/document-session';
import { ModelRunner } from '../../src/core/engine/runner';
import type { Inspection } from '../../src/core/inspection-types';
import type { Mode } from '../../src/shared/vocabulary';
import { MODEL_DIR, SHORT_CODE, allStarts, close, longCode } from '../common/fixtures';

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

  for (const mode of ['softmax', 'ssmax', 'ssmax-posthoc'] as const) {
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

/** A synthetic Inspection for the pure helpers: only the fields they read. */
function synthetic(L: number, H: number, T: number, seed: number): Inspection {
  let x = seed;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const tokens = [];
  let at = 0;
  for (let t = 0; t < T; t++) {
    const len = Math.floor(rnd() * 3); // empty spans happen (part of a character)
    tokens.push({ text: 'x'.repeat(len), start: at, end: at + len });
    at += len;
  }
  if (tokens[T - 1].end === tokens[T - 1].start) {
    tokens[T - 1].end++;
    tokens[T - 1].text = 'x';
  }
  const focus = Float32Array.from({ length: L * H * T }, rnd);
  return {
    id: 0,
    model: { id: 'synthetic', architecture: 'attention-lens', layers: L, heads: H, kvHeads: H, width: 8, headDim: 4, parameters: 1000, trainContext: 8, maxContext: null, vocabSize: 16, topK: 2, pooledSize: 4 },
    mode: 'softmax',
    range: { start: 0, end: tokens[T - 1].end },
    windowed: false,
    documentTokens: T,
    tokens,
    focus,
    entropy: new Float32Array(L * H * T),
    distance: new Float32Array(L * H * T),
    topIndex: new Int32Array(L * H * T * 2).fill(-1),
    topWeight: new Float32Array(L * H * T * 2),
    pooled: { binSize: 1, bins: T, data: new Float32Array(L * H * T * T) },
    surprisal: new Float32Array(T),
    queries: [],
    heads: [],
    timings: { tokenizeMs: 0, inferenceMs: 0, totalMs: 0 },
  };
}

describe('analysis helpers', () => {
  it('tokenAt agrees with a linear scan for every offset (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 1e6 }), (T, seed) => {
        const insp = synthetic(1, 1, T, seed);
        const end = insp.tokens[T - 1].end;
        for (let offset = -1; offset <= end + 1; offset++) {
          let expected = insp.tokens.findIndex((t) => t.start <= offset && offset < t.end);
          if (offset === end) expected = T - 1;
          assert.equal(tokenAt(insp, offset), expected, `offset ${offset}`);
        }
      }),
    );
  });

  it('aggregateFocus is the mean and the max over all heads', () => {
    const insp = synthetic(2, 3, 7, 42);
    const mean = aggregateFocus(insp, 'mean');
    const max = aggregateFocus(insp, 'max');
    for (let t = 0; t < 7; t++) {
      const vals = [];
      for (let l = 0; l < 2; l++) for (let h = 0; h < 3; h++) vals.push(headFocus(insp, l, h)[t]);
      close(mean[t], vals.reduce((a, b) => a + b) / vals.length, 1e-6, 'mean');
      assert.equal(max[t], Math.fround(Math.max(...vals)));
    }
  });

  it('rowOf reads one head\'s slice of full rows, or the mean and max over heads', () => {
    const insp = synthetic(2, 3, 7, 5);
    const rows = Float32Array.from({ length: 6 * 7 }, (_, i) => ((i * 37) % 11) / 11);
    assert.deepEqual(Array.from(rowOf(insp, { kind: 'head', layer: 1, head: 2 }, rows)), Array.from(rows.subarray(5 * 7, 6 * 7)));
    const mean = rowOf(insp, { kind: 'aggregate', how: 'mean' }, rows);
    const max = rowOf(insp, { kind: 'aggregate', how: 'max' }, rows);
    for (let k = 0; k < 7; k++) {
      const vals = Array.from({ length: 6 }, (_, h) => rows[h * 7 + k]);
      close(mean[k], vals.reduce((a, b) => a + b) / 6, 1e-6, 'mean');
      assert.equal(max[k], Math.fround(Math.max(...vals)));
    }
  });

  it('fadingCurve averages focus over heads and position buckets per layer', () => {
    const insp = synthetic(2, 2, 10, 7);
    const curve = fadingCurve(insp, 3);
    assert.deepEqual(Array.from(curve.starts), [0, 3, 6]);
    assert.deepEqual(Array.from(curve.ends), [3, 6, 10]);
    for (let l = 0; l < 2; l++) {
      for (let b = 0; b < 3; b++) {
        const vals = [];
        for (let h = 0; h < 2; h++) for (let t = curve.starts[b]; t < curve.ends[b]; t++) vals.push(headFocus(insp, l, h)[t]);
        close(curve.meanFocus[l][b], vals.reduce((a, c) => a + c) / vals.length, 1e-6, `layer ${l} bucket ${b}`);
      }
    }
    assert.equal(fadingCurve(insp, 50).starts.length, 10, 'no more buckets than tokens');
  });

  it('topKeys skips keys marked -1 and stops at n', () => {
    const insp = synthetic(1, 1, 3, 1);
    insp.topIndex.set([0, -1, 1, 0, 2, 1]);
    insp.topWeight.set([1, 0, 0.7, 0.3, 0.6, 0.4]);
    assert.deepEqual(topKeys(insp, 0, 0, 0, 5), [{ token: 0, weight: 1 }]);
    assert.equal(topKeys(insp, 0, 0, 1, 5).length, 2);
    assert.equal(topKeys(insp, 0, 0, 2, 1)[0].token, 2);
    assert.throws(() => topKeys(insp, 0, 0, 3, 1), /query token 3 is out of range/);
    assert.throws(() => headFocus(insp, 1, 0), /layer 1 is out of range/);
  });

});
