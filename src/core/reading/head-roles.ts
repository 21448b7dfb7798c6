// Names each head by what it does on the inspected document (previous-token, sink, induction, ...).
// A pattern is a set of keys per query; its score is the attention mass the head puts on those
// keys, averaged over the queries where the pattern is defined. Masses come from the top-k keys
// each query keeps, so every score is a lower bound of the full-row mass (keys outside the top k
// are missed); it is exact for queries that see k keys or fewer.
import type { Inspection, Token } from '../inspection-types';
import type { TopKAttention } from './top-k-attention';
import { checkTopK, inspectionTopK } from './top-k-attention';

export const HEAD_ROLES = ['previous-token', 'local', 'first-token', 'duplicate-token', 'induction', 'broad'] as const;
export type HeadRole = (typeof HEAD_ROLES)[number];

/** Keys at distance <= LOCAL_WINDOW (i - 3 .. i) are near. */
export const LOCAL_WINDOW = 3;

/**
 * A pattern counts when its score reaches its threshold: 0.4 of the mass on a few keys is far above
 * chance on a long document. Local needs half: its keys are several and include the previous token.
 */
export const ROLE_THRESHOLDS: Readonly<Record<Exclude<HeadRole, 'broad'>, number>> = {
  'previous-token': 0.4,
  'first-token': 0.4,
  'duplicate-token': 0.4,
  induction: 0.4,
  local: 0.5,
};

/** Compared by score; local only when none of these counts, since its keys contain the previous token. */
const SPECIFIC = ['previous-token', 'first-token', 'duplicate-token', 'induction'] as const;

export interface RoleInput extends TopKAttention {
  /** [head][query]: entropy of each full attention row, nats. */
  entropy: Float32Array;
  /** [token]: equal values mean the same token (vocabulary ids, or textIdentities). */
  ids: Int32Array;
  /** [head]: a sliding layer's window (query i sees keys i - w + 1 .. i), null for full attention; absent: every head full. */
  windows?: (number | null)[];
}

export interface HeadRoles {
  role: HeadRole;
  /** The role's score, in [0, 1]. */
  score: number;
  /**
   * Every pattern's score in [0, 1]: mass on the pattern's keys, mean over the queries where it is
   * defined (0 where it is defined nowhere). Broad: mean entropy over ln(keys seen), queries 1 on.
   * Computed for every pattern so that a view can show the runner-up.
   */
  scores: Record<HeadRole, number>;
}

/**
 * Per query i, the pattern's keys; a pattern is defined where it names some of the keys i sees but
 * not all (so early queries, which see few keys, do not count trivially; in a sliding layer the keys
 * i sees are its window, so key 0 past the window is no sink):
 * - previous-token: key i - 1;
 * - first-token (attention sink): key 0;
 * - local: keys i - LOCAL_WINDOW .. i;
 * - duplicate-token: earlier keys j < i holding the same token as i;
 * - induction: keys j < i whose previous token j - 1 is the same as i's: the token after an earlier
 *   occurrence (the query itself is not a key, so runs of one token do not count);
 * - broad: no pattern reaches its threshold; its score is the mean entropy over ln(keys seen), queries
 *   that see two keys or more.
 * The best-scoring specific pattern that reaches its threshold wins, then local, then broad.
 * Returns one entry per head, in input order.
 */
export function classifyHeads(input: RoleInput): HeadRoles[] {
  checkTopK(input);
  const { heads, tokens: T, k, index, weight, entropy, ids } = input;
  if (entropy.length !== heads * T) throw new RangeError(`head roles: entropy has ${entropy.length} entries, expected ${heads * T}`);
  if (ids.length !== T) throw new RangeError(`head roles: ${ids.length} token ids for ${T} tokens`);
  // Latest earlier position of each query's token (-1: none), and the latest before i - 1 (induction's).
  const seen = new Map<number, number>();
  const lastAt = new Int32Array(T);
  for (let i = 0; i < T; i++) {
    lastAt[i] = seen.get(ids[i]) ?? -1;
    seen.set(ids[i], i);
  }
  const out: HeadRoles[] = [];
  for (let h = 0; h < heads; h++) {
    const window = input.windows?.[h] ?? null;
    const sum = { prev: 0, first: 0, local: 0, dup: 0, ind: 0, broad: 0 };
    const count = { prev: 0, first: 0, local: 0, dup: 0, ind: 0, broad: 0 };
    for (let i = 1; i < T; i++) {
      let prev = 0;
      let first = 0;
      let local = 0;
      let dup = 0;
      let ind = 0;
      const base = (h * T + i) * k;
      for (let r = 0; r < k; r++) {
        const j = index[base + r];
        if (j < 0 || j > i) continue;
        const w = weight[base + r];
        if (j === i - 1) prev += w;
        if (j === 0) first += w;
        if (i - j <= LOCAL_WINDOW) local += w;
        if (j < i && ids[j] === ids[i]) dup += w;
        if (j >= 1 && j < i && ids[j - 1] === ids[i]) ind += w;
      }
      const lowest = window === null ? 0 : Math.max(0, i - window + 1); // the first key i sees
      if (i - 1 >= lowest) {
        sum.prev += prev;
        count.prev++;
      }
      if (lowest === 0) {
        sum.first += first;
        count.first++;
      }
      if (i > LOCAL_WINDOW && i - LOCAL_WINDOW > lowest) {
        sum.local += local;
        count.local++;
      }
      if (lastAt[i] >= lowest) {
        sum.dup += dup;
        count.dup++;
      }
      const before = lastAt[i] === i - 1 ? lastAt[i - 1] : lastAt[i]; // the same token's latest position before i - 1
      if (before >= 0 && before + 1 >= lowest) {
        sum.ind += ind;
        count.ind++;
      }
      if (i > lowest) {
        sum.broad += entropy[h * T + i] / Math.log(i + 1 - lowest);
        count.broad++;
      }
    }
    const mean = (key: keyof typeof sum): number => (count[key] > 0 ? Math.min(1, Math.max(0, sum[key] / count[key])) : 0);
    const scores: Record<HeadRole, number> = {
      'previous-token': mean('prev'),
      local: mean('local'),
      'first-token': mean('first'),
      'duplicate-token': mean('dup'),
      induction: mean('ind'),
      broad: mean('broad'),
    };
    let role: HeadRole = 'broad';
    for (const p of SPECIFIC) {
      if (scores[p] >= ROLE_THRESHOLDS[p] && (role === 'broad' || scores[p] > scores[role])) role = p;
    }
    if (role === 'broad' && scores.local >= ROLE_THRESHOLDS.local) role = 'local';
    out.push({ role, score: scores[role], scores });
  }
  return out;
}

/**
 * Token identities from texts: equal texts get equal numbers. Byte-level BPE maps a text to one id,
 * except tokens holding part of a character (empty text): each of those gets its own number.
 */
export function textIdentities(tokens: readonly Token[]): Int32Array {
  const byText = new Map<string, number>();
  return Int32Array.from(tokens, (t, i) => {
    if (t.text === '') return -1 - i;
    let id = byText.get(t.text);
    if (id === undefined) byText.set(t.text, (id = byText.size));
    return id;
  });
}

/** Roles of every head of an inspection, indexed layer * heads + head. */
export function inspectionHeadRoles(insp: Inspection): HeadRoles[] {
  const { heads, windows } = insp.model;
  const perHead = windows && Array.from({ length: windows.length * heads }, (_, h) => windows[Math.floor(h / heads)]);
  return classifyHeads({ ...inspectionTopK(insp), entropy: insp.entropy, ids: textIdentities(insp.tokens), windows: perHead });
}
