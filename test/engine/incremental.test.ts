// Incremental re-inspection (resume.ts): after an edit, a foreground run recomputes only from the
// first changed token, and its result equals a full run of the edited text, in every mode.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { DocumentSession } from '../../src/core/engine/document-session';
import { ModelRunner } from '../../src/core/engine/runner';
import type { Inspection } from '../../src/core/inspection-types';
import { MODEL_DIR, longCode } from '../common/fixtures';

// Resumed runs chained one after another carry prefixes computed under earlier runs' row tilings:
// on this machine's CPU weights moved by up to 1.2e-5 (the starting commit failed at 1e-5 too). A
// wrong key, weight or resume point is off by orders of magnitude more.
const TOL = 2e-5;

/** Every output of `got` within 1e-5 of `want` (top-k keys: the same, or weights tied within it). */
function assertSame(got: Inspection, want: Inspection, what: string): void {
  const T = want.tokens.length;
  const K = want.model.topK;
  assert.equal(got.tokens.length, T, `${what}: tokens`);
  assert.deepEqual(got.tokens, want.tokens, `${what}: token list`);
  assert.equal(got.pooled.binSize, want.pooled.binSize, `${what}: bin size`);
  assert.equal(got.pooled.bins, want.pooled.bins, `${what}: bins`);
  const near = (a: Float32Array, b: Float32Array, name: string, tolOf: (want: number, at: number) => number = () => TOL): void => {
    assert.equal(a.length, b.length, `${what}: ${name} length`);
    for (let i = 0; i < a.length; i++) {
      const tol = tolOf(b[i], i);
      if (!(Math.abs(a[i] - b[i]) <= tol)) assert.fail(`${what}: ${name}[${i}] = ${a[i]}, full run ${b[i]} (tolerance ${tol})`);
    }
  };
  near(got.focus, want.focus, 'focus');
  // Entropy is lse - q . sum_j w_j k_j: two float32 terms of about ln T that cancel. A resumed block
  // has fewer query rows than the full run's, so onnxruntime may tile its products otherwise and
  // their last bits differ (seen: 1.05e-5 at 1,900 tokens on this machine's CPU); the tolerance
  // scales with the terms.
  near(got.entropy, want.entropy, 'entropy', () => TOL * Math.log(T));
  near(got.sink, want.sink, 'sink');
  // Surprisal is lse - target over the vocabulary: the same float32 cancellation, relative to its size.
  near(got.surprisal, want.surprisal, 'surprisal', (w) => TOL * Math.max(1, w));
  near(got.pooled.data, want.pooled.data, 'pooled');
  near(got.topWeight, want.topWeight, 'top-k weight');
  // distance is q_pos - sum_j w_j j: a resumed block's different row tiling (and a kept prefix
  // computed by an earlier run's) changes the logits in their last bits, so each weight by about
  // 1e-6 of itself, and the mean key position by a few 1e-6 of the position (seen on this CPU:
  // 1.8e-3 near position 1,800, 2.2e-6 of it near 650). Within 1e-5 or 5e-6 of the query's
  // position; a wrong key or weight would be off by whole positions.
  near(got.distance, want.distance, 'distance', (_, at) => Math.max(TOL, 5e-6 * (at % T)));
  near(got.distanceMass, want.distanceMass, 'distance mass');
  // Support sizes are counts from the same rows: equal, query by query (0 where not measured).
  assert.deepEqual(got.support, want.support, `${what}: support size`);
  for (let r = 0; r < got.topIndex.length / K; r++) {
    for (let k = 0; k < K; k++) {
      const at = r * K + k;
      if (got.topIndex[at] === want.topIndex[at]) continue;
      // Near-equal weights may order either way; each key's weight is checked above by position. The
      // last place may tie with the first key left out, which the top k do not show.
      const w = want.topWeight[at];
      const tied = k === K - 1 || [at - 1, at + 1].some((o) => o >= r * K && o < (r + 1) * K && Math.abs(want.topWeight[o] - w) <= TOL);
      assert.ok(tied, `${what}: top-k key ${k} of row ${r}: ${got.topIndex[at]}, full run ${want.topIndex[at]}`);
    }
  }
}

interface Edit {
  at: number;
  remove: number;
  insert: string;
}

function applyEdit(text: string, e: Edit): string {
  const at = Math.min(e.at, text.length);
  return text.slice(0, at) + e.insert + text.slice(Math.min(text.length, at + e.remove));
}

