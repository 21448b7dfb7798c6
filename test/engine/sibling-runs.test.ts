// Background sibling runs (core/sibling-runs.ts): the modes asked for run on the shown window at idle
// priority, an edit cancels them, a foreground run makes them yield, the memory plan counts them,
// and a kept partner resumes incrementally after an edit like the shown run.
import * as assert from 'node:assert/strict';
import { DocumentSession } from '../../src/core/engine/document-session';
import { ModelRunner } from '../../src/core/engine/runner';
import { SiblingRuns, siblingFits } from '../../src/core/engine/sibling-runs';
import type { Inspection } from '../../src/core/inspection-types';
import { MODEL_DIR, longCode } from '../common/fixtures';

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('sibling runs', function () {
  this.timeout(300_000);
  const logs: string[] = [];
  let runner: ModelRunner;
  before(async () => {
    runner = await ModelRunner.open(MODEL_DIR, (line) => logs.push(line));
  });
  after(() => runner.dispose());
  const finished = (mode: string): number => logs.filter((l) => l.startsWith(`inspection: ${mode},`)).length;

  it('runs the modes asked for on the shown window once nothing runs in the foreground, and no other', async () => {
    const session = new DocumentSession(runner);
    const shown = await session.inspect({ text: longCode(3000), mode: 'softmax', cacheKey: 'a@1' });
    const runs = new SiblingRuns(() => false);
    const others = ['ssmax', 'ssmax-posthoc'] as const;
    runs.schedule('a', session, shown, others);
    await runs.wait('a', shown, others, 150_000);
    for (const m of others) {
      assert.equal(runs.status('a', shown, m)?.state, 'done', m);
      const sib = session.cachedSibling(shown, m);
      assert.ok(sib, `${m} is cached`);
      assert.deepEqual(sib.range, shown.range, 'the same window');
    }
    assert.equal(runs.status('a', shown, 'logn-scaling'), undefined, 'a mode not asked for is not planned');
    assert.equal(session.cachedSibling(shown, 'logn-scaling'), undefined);
    runs.dispose();
    session.dispose();
  });

  it('an edit (cancel) stops the running sibling: it never completes nor lands in the cache', async () => {
    const session = new DocumentSession(runner);
    const shown = await session.inspect({ text: longCode(12_000), mode: 'softmax', cacheKey: 'b@1' });
    const before = finished('ssmax');
    const runs = new SiblingRuns(() => false);
    runs.schedule('b', session, shown, ['ssmax']);
    await until('the ssmax sibling to report progress', () => (runs.status('b', shown, 'ssmax')?.done ?? 0) > 0);
    assert.equal(runs.status('b', shown, 'ssmax')?.state, 'running');
    runs.cancel('b');
    assert.equal(runs.status('b', shown, 'ssmax'), undefined, 'the plan is gone');
    // A run queued behind it in the worker completes only after the aborted one has left.
    await session.inspect({ text: longCode(500), mode: 'softmax', cacheKey: 'c@1' });
    assert.equal(finished('ssmax'), before, 'the ssmax run was aborted, not completed');
    assert.equal(session.cachedSibling(shown, 'ssmax'), undefined);
    runs.dispose();
    session.dispose();
  });

  it('switching to the mode whose sibling was just cancelled runs it afresh instead of joining the aborted run', async () => {
    const session = new DocumentSession(runner);
    const text = longCode(12_000);
    const shown = await session.inspect({ text, mode: 'softmax', cacheKey: 'r@1' });
    const runs = new SiblingRuns(() => false);
    runs.schedule('r', session, shown, ['ssmax']);
    await until('the ssmax sibling to report progress', () => (runs.status('r', shown, 'ssmax')?.done ?? 0) > 0);
    // What a mode switch does: cancel the document's background runs, then ask for that mode.
    runs.cancel('r');
    const switched = await session.runForeground({ text, mode: 'ssmax', cacheKey: 'r@1' });
    assert.ok(switched, 'the switch gets an inspection, not the aborted run\'s AbortError');
    assert.equal(switched.mode, 'ssmax');
    assert.deepEqual(switched.range, shown.range);
    runs.dispose();
    session.dispose();
  });

  it('waits while a foreground run is under way, yields to one that starts, and goes on after it', async () => {
    const session = new DocumentSession(runner);
    const shown = await session.inspect({ text: longCode(6000), mode: 'softmax', cacheKey: 'd@1' });
    let busy = true;
    const runs = new SiblingRuns(() => busy);
    runs.schedule('d', session, shown, ['ssmax']);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(runs.status('d', shown, 'ssmax')?.state, 'queued', 'idle priority: nothing starts while the foreground is busy');
    busy = false;
    runs.pump();
    await until('the sibling to run', () => (runs.status('d', shown, 'ssmax')?.done ?? 0) > 0);
    busy = true;
    runs.pause();
    const paused = runs.status('d', shown, 'ssmax');
    assert.equal(paused?.state, 'queued', 'it yields and is queued again');
    assert.equal(paused?.done, 0);
    busy = false;
    runs.pump();
    await runs.wait('d', shown, ['ssmax'], 150_000);
    assert.equal(runs.status('d', shown, 'ssmax')?.state, 'done');
    assert.ok(session.cachedSibling(shown, 'ssmax'));
    runs.dispose();
    session.dispose();
  });

  it('wait() returns after its time limit, or at once when its signal aborts', async () => {
    const session = new DocumentSession(runner);
    const shown = await session.inspect({ text: longCode(1000), mode: 'softmax', cacheKey: 'e@1' });
    const runs = new SiblingRuns(() => true); // never starts: the wait can only end by time or signal
    runs.schedule('e', session, shown, ['ssmax']);
    let t0 = performance.now();
    await runs.wait('e', shown, ['ssmax'], 150);
    const waited = performance.now() - t0;
    assert.ok(waited >= 140, `waited ${waited.toFixed(0)} ms`);
    const abort = new AbortController();
    t0 = performance.now();
    const w = runs.wait('e', shown, ['ssmax'], 60_000, abort.signal);
    abort.abort();
    await w;
    assert.ok(performance.now() - t0 < 1000, 'the aborted wait returns at once');
    runs.dispose();
    session.dispose();
  });

  it('counts the shown run in the memory plan: a sibling runs only when its plan and the kept run fit the budget', async () => {
    assert.equal(siblingFits(150_000, 50_000, 200_000), true);
    assert.equal(siblingFits(150_000, 50_001, 200_000), false);
    // A budget the shown run fits alone (with 1 MB to spare), but not with a second run beside its kept keys.
    const text = longCode(16_000);
    const T = (await new DocumentSession(runner).inspect({ text, mode: 'softmax', keepKeys: false })).tokens.length;
    const small = await ModelRunner.open(MODEL_DIR, () => undefined, { memoryBudgetBytes: runner.planFor(T, text.length).peakBytes + 1024 * 1024 });
    try {
      const session = new DocumentSession(small);
      const shown = await session.inspect({ text, mode: 'softmax', cacheKey: 'f@1' });
      assert.equal(shown.windowed, false, 'the shown run fits alone');
      const runs = new SiblingRuns(() => false);
      runs.schedule('f', session, shown, ['ssmax'], true);
      const st = runs.status('f', shown, 'ssmax');
      assert.equal(st?.state, 'skipped');
      assert.match(st?.reason ?? '', /memory budget/);
      runs.dispose();
      session.dispose();
    } finally {
      await small.dispose();
    }
  });

  it('a kept partner resumes after an edit at the end, like the shown run, and matches a full run', async () => {
    const text = longCode(3000);
    let session = new DocumentSession(runner);
    const runs = new SiblingRuns(() => session.busy);
    const shown = (await session.runForeground({ text, mode: 'softmax', cacheKey: 'g@1', keptRuns: 2 })) as Inspection;
    runs.schedule('g', session, shown, ['ssmax'], true);
    await runs.wait('g', shown, ['ssmax'], 150_000);
    assert.equal(runs.status('g', shown, 'ssmax')?.state, 'done');
    // The edit: a new session of the document resumes from the old one's kept runs (inspected-documents.ts).
    session = new DocumentSession(runner, { resumeFrom: session.resumable });
    const edited = `${text}\nx = 1\n`;
    const shown2 = (await session.runForeground({ text: edited, mode: 'softmax', cacheKey: 'g@2', keptRuns: 2 })) as Inspection;
    assert.ok(shown2.reusedTokens > 0, 'the shown run resumed');
    runs.schedule('g', session, shown2, ['ssmax'], true);
    await runs.wait('g', shown2, ['ssmax'], 150_000);
    const partner = session.cachedSibling(shown2, 'ssmax');
    assert.ok(partner && partner.reusedTokens > 0, `the partner resumed (${partner?.reusedTokens} tokens reused)`);
    const full = await new DocumentSession(runner).inspect({ text: edited, mode: 'ssmax', keepKeys: false });
    let worst = 0;
    for (let i = 0; i < full.focus.length; i++) worst = Math.max(worst, Math.abs(full.focus[i] - partner.focus[i]));
    assert.ok(worst < 1e-5, `focus differs from a full run by ${worst}`);
    runs.dispose();
    session.dispose();
  });
});
