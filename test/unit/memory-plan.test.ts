// The memory plan's arithmetic: the estimate grows with T and tokensWithin is the largest T that
// fits (runs under a budget: test/engine/memory-plan.test.ts).
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { poolingOf } from '../../src/core/engine/layered-run';
import { TOKENIZE_BYTES_PER_CHAR, estimatePeakBytes, keptBytes, tokenizeChars, tokensWithin } from '../../src/core/engine/memory-plan';
import { readManifest } from '../../src/core/model/manifest';
import { MODEL_DIR } from '../common/fixtures';

const MB = 1024 * 1024;
const dims = readManifest(MODEL_DIR).dims;

describe('memory plan', () => {
  it('the estimate grows with T, and tokensWithin is the largest T whose estimate fits (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 200, max: 8000 }), (wanted, budgetMB) => {
        const fit = tokensWithin(dims, wanted, budgetMB * MB);
        const chars = tokenizeChars(budgetMB * MB);
        assert.ok(fit >= 1 && fit <= wanted);
        if (fit < wanted) {
          assert.ok(estimatePeakBytes(dims, fit + 1, chars) > budgetMB * MB, 'one more token would not fit');
          if (estimatePeakBytes(dims, 1, chars) <= budgetMB * MB) assert.ok(estimatePeakBytes(dims, fit, chars) <= budgetMB * MB);
        }
        assert.ok(estimatePeakBytes(dims, wanted + 1000, chars) > estimatePeakBytes(dims, wanted, chars));
      }),
      { numRuns: 200 },
    );
  });

  it('the tokenizer gets a bounded share of the budget, and the estimate covers it', () => {
    for (const budgetMB of [256, 1024, 4096, 65536]) {
      const chars = tokenizeChars(budgetMB * MB);
      assert.ok(chars >= 16 * 1024 && chars <= 256 * 1024);
      assert.ok(chars * TOKENIZE_BYTES_PER_CHAR <= Math.max(budgetMB * MB / 16, 16 * MB));
      assert.ok(estimatePeakBytes(dims, 1, chars) >= chars * TOKENIZE_BYTES_PER_CHAR);
    }
  });

  it('the estimate counts the kept run and, while one resumes, the previous run of the same bin size (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (T, where) => {
        assert.ok(keptBytes(dims, T) > 0);
        // resume.ts resumes only from a run that pools to the same bin size: (bin - 1) x pooledSize < old <= bin x pooledSize.
        const bin = poolingOf(T, dims.pooledSize).binSize;
        const lo = (bin - 1) * dims.pooledSize + 1;
        const old = Math.min(bin * dims.pooledSize, lo + Math.floor(where * dims.pooledSize));
        assert.equal(poolingOf(old, dims.pooledSize).binSize, bin);
        assert.ok(estimatePeakBytes(dims, T, 0) >= keptBytes(dims, T) + keptBytes(dims, old));
      }),
      { numRuns: 200, examples: [[4000, 1], [4000, 0], [1, 1]] },
    );
  });
});
