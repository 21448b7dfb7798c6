// The head-role classifier on constructed attention where the right answer is known, against a
// plain reference over full rows (the shipped model: test/engine/head-roles.test.ts).
import * as assert from 'node:assert/strict';
import type { HeadRole, HeadRoles } from '../../src/core/reading/head-roles';
import { HEAD_ROLES, LOCAL_WINDOW, ROLE_THRESHOLDS, classifyHeads, textIdentities } from '../../src/core/reading/head-roles';
import type { RowOf } from '../common/attention-patterns';
import { construct, lcg, onKey, randomRow, uniform } from '../common/attention-patterns';
import { close } from '../common/fixtures';

/** A B C D ... A B C D: n distinct random ids, twice. */
function repeatedRandom(n: number, seed: number): Int32Array {
  const rnd = lcg(seed);
  const ids = Array.from({ length: n }, (_, i) => i * 7 + 3);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return Int32Array.from([...ids, ...ids]);
}

function classify(heads: RowOf[], ids: Int32Array, k = 16): HeadRoles[] {
  const c = construct(heads, ids.length, k);
  return classifyHeads({ heads: c.heads, tokens: c.tokens, k: c.k, index: c.index, weight: c.weight, entropy: c.entropy, ids });
}

/** Mean over queries 1.. of f(i). */
function meanOver(T: number, f: (i: number) => number): number {
  let s = 0;
  for (let i = 1; i < T; i++) s += f(i);
  return s / (T - 1);
}

/** Pattern scores written straight from the definitions, over full rows ([query][key], T x T). */
function referenceScores(rows: Float32Array, entropy: Float32Array, ids: Int32Array): Record<HeadRole, number> {
  const T = ids.length;
  const keysOf: Record<Exclude<HeadRole, 'broad'>, (i: number, j: number) => boolean> = {
    'previous-token': (i, j) => j === i - 1,
    'first-token': (_i, j) => j === 0,
    local: (i, j) => i - j <= LOCAL_WINDOW,
    'duplicate-token': (i, j) => j < i && ids[j] === ids[i],
    induction: (i, j) => j >= 1 && j < i && ids[j - 1] === ids[i],
  };
  const out = {} as Record<HeadRole, number>;
  for (const [role, isKey] of Object.entries(keysOf) as [Exclude<HeadRole, 'broad'>, (i: number, j: number) => boolean][]) {
    let sum = 0;
    let n = 0;
    for (let i = 1; i < T; i++) {
      const keys = [];
      for (let j = 0; j <= i; j++) if (isKey(i, j)) keys.push(j);
      // Defined where the pattern names some keys but not all of them.
      if (keys.length === 0 || keys.length === i + 1) continue;
      sum += keys.reduce((m, j) => m + rows[i * T + j], 0);
      n++;
    }
    out[role] = n > 0 ? sum / n : 0;
  }
  out.broad = T > 1 ? meanOver(T, (i) => entropy[i] / Math.log(i + 1)) : 0;
  return out;
}

