// The memory plan's arithmetic: the estimate grows with T and tokensWithin is the largest T that
// fits (runs under a budget: test/engine/memory-plan.test.ts).
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { TOKENIZE_BYTES_PER_CHAR, estimatePeakBytes, tokenizeChars, tokensWithin } from '../../src/core/engine/memory-plan';
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
});
