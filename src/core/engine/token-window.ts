// The document's tokens around a range without tokenizing the whole document: the tokenizer's
// memory grows with the text it is given (about 1 KB a character, memory-plan.ts), so a huge
// document is tokenized in pieces of bounded size and the pieces are stitched.
//
// Why stitching is exact: a tokenizer with a pre-tokenizer (byte-level BPE, Metaspace, ...)
// tokenizes each pre-token on its own, and its pre-token scan, once two scans of the same text
// put a boundary at the same place, goes on identically. A piece cut out of the document can differ
// from the whole-document tokens only near its cuts (a pre-token split by the cut, a prefix space
// added at its start). Consecutive pieces overlap by OVERLAP characters; they are stitched at the
// first boundary from which both give the same SYNC tokens (ids and offsets) while the earlier
// piece is still away from its own end. Tokens are kept only between two such stitches (or a
// document edge, where a piece is exact), so every kept token was produced by a piece whose cut
// on either side lies outside the agreement that vouches for it. Cuts are put at line starts
// where a line start is near, where code tokenizers agree at once.
//
// When two pieces never agree inside their overlap (a single pre-token longer than the overlap,
// such as thousands of '=' in a row crossing a cut), they are stitched at their last common
// boundary and the result is marked inexact; with no common boundary at all it throws.
import type { Encoding } from '../model/tokenizer';
import { lastStartingAtOrBefore } from '../reading/analysis';

/** Characters consecutive pieces share. */
export const OVERLAP = 4096;
/** Tokens two pieces must agree on to be stitched. */
const SYNC = 16;
/** How far back from a wanted cut a line start is looked for. */
const LINE_SLACK = 1024;

export type Encode = (text: string) => Promise<Encoding>;

/** A stretch of the document's tokens; offsets are document offsets. */
export interface EncodedRange extends Encoding {
  /** False when two pieces never agreed and were stitched at a common boundary (see above). */
  exact: boolean;
}

/**
 * The document's tokens covering at least [from, to), exactly as whole-document tokenization
 * gives them (see above), tokenizing at most `pieceChars` characters at once (at least 4 x OVERLAP).
 */
export async function encodeRange(encode: Encode, text: string, from: number, to: number, pieceChars: number): Promise<EncodedRange> {
  const n = text.length;
  const size = Math.max(pieceChars, 4 * OVERLAP);
  const ids: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  let exact = true;
  // The first piece starts at the document (exact) or is a small one that only vouches for the next.
  let s = from - 3 * OVERLAP <= 0 ? 0 : cutBefore(text, from - 3 * OVERLAP, 0);
  let trusted = s === 0;
  // Either way the piece's end stays before `from` or reaches past `to` by an overlap.
  let wanted = Math.min(size, s === 0 ? to + 2 * OVERLAP + LINE_SLACK : 2 * OVERLAP + LINE_SLACK);
  let prev: { enc: Encoding; from: number } | undefined;
  for (;;) {
    const e = s + wanted >= n ? n : cutBefore(text, s + wanted, s + wanted / 2);
    const cur = shift(await encode(text.slice(s, e)), s);
    let curFrom = 0;
    if (prev) {
      const st = stitch(prev.enc, cur, s);
      exact &&= st.agreed;
      if (trusted) push(prev.enc, prev.from, st.i);
      else trusted = true;
      curFrom = st.j;
      if (cur.starts[st.j] >= to) break;
    }
    if (e === n) {
      push(cur, curFrom, cur.ids.length);
      break;
    }
    prev = { enc: cur, from: curFrom };
    const next = cutBefore(text, e - OVERLAP, s + 1);
    // Reach past `to` by an overlap, so that the next stitch lands at or after it.
    wanted = Math.min(size, Math.max(to - next + 2 * OVERLAP + LINE_SLACK, 2 * OVERLAP + LINE_SLACK));
    s = next;
  }
  return { ids: Int32Array.from(ids), starts: Int32Array.from(starts), ends: Int32Array.from(ends), exact };

  function push(enc: Encoding, a: number, b: number): void {
    for (let k = a; k < b; k++) {
      ids.push(enc.ids[k]);
      starts.push(enc.starts[k]);
      ends.push(enc.ends[k]);
    }
  }
}

