// Fading metrics on constructed attention: uniform, one-hot on the token itself, sink (all on
// token 0) and local (the last four tokens), each worked out by hand (the shipped model:
// test/engine/fading-metrics.test.ts).
import * as assert from 'node:assert/strict';
import { DISTANCE_BUCKETS, distanceBucket, distanceShares, entropyRatio, fadingCurves, headFading, supportSizes } from '../../src/core/reading/fading-metrics';
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

/** An inspection of one layer whose heads are the constructed patterns (the fields the metrics read). */
function inspectionOf(c: Constructed): Inspection {
  const sink = new Float32Array(c.heads * T);
  for (let h = 0; h < c.heads; h++) for (let i = 0; i < T; i++) sink[h * T + i] = c.rows[(h * T + i) * T];
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
    pooled: { binSize: 1, bins: 0, data: new Float32Array(0) },
    surprisal: new Float32Array(T),
    sink,
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
  const support = supportSizes(c);
  const { shares, topKMass } = distanceShares(c);
  const B = DISTANCE_BUCKETS.length;
  const share = (name: string, i: number, label: string): number => shares[(h(name) * T + i) * B + DISTANCE_BUCKETS.findIndex((d) => d.label === label)];

  it('entropy / ln(keys seen): 1 for uniform, 0 for one-hot, ln 4 / ln(i + 1) for local', () => {
    for (let i = 1; i < T; i++) {
      close(ratio[h('uniform') * T + i], 1, 1e-5, `uniform ${i}`);
      close(ratio[h('self') * T + i], 0, 1e-6, `self ${i}`);
      close(ratio[h('sink') * T + i], 0, 1e-6, `sink ${i}`);
      close(ratio[h('local') * T + i], Math.log(Math.min(4, i + 1)) / Math.log(i + 1), 1e-5, `local ${i}`);
    }
  });

  it('support size: ceil(0.9 n) for uniform within the top k, then "more than k"; 1 for one-hot; 4 for local', () => {
    for (let i = 0; i < T; i++) {
      const n = Math.ceil(0.9 * (i + 1) - 1e-9);
      assert.equal(support[h('uniform') * T + i], n <= K ? n : K + 1, `uniform ${i}`);
      assert.equal(support[h('self') * T + i], 1);
      assert.equal(support[h('sink') * T + i], 1);
      assert.equal(support[h('local') * T + i], Math.ceil(0.9 * Math.min(4, i + 1) - 1e-9), `local ${i}`);
    }
  });

  it('distance shares: one-hot self all at 0, sink at i, local a quarter at 0 and three at 1-7; rows sum to 1', () => {
    for (let i = 0; i < T; i++) {
      assert.equal(share('self', i, '0'), 1);
      assert.equal(shares[(h('sink') * T + i) * B + distanceBucket(i)], 1);
      if (i >= 3) {
        close(share('local', i, '0'), 0.25, 1e-6, `local ${i} at 0`);
        close(share('local', i, '1-7'), 0.75, 1e-6, `local ${i} at 1-7`);
      }
      for (let hh = 0; hh < c.heads; hh++) {
        let sum = 0;
        for (let b = 0; b < B; b++) sum += shares[(hh * T + i) * B + b];
        close(sum, 1, 1e-5, `head ${hh} query ${i} shares`);
      }
    }
    // Uniform beyond the top k: the shares cover only the top-k mass.
    close(topKMass[h('uniform') * T + 63], K / 64, 1e-6, 'uniform top-k mass at 63');
    assert.deepEqual(
      DISTANCE_BUCKETS.map((d) => [d.lo, d.hi]),
      [[0, 1], [1, 8], [8, 64], [64, 512], [512, 4096], [4096, Infinity]],
    );
  });

  it('per head: the sink head is named by the 0.3 rule, its sink mass is 1; support medians; distance masses sum to 1', () => {
    const f = headFading(inspectionOf(c));
    assert.equal(f[h('sink')].sinkHead, true);
    close(f[h('sink')].sinkMass, 1, 1e-9, 'sink head mass');
    assert.equal(f[h('self')].sinkHead, false);
    close(f[h('self')].sinkMass, 0, 1e-9, 'self sink mass');
    // Uniform: query 1's weight on token 0 is 1/2, query i's 1/(i + 1); mean over queries 1..63.
    let u = 0;
    for (let i = 1; i < T; i++) u += 1 / (i + 1);
    close(f[h('uniform')].sinkMass, u / (T - 1), 1e-6, 'uniform sink mass');
    assert.equal(f[h('uniform')].sinkHead, false);
    assert.equal(f[h('uniform')].supportSize, null, 'most uniform rows need more than the top 16');
    // 90 % of i + 1 equal keys needs more than 16 from i + 1 = 18 on: queries 17..63.
    close(f[h('uniform')].supportBeyondTopK, (T - 17) / T, 1e-9, 'uniform rows beyond the top k (queries 17..63)');
    assert.equal(f[h('self')].supportSize, 1);
    assert.equal(f[h('local')].supportSize, 4);
    close(f[h('uniform')].entropyRatio, 1, 1e-5, 'uniform ratio');
    for (const head of f) close(Object.values(head.distanceMass).reduce((a, b) => a + b, 0), 1, 1e-5, `head ${head.head} distance mass`);
    close(f[h('self')].distanceMass['0'], 1, 1e-9, 'self at distance 0');
  });

  it('curves over position: per head and over heads, the bucket values match the per-query metrics', () => {
    const insp = inspectionOf(c);
    const one = fadingCurves(insp, { kind: 'head', layer: 0, head: h('sink') }, 8);
    assert.equal(one.starts.length, 8);
    for (let b = 0; b < 8; b++) close(one.sinkMass[b], 1, 1e-9, `sink curve ${b}`);
    const uni = fadingCurves(insp, { kind: 'head', layer: 0, head: h('uniform') }, 8);
    for (let b = 1; b < 8; b++) close(uni.entropyRatio[b], 1, 1e-5, `uniform ratio curve ${b}`);
    assert.equal(uni.supportSize[7], K + 1, 'the last bucket needs more than k');
    const all = fadingCurves(insp, { kind: 'aggregate', how: 'mean' }, 1);
    let ratioMean = 0;
    for (let hh = 0; hh < c.heads; hh++) for (let i = 1; i < T; i++) ratioMean += ratio[hh * T + i];
    close(all.entropyRatio[0], ratioMean / (c.heads * (T - 1)), 1e-6, 'mean over heads and queries');
  });
});