describe('incremental re-inspection', function () {
  this.timeout(600_000);
  const logs: string[] = [];
  let runner: ModelRunner;
  before(async () => {
    runner = await ModelRunner.open(MODEL_DIR, (line) => logs.push(line));
  });
  after(() => runner.dispose());

  /** A full run that leaves the worker's kept run alone. */
  const full = (text: string, mode: Inspection['mode']): Promise<Inspection> => new DocumentSession(runner).inspect({ text, mode, keepKeys: false });

  // About 1,900 tokens: under 2,048, where the RoPE band (and so the run's set-up) changes.
  const base = longCode(5200);

  it('an edit at the end and one in the middle resume, and equal a full run', async () => {
    const session = new DocumentSession(runner);
    const first = await session.runForeground({ text: base, mode: 'softmax' });
    assert.ok(first);
    assert.equal(first.reusedTokens, 0, 'the first run is full');
    const T = first.tokens.length;
    assert.ok(T > 1500 && T < 2048, `${T} tokens`);

    const atEnd = base + '\n// one more line\n';
    const end = await session.runForeground({ text: atEnd, mode: 'softmax' });
    assert.ok(end);
    assert.ok(end.reusedTokens >= T - 2 * end.pooled.binSize, `an end edit reuses nearly everything (${end.reusedTokens} of ${end.tokens.length})`);
    assert.ok(logs.some((l) => l.includes(`incremental: ${end.reusedTokens.toLocaleString('en-US')} of`)), 'the log says it was incremental');
    assertSame(end, await full(atEnd, 'softmax'), 'edit at the end');

    const middle = applyEdit(atEnd, { at: 3000, remove: 5, insert: 'let x = 1;\n' });
    const mid = await session.runForeground({ text: middle, mode: 'softmax' });
    assert.ok(mid);
    assert.ok(mid.reusedTokens > 0.3 * T && mid.reusedTokens < 0.7 * T, `a middle edit reuses the tokens before it (${mid.reusedTokens})`);
    assertSame(mid, await full(middle, 'softmax'), 'edit in the middle');

    // The same text again (a cache miss: another key) takes the kept run whole.
    const same = await session.runForeground({ text: middle, mode: 'softmax', cacheKey: 'again' });
    assert.ok(same);
    assert.equal(same.reusedTokens, same.tokens.length);
    assertSame(same, mid, 'unchanged text');
  });

  it('falls back to a full run, and says why, when the set-up changed or the first token did', async () => {
    const session = new DocumentSession(runner);
    await session.runForeground({ text: base, mode: 'ssmax' });
    const changed = 'X' + base;
    const r = await session.runForeground({ text: changed, mode: 'ssmax' });
    assert.ok(r);
    assert.equal(r.reusedTokens, 0);
    assert.ok(logs.some((l) => l.includes('full run (the first token changed)')), logs.slice(-3).join('\n'));
    // Past 2,048 tokens the RoPE scale changes: nothing before the edit is the same either.
    const longer = changed + longCode(1200);
    const l = await session.runForeground({ text: longer, mode: 'ssmax' });
    assert.ok(l);
    assert.ok(l.tokens.length > 2048);
    assert.equal(l.reusedTokens, 0);
    assert.ok(logs.some((x) => x.includes('full run (the RoPE scale changed')), logs.slice(-3).join('\n'));
    assertSame(l, await full(longer, 'ssmax'), 'after a fallback');
  });

  const runs = Number(process.env.AL_INCREMENTAL_RUNS ?? 2);
  for (const mode of ['softmax', 'ssmax', 'ssmax-posthoc', 'ministral3-scaling', 'logn-scaling'] as const) {
    it(`equals a full run after random edits under ${mode} (property)`, async function () {
      if (!runner.modes.includes(mode)) this.skip();
      const session = new DocumentSession(runner);
      await session.runForeground({ text: base, mode });
      const unit = fc.constantFrom('a', 'Z', '0', ' ', '\n', '\t', '(', '}', ';', 'é', '日本', '🙂', '\r\n');
      const edit = fc.record({
        at: fc.integer({ min: 0, max: base.length }),
        remove: fc.integer({ min: 0, max: 40 }),
        insert: fc.string({ unit, maxLength: 12 }),
      });
      let resumed = 0;
      await fc.assert(
        fc.asyncProperty(edit, async (e) => {
          const text = applyEdit(base, e);
          fc.pre(text.length > 0);
          // The session's last foreground run is the base or an earlier edit: either is a valid start.
          const got = await session.runForeground({ text, mode });
          assert.ok(got);
          if (got.reusedTokens > 0) resumed++;
          assertSame(got, await full(text, mode), `${mode}, edit ${JSON.stringify(e)}`);
        }),
        {
          seed: 17,
          numRuns: runs,
          examples: [[{ at: base.length, remove: 0, insert: '\n}\n' }], [{ at: Math.floor(base.length / 2), remove: 3, insert: 'é🙂\n' }]],
        },
      );
      assert.ok(resumed >= 2, `runs that resumed: ${resumed}`);
    });
  }
});