/** A cut at or before `at` and after `min`: a line start within LINE_SLACK, else `at` (never inside a surrogate pair). */
export function cutBefore(text: string, at: number, min: number): number {
  const line = text.lastIndexOf('\n', at - 1);
  if (line >= 0 && line + 1 > min && at - (line + 1) <= LINE_SLACK) return line + 1;
  const c = text.charCodeAt(at);
  const splitsPair = c >= 0xdc00 && c <= 0xdfff && at > min + 1 && isHigh(text.charCodeAt(at - 1));
  return splitsPair ? at - 1 : at;
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function shift(enc: Encoding, by: number): Encoding {
  for (let k = 0; k < enc.ids.length; k++) {
    enc.starts[k] += by;
    enc.ends[k] += by;
  }
  return enc;
}

/**
 * Where to pass from `a` (the earlier piece) to `b` (starting at bStart): token i
 * of a and token j of b start at the same offset, and both agree on the SYNC tokens from there
 * (or up to the document's end, where both end) without using a's last token. Falls back to the
 * last common boundary (agreed: false).
 */
function stitch(a: Encoding, b: Encoding, bStart: number): { i: number; j: number; agreed: boolean } {
  let i = 0;
  while (i < a.ids.length && a.starts[i] < bStart) i++;
  let j = 0;
  let last: { i: number; j: number } | undefined;
  const aLast = a.ids.length - 1;
  while (i <= aLast && j < b.ids.length) {
    if (a.starts[i] < b.starts[j]) i++;
    else if (a.starts[i] > b.starts[j]) j++;
    else {
      if (j > 0) last = { i, j };
      let k = 0;
      while (k < SYNC && i + k < aLast && j + k < b.ids.length && a.ids[i + k] === b.ids[j + k] && a.ends[i + k] === b.ends[j + k]) k++;
      // Fewer than SYNC tokens are left only where a reaches its end, which is a cut unless it ends the document.
      if (k === SYNC) return { i, j, agreed: true };
      i++;
      j++;
    }
  }
  if (last) return { ...last, agreed: false };
  throw new Error(`cannot tokenize this document in pieces: two pieces share no token boundary after offset ${bStart}`);
}

/** A document's tokens: all of them, or (a document longer than a piece) a stretch around a window. */
export interface DocumentTokens extends EncodedRange {
  /** Tokens in the whole document; for a stretch, estimated from its characters per token. */
  count: number;
  estimated: boolean;
}

/**
 * Tokens enough for a window of maxTokens centred on the token at `center` (or against the
 * document edge it reaches): the whole document when it fits in one piece, else a stretch of
 * about that many tokens, widened until the window fits.
 */
export async function tokensAround(encode: Encode, text: string, center: number, maxTokens: number, pieceChars: number): Promise<DocumentTokens> {
  const n = text.length;
  if (n <= pieceChars) {
    const enc = await encode(text);
    return { ...enc, exact: true, count: enc.ids.length, estimated: false };
  }
  let chars = 4 * maxTokens; // a guess (code takes 2.5 to 4 characters a token), doubled until it holds the window
  for (;;) {
    const to = Math.min(n, Math.max(center + Math.ceil(chars / 2), Math.min(chars, n)));
    const from = Math.max(0, to - chars);
    const r = await encodeRange(encode, text, from, to, pieceChars);
    const len = r.ids.length;
    if (len > 0 && r.starts[0] === 0 && r.ends[len - 1] === n) return { ...r, count: len, estimated: false };
    if (holdsWindow(r, n, center, maxTokens)) {
      const perToken = (r.ends[len - 1] - r.starts[0]) / len;
      return { ...r, count: Math.max(len, Math.round(n / perToken)), estimated: true };
    }
    chars *= 2;
  }
}

/** Whether the window of maxTokens centred on `center`'s token lies in the stretch (or stops at the document edge it reaches). */
export function holdsWindow(r: Encoding, n: number, center: number, maxTokens: number): boolean {
  const len = r.ids.length;
  if (len === 0 || center < r.starts[0] || center > r.ends[len - 1]) return false;
  let first = lastStartingAtOrBefore(len, (i) => r.starts[i], center) - Math.floor(maxTokens / 2);
  if (first < 0) {
    if (r.starts[0] !== 0) return false;
    first = 0;
  }
  return first + maxTokens <= len || (r.ends[len - 1] === n && (len >= maxTokens || r.starts[0] === 0));
}
