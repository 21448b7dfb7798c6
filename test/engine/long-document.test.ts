// A document longer than the tokenizer's piece (memory-plan.ts) is tokenized only around its window:
// the window holds exactly the tokens whole-document tokenization puts there, the count is an
// estimate and says so, and a generated 30 MB file opens a window within the memory plan.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import fc from 'fast-check';
import { DocumentSession } from '../../src/core/engine/document-session';
import { ModelRunner } from '../../src/core/engine/runner';
import { tokenIndex } from '../../src/core/model/tokenizer';
import type { Encoding } from '../../src/core/model/tokenizer';
import { MODEL_DIR, ROOT, longCode } from '../common/fixtures';

const MB = 1024 * 1024;

describe('a long document', function () {
  this.timeout(120_000);
  let runner: ModelRunner;
  let text: string;
  let whole: Encoding;
  before(async () => {
    // A small budget gives the smallest pieces (16K characters): the most cuts.
    runner = await ModelRunner.open(MODEL_DIR, () => undefined, { memoryBudgetBytes: 256 * MB });
    text = longCode(200_000).replace(/\n/g, (m, i: number) => (i % 3 === 0 ? '\r\n' : m)) + ' 😀 end';
    whole = await runner.encode(text);
    assert.ok(runner.tokenizeChars < text.length, 'the document is longer than a piece');
  });
  after(async () => {
    await runner.dispose();
  });

  it('windows hold the tokens of whole-document tokenization, around any center (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: text.length }), fc.integer({ min: 50, max: 600 }), async (center, maxTokens) => {
        const insp = await new DocumentSession(runner).inspect({ text, mode: 'softmax', maxTokens, centerOffset: center });
        const n = whole.ids.length;
        const first = Math.max(0, Math.min(tokenIndex(whole, center) - Math.floor(maxTokens / 2), n - maxTokens));
        assert.equal(insp.tokens.length, maxTokens);
        insp.tokens.forEach((t, k) => {
          assert.equal(t.start, whole.starts[first + k], `token ${k} start`);
          assert.equal(t.end, whole.ends[first + k], `token ${k} end`);
        });
        assert.equal(insp.windowed, true);
        assert.equal(insp.documentTokensEstimated, true);
        assert.ok(Math.abs(insp.documentTokens - n) < 0.3 * n, `estimate ${insp.documentTokens} of ${n}`);
      }),
      { numRuns: 10, seed: 17 },
    );
  });

  it('keeps a window while the center stays in its middle half, and runs its needle again', async () => {
    const session = new DocumentSession(runner);
    const a = await session.inspect({ text, mode: 'softmax', maxTokens: 400, centerOffset: 100_000 });
    assert.equal(await session.inspect({ text, mode: 'softmax', maxTokens: 400, centerOffset: a.tokens[220].start }), a);
    const b = await session.inspect({ text, mode: 'ssmax', maxTokens: 400, centerOffset: a.tokens[120].start });
    assert.deepEqual(b.range, a.range);
    const moved = await session.inspect({ text, mode: 'softmax', maxTokens: 400, centerOffset: a.tokens[390].start });
    assert.ok(moved.range.start > a.range.start);
    const needle = await runner.needleByRun(a, { start: 100, end: 102 }, { text });
    assert.equal(needle.length, runner.model.layers * runner.model.heads * (a.tokens.length - 102));
  });

  it('a generated 30 MB file opens a window within the memory plan, tokenizing only around it', () => {
    // Fresh processes measure the extra peak (VmHWM reset after a full GC), as the benchmark does.
    const child = (...args: number[]): { start: number; end: number; starts: number[]; extraMB: number; estimateMB: number; documentTokensEstimated: boolean } => {
      const r = spawnSync(process.execPath, ['--expose-gc', path.join(ROOT, 'dist', 'bench.js'), '--huge-child', ...args.map(String)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as ReturnType<typeof child>;
    };
    const huge = child(30, 2048);
    assert.equal(huge.starts.length, 2048);
    assert.equal(huge.documentTokensEstimated, true);
    // Tokenizing all 30 MB would take several GB (about 200 bytes a character of code).
    assert.ok(huge.extraMB <= huge.estimateMB, `extra peak ${huge.extraMB.toFixed(0)} MB > estimate ${huge.estimateMB.toFixed(0)} MB`);
    const cut = child(30, 2048, huge.start, huge.end);
    assert.deepEqual(
      cut.starts.map((st) => st + huge.start),
      huge.starts,
      'the window tokenizes as its text cut out',
    );
  });
});