describe('head roles on constructed attention', () => {
  const n = 20;
  const ids = repeatedRandom(n, 5);
  const T = ids.length;

  it('a pure previous-token head', () => {
    const [r] = classify([(i) => onKey(i, Math.max(0, i - 1))], ids);
    assert.equal(r.role, 'previous-token');
    close(r.score, 1, 1e-6, 'score');
    close(r.scores['first-token'], 1 / (T - 1), 1e-6, 'first-token: only query 1, whose previous key is key 0');
    assert.equal(r.scores['duplicate-token'], 0);
    assert.equal(r.scores.induction, 0);
    close(r.scores.broad, 0, 1e-6, 'one key: no entropy');
  });

  it('a sink head (all on the first token)', () => {
    const [r] = classify([(i) => onKey(i, 0)], ids);
    assert.equal(r.role, 'first-token');
    close(r.score, 1, 1e-6, 'score');
    close(r.scores['previous-token'], 1 / (T - 1), 1e-6, 'previous-token only at query 1');
    assert.equal(r.scores.local, 0, 'key 0 is far from every query past the window');
  });

  it('an induction head on a repeated random sequence: the second A attends to the first B', () => {
    // Second half: query i (token A) attends to key i - n + 1, the token after A's first occurrence.
    const head: RowOf = (i) => onKey(i, i >= n ? i - n + 1 : i);
    const [r] = classify([head], ids);
    assert.equal(r.role, 'induction');
    close(r.score, 1, 1e-6, 'score');
    assert.equal(r.scores['duplicate-token'], 0, 'the key after an occurrence is not the same token');
    assert.equal(ids[n], ids[0], 'query n is the second A');
    assert.equal(head(n).indexOf(1), 1, 'and attends to key 1, the first B');
  });

  it('a duplicate-token head: attends to the earlier occurrence of its own token', () => {
    const [r] = classify([(i) => onKey(i, i >= n ? i - n : i)], ids);
    assert.equal(r.role, 'duplicate-token');
    close(r.score, 1, 1e-6, 'score');
    assert.equal(r.scores.induction, 0);
  });

  it('a uniform head is broad, with a normalised entropy of 1', () => {
    const [r] = classify([uniform], ids, T);
    assert.equal(r.role, 'broad');
    close(r.score, 1, 1e-5, 'score');
    close(r.scores['previous-token'], meanOver(T, (i) => 1 / (i + 1)), 1e-6, 'previous-token mass = 1 / keys');
    close(r.scores['first-token'], r.scores['previous-token'], 1e-6, 'first-token mass = 1 / keys');
  });

  it('a local head: spread over the last few tokens, not mostly the previous one', () => {
    const head: RowOf = (i) => (i < LOCAL_WINDOW ? uniform(i) : onKeys(i, [i, i - 1, i - 2, i - 3], 0.25));
    const [r] = classify([head], ids);
    assert.equal(r.role, 'local');
    close(r.score, 1, 1e-6, 'score');
    assert.ok(r.scores['previous-token'] < ROLE_THRESHOLDS['previous-token']);
  });

  it('thresholds: previous-token just above and below its threshold; local only when no specific pattern counts', () => {
    const t = ROLE_THRESHOLDS['previous-token'];
    const prevThenSelf = (w: number): RowOf => (i) => (i === 0 ? [1] : withKeys(i, [[i - 1, w], [i, 1 - w]]));
    const [above, below] = classify([prevThenSelf(t + 0.01), prevThenSelf(t - 0.01)], ids);
    assert.equal(above.role, 'previous-token', 'local scores 1 here but the previous-token pattern counts');
    close(above.score, t + 0.01, 1e-6, 'score above');
    assert.equal(below.role, 'local');
    close(below.scores['previous-token'], t - 0.01, 1e-6, 'score below');
  });

  it('thresholds: local just above and below half the mass, the rest on a far key', () => {
    const L = ROLE_THRESHOLDS.local;
    const nearAndFar = (w: number): RowOf => (i) => (i <= LOCAL_WINDOW ? uniform(i) : withKeys(i, [[i, w / 3], [i - 2, w / 3], [i - 3, w / 3], [i - 4, 1 - w]]));
    const [above, below] = classify([nearAndFar(L + 0.02), nearAndFar(L - 0.02)], ids);
    assert.equal(above.role, 'local');
    close(above.score, L + 0.02, 1e-6, 'score above');
    assert.equal(below.role, 'broad');
    close(below.scores.local, L - 0.02, 1e-6, 'local below');
    for (const p of ['previous-token', 'first-token', 'duplicate-token', 'induction'] as const) assert.ok(below.scores[p] < ROLE_THRESHOLDS[p], p);
  });

  it('the best-scoring pattern above its threshold wins', () => {
    const split = (prev: number): RowOf => (i) => (i < 2 ? onKey(i, 0) : withKeys(i, [[i - 1, prev], [0, 1 - prev]]));
    const [moreSink, morePrev] = classify([split(0.45), split(0.55)], ids);
    assert.equal(moreSink.role, 'first-token');
    assert.equal(morePrev.role, 'previous-token');
    assert.ok(moreSink.scores['previous-token'] >= ROLE_THRESHOLDS['previous-token'], 'both patterns count');
  });

  it('one token: no pattern is defined, every score is 0, the head is broad', () => {
    const [r] = classify([(i) => onKey(i, 0)], Int32Array.from([4]));
    assert.equal(r.role, 'broad');
    assert.equal(r.score, 0);
    for (const role of HEAD_ROLES) assert.equal(r.scores[role], 0, role);
  });

  it('agrees with the reference over full rows; top-k scores are lower bounds', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rnd = lcg(seed);
      const len = 1 + Math.floor(rnd() * 40);
      const seq = Int32Array.from({ length: len }, () => Math.floor(rnd() * 6)); // small vocabulary: many repeats
      const heads: RowOf[] = [0.3, 1, 4].map((temp) => (i) => randomRow(lcg(seed * 100 + i), i, temp));
      const full = construct(heads, len, len);
      const exact = classifyHeads({ ...full, ids: seq });
      const top3 = classifyHeads({ ...construct(heads, len, 3), ids: seq });
      exact.forEach((r, h) => {
        const ref = referenceScores(full.rows.subarray(h * len * len, (h + 1) * len * len), full.entropy.subarray(h * len, (h + 1) * len), seq);
        for (const role of HEAD_ROLES) {
          close(r.scores[role], ref[role], 1e-5, `seed ${seed} head ${h} ${role}`);
          assert.ok(top3[h].scores[role] <= r.scores[role] + 1e-6, `seed ${seed} head ${h} ${role}: top-3 ${top3[h].scores[role]} > full ${r.scores[role]}`);
          assert.ok(r.scores[role] >= 0 && r.scores[role] <= 1);
        }
        assert.equal(r.score, r.scores[r.role]);
        if (r.role !== 'broad') assert.ok(r.score >= ROLE_THRESHOLDS[r.role]);
      });
    }
  });

  it('rejects inputs whose sizes disagree', () => {
    const c = construct([uniform], 4, 2);
    assert.throws(() => classifyHeads({ ...c, ids: new Int32Array(3) }), /3 token ids for 4 tokens/);
    assert.throws(() => classifyHeads({ ...c, k: 3, ids: new Int32Array(4) }), /expected 12 entries/);
    assert.throws(() => classifyHeads({ ...c, entropy: new Float32Array(3), ids: new Int32Array(4) }), /entropy has 3 entries, expected 4/);
  });

  it('textIdentities: equal texts share a number, tokens holding part of a character never match', () => {
    const tok = (text: string): { text: string; start: number; end: number } => ({ text, start: 0, end: text.length });
    const got = Array.from(textIdentities(['a', ' b', 'a', '', '', ' b'].map(tok)));
    assert.equal(got[0], got[2]);
    assert.equal(got[1], got[5]);
    assert.notEqual(got[0], got[1]);
    assert.equal(new Set(got).size, 4, 'the two empty texts differ from each other and from the rest');
  });
});

