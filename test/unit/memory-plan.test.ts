// The memory plan's arithmetic: the plan grows with T, tokensWithin is the largest T that fits, and
// each term counts what the engine allocates (runs under a budget and measured peaks:
// test/engine/memory-plan.test.ts and the bench).
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { GARBAGE_BYTES, TOKENIZE_BYTES_PER_CHAR, keptBytes, keyBytes, planBefore, planMemory, summaryBytes, tokenizeChars, tokensWithin } from '../../src/core/engine/memory-plan';
import { readManifest } from '../../src/core/model/manifest';
import { MODEL_DIR } from '../common/fixtures';

const MB = 1024 * 1024;
const dims = readManifest(MODEL_DIR).dims;

describe('memory plan', () => {
  it('the plan grows with T, and tokensWithin is the largest T whose plan fits (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 100, max: 8000 }), fc.integer({ min: 1, max: 300_000 }), (wanted, budgetMB, chars) => {
        const fit = tokensWithin(dims, wanted, budgetMB * MB, chars);
        const plan = (T: number): number => planBefore(dims, T, chars, true, 1).peakBytes;
        assert.ok(fit >= 1 && fit <= wanted);
        if (fit < wanted) {
          assert.ok(plan(fit + 1) > budgetMB * MB, 'one more token would not fit');
          if (plan(1) <= budgetMB * MB) assert.ok(plan(fit) <= budgetMB * MB);
        }
        assert.ok(plan(wanted + 1000) > plan(wanted));
      }),
      { numRuns: 200 },
    );
  });

  it('the tokenizer term is what the tokenizer is given, not a share of the budget', () => {
    const short = planMemory(dims, { tokens: 1000, tokenizeChars: 4000, encodedTokens: 1000, queryRows: 1, keep: true });
    assert.equal(short.terms.tokenizer, 4000 * TOKENIZE_BYTES_PER_CHAR + 1000 * 3 * (4 + 8));
    const long = planMemory(dims, { tokens: 1000, tokenizeChars: tokenizeChars(4096 * MB), encodedTokens: 12_000, queryRows: 1, keep: true });
    assert.ok(long.terms.tokenizer > short.terms.tokenizer * 10);
    for (const budgetMB of [256, 1024, 4096, 65536]) {
      const chars = tokenizeChars(budgetMB * MB);
      assert.ok(chars >= 16 * 1024 && chars <= 256 * 1024);
      assert.ok(chars * TOKENIZE_BYTES_PER_CHAR <= Math.max((budgetMB * MB) / 16, 16 * MB));
    }
  });

  it('counts the kept run once: its keys always (a run allocates them), the summaries copy only when kept', () => {
    for (const T of [1, 500, 4000, 32_000]) {
      const req = { tokens: T, tokenizeChars: 0, encodedTokens: T, queryRows: 0 };
      const kept = planMemory(dims, { ...req, keep: true });
      const notKept = planMemory(dims, { ...req, keep: false });
      assert.equal(kept.terms.kept, keptBytes(dims, T));
      assert.equal(notKept.terms.kept, keyBytes(dims, T));
      assert.equal(kept.peakBytes - notKept.peakBytes, summaryBytes(dims, T));
      assert.equal(kept.terms.allocator, 0.5 * keptBytes(dims, T));
      const sum = Object.values(kept.terms).reduce((a, b) => a + b, 0);
      assert.equal(kept.peakBytes, sum, 'the peak is the sum of its terms');
    }
  });

  it('bounds uncollected graph outputs by the worker collection threshold, and short runs by what they make', () => {
    const req = { tokenizeChars: 0, queryRows: 0, keep: true };
    const short = planMemory(dims, { ...req, tokens: 50, encodedTokens: 50 });
    const long = planMemory(dims, { ...req, tokens: 32_000, encodedTokens: 32_000 });
    assert.ok(short.terms.garbage < 2 * MB, `50 tokens: ${short.terms.garbage} bytes`);
    assert.ok(long.terms.garbage >= GARBAGE_BYTES && long.terms.garbage < GARBAGE_BYTES + 16 * MB);
    assert.ok(GARBAGE_BYTES < 64 * MB);
  });
});

describe('memory plan: sliding-window layers', () => {
  const req = { tokenizeChars: 0, queryRows: 0, keep: true };
  it('calls and their outputs are sized by the window when every layer slides; the kept keys are not', () => {
    const sliding = { ...dims, windows: Array.from({ length: dims.layers }, () => 256) };
    for (const T of [4000, 32_000]) {
      const full = planMemory(dims, { ...req, tokens: T, encodedTokens: T });
      const windowed = planMemory(sliding, { ...req, tokens: T, encodedTokens: T });
      assert.equal(windowed.terms.kept, full.terms.kept, 'rows of any query need every key');
      assert.ok(windowed.terms.call < full.terms.call, `${T} tokens: an attention call holds a window of keys, not all of them`);
      assert.ok(windowed.terms.garbage <= full.terms.garbage);
      assert.ok(windowed.peakBytes < full.peakBytes, `${T} tokens: ${windowed.peakBytes} < ${full.peakBytes}`);
    }
    // One full layer sizes the largest call as before.
    const mixed = { ...dims, windows: [256, null, 256, 256, 256, 256] };
    const T = 8000;
    assert.equal(planMemory(mixed, { ...req, tokens: T, encodedTokens: T }).terms.call, planMemory(dims, { ...req, tokens: T, encodedTokens: T }).terms.call);
  });

  it('a window wider than the text plans as full attention', () => {
    const wide = { ...dims, windows: Array.from({ length: dims.layers }, () => 100_000) };
    const T = 3000;
    assert.deepEqual(planMemory(wide, { ...req, tokens: T, encodedTokens: T }), planMemory(dims, { ...req, tokens: T, encodedTokens: T }));
  });
});
