// Fading metrics on constructed attention: uniform, one-hot on the token itself, sink (all on
// token 0) and local (the last four tokens), each worked out by hand (the shipped model:
// test/engine/fading-metrics.test.ts).
import * as assert from 'node:assert/strict';
import { DISTANCE_BUCKETS, entropyRatio, fadingCurves, headFading, supportTokensText } from '../../src/core/reading/fading-metrics';
import type { Inspection } from '../../src/core/inspection-types';
import type { Constructed, RowOf } from '../common/attention-patterns';
import { construct, onKey, uniform } from '../common/attention-patterns';
import { close } from '../common/fixtures';

const T = 64;
const K = 16;
const local: RowOf = (i) => {
  const row = new Array<number>(i + 1).fill(0);
  const n = Math.min(4, i + 1);
  for (let j = i - n + 1; j <= i; j++) row[j] = 1 / n;
  return row;
};
const patterns: Record<string, RowOf> = { uniform, self: (i) => onKey(i, i), sink: (i) => onKey(i, 0), local };
const names = Object.keys(patterns);

const B = DISTANCE_BUCKETS.length;

/** The fewest largest weights of row i holding 90 % (by sorting), as the engine measures it. */
function supportBySorting(row: Float32Array): number {
  const w = Array.from(row).sort((a, b) => b - a);
  let held = 0;
  let m = 0;
  while (held < 0.9 - 1e-6) held += w[m++];
  return m;
}

/**
 * An inspection of one layer whose heads are the constructed patterns (the fields the metrics
 * read): the sink, distance mass and support size from the full rows, the support on the queries
 * at multiples of binSize as the engine measures them.
 */
function inspectionOf(c: Constructed, binSize = 1): Inspection {
  const sink = new Float32Array(c.heads * T);
  const distanceMass = new Float32Array(c.heads * T * B);
  const support = new Int32Array(c.heads * T);
  for (let h = 0; h < c.heads; h++) {
    for (let i = 0; i < T; i++) {
      const row = c.rows.subarray((h * T + i) * T, (h * T + i) * T + i + 1);
      sink[h * T + i] = row[0];
      row.forEach((w, j) => (distanceMass[(h * T + i) * B + DISTANCE_BUCKETS.findIndex((d) => i - j >= d.lo && i - j < d.hi)] += w));
      if (i % binSize === 0) support[h * T + i] = supportBySorting(row);
    }
  }
  return {
    id: 0,
    model: { id: 'constructed', architecture: 'attention-lens', layers: 1, heads: c.heads, kvHeads: c.heads, width: 8, headDim: 4, parameters: 1, trainContext: 8, maxContext: null, vocabSize: 2, topK: K, pooledSize: 4 },
    mode: 'softmax',
    range: { start: 0, end: T },
    windowed: false,
    documentTokens: T,
    tokens: Array.from({ length: T }, (_, t) => ({ text: 'x', start: t, end: t + 1 })),
    focus: new Float32Array(c.heads * T),
    entropy: c.entropy,
    distance: new Float32Array(c.heads * T),
    topIndex: c.index,
    topWeight: c.weight,
    pooled: { binSize, bins: 0, data: new Float32Array(0) },
    surprisal: new Float32Array(T),
    sink,
    distanceMass,
    support,
    queries: [],
    heads: [],
    timings: { tokenizeMs: 0, inferenceMs: 0, totalMs: 0 },
    reusedTokens: 0,
  };
}