/** Equal weight w on each key, the rest of the row 0 (weights must sum to 1 by the caller's choice). */
function onKeys(i: number, keys: number[], w: number): number[] {
  return withKeys(
    i,
    keys.map((j) => [j, w]),
  );
}

function withKeys(i: number, weights: [number, number][]): number[] {
  const row = new Array<number>(i + 1).fill(0);
  for (const [j, w] of weights) row[j] += w;
  return row;
}

describe('head roles in sliding-window layers', () => {
  it('key 0 past the window is no sink: only queries that see it count, and nothing is NaN', () => {
    // Every query puts all its weight on key 0 when it sees it, else on itself (a window of 4).
    const T = 40;
    const k = 2;
    const index = new Int32Array(T * k).fill(-1);
    const weight = new Float32Array(T * k);
    for (let i = 0; i < T; i++) {
      index[i * k] = i < 4 ? 0 : i;
      weight[i * k] = 1;
    }
    const input = { heads: 1, tokens: T, k, index, weight, entropy: new Float32Array(T), ids: Int32Array.from({ length: T }, (_, i) => i) };
    const [windowed] = classifyHeads({ ...input, windows: [4] });
    assert.equal(windowed.scores['first-token'], 1, 'every query that sees key 0 puts its mass there');
    assert.equal(windowed.role, 'first-token');
    const [full] = classifyHeads(input);
    assert.ok(full.scores['first-token'] < 0.1, 'over full rows the same head rarely looks at key 0');
    const [one] = classifyHeads({ ...input, windows: [1] });
    assert.ok(Object.values(one.scores).every(Number.isFinite), 'a window of one key: no pattern divides by zero');
  });
});
