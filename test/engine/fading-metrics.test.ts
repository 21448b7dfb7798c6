// Fading metrics on the shipped model, against full rows (the attention-rows graph) summed here in
// float64: every metric exact, on short code and on 2,000 tokens where most heads are diffuse.
import * as assert from 'node:assert/strict';
import { DocumentSession } from '../../src/core/engine/document-session';
import { DISTANCE_BUCKETS, headFading } from '../../src/core/reading/fading-metrics';
import { ModelRunner } from '../../src/core/engine/runner';
import type { Inspection } from '../../src/core/inspection-types';
import { MODEL_DIR, SHORT_CODE, allStarts, close, longCode } from '../common/fixtures';

const B = DISTANCE_BUCKETS.length;

/** Mass of row (keys 0..i) in each distance bucket, float64. */
function bucketMass(row: Float32Array, i: number): number[] {
  const out = new Array<number>(B).fill(0);
  for (let j = 0; j <= i; j++) out[DISTANCE_BUCKETS.findIndex((d) => i - j >= d.lo && i - j < d.hi)] += row[j];
  return out;
}

/** Fewest largest weights of row holding 90 % (within 1e-6), and how near 0.9 the running sums either side of that count are. */
function supportOf(row: Float32Array): { size: number; margin: number } {
  const w = Array.from(row).sort((a, b) => b - a);
  let held = 0;
  let m = 0;
  while (held < 0.9 - 1e-6) held += w[m++];
  return { size: m, margin: Math.min(Math.abs(held - 0.9), Math.abs(held - w[m - 1] - 0.9)) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * Every query's distance mass within 1e-5 of its full row's; the support size of every measured
 * query (multiples of the bin) equal to its row's, or one apart where the row's running sum passes
 * 0.9 within 1e-5 (float32 graph rows against float32 rows of another graph); each head's support
 * the median of those. Returns the heads' median support sizes.
 */
function checkAgainstRows(insp: Inspection, measured: number[]): number[] {
  const n = insp.tokens.length;
  const LH = insp.model.layers * insp.model.heads;
  const f = headFading(insp);
  const byQuery = new Map(insp.queries.map((q) => [q.token, q.rows]));
  const medians: number[] = [];
  for (let hh = 0; hh < LH; hh++) {
    const sizes: number[] = [];
    for (const i of measured) {
      const rows = byQuery.get(i);
      assert.ok(rows, `rows of query ${i}`);
      const row = rows.subarray(hh * n, hh * n + i + 1);
      bucketMass(row, i).forEach((m, b) => close(insp.distanceMass[(hh * n + i) * B + b], m, 1e-5, `head ${hh} query ${i} ${DISTANCE_BUCKETS[b].label} tokens back`));
      const { size, margin } = supportOf(row);
      const got = insp.support[hh * n + i];
      assert.ok(got === size || (margin < 1e-5 && Math.abs(got - size) === 1), `head ${hh} query ${i}: support ${got}, full row ${size} (margin ${margin})`);
      sizes.push(got);
    }
    assert.equal(f[hh].supportQueries, measured.length);
    assert.equal(f[hh].supportSize, median(sizes), `head ${hh} median support`);
    medians.push(f[hh].supportSize);
  }
  return medians;
}

describe('fading metrics on the shipped model', function () {
  this.timeout(300_000);
  let runner: ModelRunner;
  before(async () => {
    runner = await ModelRunner.open(MODEL_DIR);
  });
  after(async () => {
    await runner.dispose();
  });

  it('short code, every query measured: entropy ratio from -sum w ln w, sink mass from key 0, distance mass and support size from each row', async () => {
    const text = SHORT_CODE.slice(0, 400);
    const first = await new DocumentSession(runner).inspect({ text, mode: 'ssmax' });
    const insp = await new DocumentSession(runner).inspect({ text, mode: 'ssmax', queryOffsets: allStarts(first.tokens) });
    const n = insp.tokens.length;
    assert.equal(insp.pooled.binSize, 1, 'up to pooledSize tokens, every query is measured');
    const LH = insp.model.layers * insp.model.heads;
    const f = headFading(insp);
    for (let hh = 0; hh < LH; hh++) {
      let ratio = 0;
      let sink = 0;
      for (let i = 1; i < n; i++) {
        const row = insp.queries[i].rows.subarray(hh * n, hh * n + i + 1);
        const e = -row.reduce((s, w) => (w > 0 ? s + w * Math.log(w) : s), 0);
        ratio += e / Math.log(i + 1);
        sink += row[0];
      }
      close(f[hh].entropyRatio, ratio / (n - 1), 1e-4, `head ${hh} entropy ratio`);
      close(f[hh].sinkMass, sink / (n - 1), 1e-5, `head ${hh} sink mass`);
    }
    checkAgainstRows(insp, Array.from({ length: n }, (_, i) => i));
  });

  it('2,000 tokens, one query per pooling bin: exact support where the top 16 hold less than 90 %, in most heads', async () => {
    const text = longCode(5600);
    const first = await new DocumentSession(runner).inspect({ text, mode: 'softmax' });
    const T = first.tokens.length;
    assert.ok(T > 1900 && T < 2048, `${T} tokens`);
    const bin = first.pooled.binSize;
    assert.equal(bin, 8);
    const measured = Array.from({ length: Math.ceil(T / bin) }, (_, b) => b * bin);
    const insp = await new DocumentSession(runner).inspect({ text, mode: 'softmax', queryOffsets: measured.map((i) => first.tokens[i].start) });
    assert.deepEqual(insp.queries.map((q) => q.token), measured);
    const medians = checkAgainstRows(insp, measured);
    const diffuse = medians.filter((m) => m > insp.model.topK).length;
    assert.ok(diffuse >= insp.model.layers * insp.model.heads / 2, `heads whose median support passes the top ${insp.model.topK}: ${diffuse} (${medians.join(', ')})`);
    // Every query's distance mass sums to its row's total, far buckets included.
    for (let r = 0; r < insp.distanceMass.length / B; r++) {
      let sum = 0;
      for (let b = 0; b < B; b++) sum += insp.distanceMass[r * B + b];
      close(sum, 1, 1e-5, `row ${r} distance mass`);
    }
  });
});