describe('fading metrics on constructed attention', () => {
  const c = construct(names.map((n) => patterns[n]), T, K);
  const h = (name: string): number => names.indexOf(name);
  const ratio = entropyRatio(c.entropy, c.heads, T);
  const insp = inspectionOf(c);
  const f = headFading(insp);
  /** Uniform over i + 1 keys: 90 % needs ceil(0.9 (i + 1)). */
  const uniformSupport = (i: number): number => Math.ceil(0.9 * (i + 1) - 1e-9);

  it('entropy / ln(keys seen): 1 for uniform, 0 for one-hot, ln 4 / ln(i + 1) for local', () => {
    for (let i = 1; i < T; i++) {
      close(ratio[h('uniform') * T + i], 1, 1e-5, `uniform ${i}`);
      close(ratio[h('self') * T + i], 0, 1e-6, `self ${i}`);
      close(ratio[h('sink') * T + i], 0, 1e-6, `sink ${i}`);
      close(ratio[h('local') * T + i], Math.log(Math.min(4, i + 1)) / Math.log(i + 1), 1e-5, `local ${i}`);
    }
  });

  it('per head: the sink head is named by the 0.3 rule, its sink mass is 1', () => {
    assert.equal(f[h('sink')].sinkHead, true);
    close(f[h('sink')].sinkMass, 1, 1e-9, 'sink head mass');
    assert.equal(f[h('self')].sinkHead, false);
    close(f[h('self')].sinkMass, 0, 1e-9, 'self sink mass');
    // Uniform: query 1's weight on token 0 is 1/2, query i's 1/(i + 1); mean over queries 1..63.
    let u = 0;
    for (let i = 1; i < T; i++) u += 1 / (i + 1);
    close(f[h('uniform')].sinkMass, u / (T - 1), 1e-6, 'uniform sink mass');
    assert.equal(f[h('uniform')].sinkHead, false);
    close(f[h('uniform')].entropyRatio, 1, 1e-5, 'uniform ratio');
  });

  it('support size: the median over every query when the bin is 1, beyond the top k too; 1 for one-hot, 4 for local', () => {
    // Uniform: sizes grow with i, so the median of queries 0..63 is query 31's: ceil(28.8) = 29.
    assert.equal(f[h('uniform')].supportSize, uniformSupport(31));
    assert.equal(f[h('uniform')].supportQueries, T);
    // 90 % of i + 1 equal keys needs more than 16 from i + 1 = 18 on: queries 17..63.
    close(f[h('uniform')].supportBeyondTopK, (T - 17) / T, 1e-9, 'uniform rows beyond the top k (queries 17..63)');
    assert.equal(f[h('self')].supportSize, 1);
    assert.equal(f[h('sink')].supportSize, 1);
    assert.equal(f[h('local')].supportSize, 4);
    assert.equal(supportTokensText(f[h('uniform')], 1), 'every token');
    // Uniform beyond the top k: the top 16 of 64 equal keys hold a quarter.
    close(f[h('self')].topKMass, 1, 1e-6, 'one-hot top-k mass');
    assert.ok(f[h('uniform')].topKMass < 0.6, `uniform top-k mass ${f[h('uniform')].topKMass}`);
  });

  it('support size with a bin of 4: the median over queries 0, 4, ..., 60 only', () => {
    const g = headFading(inspectionOf(c, 4));
    assert.equal(g[h('uniform')].supportQueries, 16);
    assert.equal(g[h('uniform')].supportSize, uniformSupport(28), 'the 8th of 16 sizes: query 28');
    assert.equal(supportTokensText(g[h('uniform')], 4), '16 tokens, one in 4');
  });

  it('distance mass, exact from the rows: one-hot self all at 0, sink at i tokens back, local a quarter at 0 and three at 1-7', () => {
    const at = (name: string, label: string): number => f[h(name)].distanceMass[label];
    close(at('self', '0'), 1, 1e-9, 'self at distance 0');
    close(at('local', '0'), (1 + 1 / 2 + 1 / 3 + 61 / 4) / T, 1e-6, 'local at 0: 1, 1/2, 1/3, then 1/4');
    // Sink: query i puts everything i tokens back: 1 query at 0, 7 at 1-7, 56 at 8-63.
    assert.deepEqual(
      DISTANCE_BUCKETS.map((d) => Math.round(at('sink', d.label) * T)),
      [1, 7, 56, 0, 0, 0],
    );
    for (const head of f) close(Object.values(head.distanceMass).reduce((a, b) => a + b, 0), 1, 1e-5, `head ${head.head} distance mass`);
    assert.deepEqual(
      DISTANCE_BUCKETS.map((d) => [d.lo, d.hi]),
      [[0, 1], [1, 8], [8, 64], [64, 512], [512, 4096], [4096, Infinity]],
    );
  });

  it('curves over position: per head and over heads, the bucket values match the per-query metrics', () => {
    const one = fadingCurves(insp, { kind: 'head', layer: 0, head: h('sink') }, 8);
    assert.equal(one.starts.length, 8);
    for (let b = 0; b < 8; b++) close(one.sinkMass[b], 1, 1e-9, `sink curve ${b}`);
    const uni = fadingCurves(insp, { kind: 'head', layer: 0, head: h('uniform') }, 8);
    for (let b = 1; b < 8; b++) close(uni.entropyRatio[b], 1, 1e-5, `uniform ratio curve ${b}`);
    // Bucket 7 holds queries 56..63: the median is the 4th of 8, query 59's.
    assert.equal(uni.supportSize[7], uniformSupport(59));
    close(one.distanceMass[7 * B + 2], 1, 1e-9, 'sink queries 56..63 put everything 8-63 back');
    const all = fadingCurves(insp, { kind: 'aggregate', how: 'mean' }, 1);
    let ratioMean = 0;
    for (let hh = 0; hh < c.heads; hh++) for (let i = 1; i < T; i++) ratioMean += ratio[hh * T + i];
    close(all.entropyRatio[0], ratioMean / (c.heads * (T - 1)), 1e-6, 'mean over heads and queries');
    // A bin of 16 and 8 buckets of 8 queries: every other bucket has no measured query.
    const sparse = fadingCurves(inspectionOf(c, 16), { kind: 'head', layer: 0, head: h('uniform') }, 8);
    assert.deepEqual(Array.from(sparse.supportSize, (v) => (Number.isNaN(v) ? 'none' : v)), [1, 'none', uniformSupport(16), 'none', uniformSupport(32), 'none', uniformSupport(48), 'none']);
  });
});
