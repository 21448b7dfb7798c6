// The document's tokens around a range without tokenizing the whole document: the tokenizer's
// memory grows with the text it is given (about 1 KB a character, memory-plan.ts), so a long
// document is tokenized in pieces of bounded size, and the pieces are stitched.
//
// Why it is exact: a tokenizer with a pre-tokenizer (byte-level BPE with its split regex,
// Metaspace, Whitespace, ...) splits the text into pre-tokens ("words") and tokenizes each on its
// own, and its regex scan, started at a pre-token boundary of the document, finds the document's
// pre-tokens from there on (its patterns do not look behind). So a piece that starts at a word
// boundary of the document has the document's tokens until near its end, where its cut may split
// a pre-token; consecutive pieces overlap by OVERLAP characters, and each piece after the first
// starts at a word boundary of the one before, well before that one's end. The first piece, cut at
// a line start, is only a witness: the second is cut at a line start of its own and trusted from the
// first word boundary at which the two scans meet and give the same SYNC tokens; this assumes what
// holds for these scans, that one started anywhere is back on the document's pre-token
// boundaries after a pre-token or two (well within OVERLAP characters). Pieces are stitched at the first word boundary where they give the
// same SYNC tokens (ids and offsets, the earlier piece's last token left out). A piece that starts
// the document, or ends it, is exact at that edge.
//
// Where two pieces never meet that way inside the overlap (a single pre-token longer than the
// overlap crossing a cut, such as thousands of spaces or '=' in a row), the later piece is taken
// from a token boundary of the earlier one (the tokens still tile the text) and the result is
// marked inexact: tokens inside that pre-token may differ from whole-document tokenization.
import type { Encoding } from '../model/tokenizer';
import { tokenIndex } from '../model/tokenizer';

/** Characters consecutive pieces share. */
export const OVERLAP = 4096;
/** Tokens two pieces must agree on to be stitched. */
const SYNC = 16;
/** How far back from a wanted cut a line start (or word start) is looked for. */
const SLACK = 1024;

/** Tokenizes a text; atStart false for a piece from inside the document (no BOS). */
export type Encode = (text: string, atStart?: boolean) => Promise<Encoding>;

/** A stretch of the document's tokens; offsets are document offsets. */
export interface EncodedRange extends Encoding {
  /** False when two pieces never agreed and were stitched at a token boundary (see above). */
  exact: boolean;
}

/**
 * The document's tokens covering at least [from, to) (from < to), as whole-document tokenization
 * gives them (see above), tokenizing at most `pieceChars` characters at once (at least 4 x OVERLAP).
 */
export async function encodeRange(encode: Encode, text: string, from: number, to: number, pieceChars: number): Promise<EncodedRange> {
  const n = text.length;
  if (n <= pieceChars) return { ...(await encode(text)), exact: true };
  const size = Math.max(pieceChars, 4 * OVERLAP);
  const ids: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  let exact = true;
  const piece = async (a: number, b: number): Promise<Encoding> => shift(await encode(text.slice(a, b), a === 0), a);
  // The first piece starts the document (exact) or is a small witness whose end stays before `from`.
  let s = from - 3 * OVERLAP <= 0 ? 0 : cutBefore(text, from - 3 * OVERLAP, 0);
  let trusted = s === 0;
  let wanted = Math.min(size, trusted ? to + 2 * OVERLAP + SLACK : 2 * OVERLAP + SLACK);
  let prev: { enc: Encoding; from: number } | undefined;
  for (;;) {
    const e = s + wanted >= n ? n : cutBefore(text, s + wanted, s + wanted / 2);
    let cur = await piece(s, e);
    let curFrom = 0;
    if (prev) {
      let st = stitch(prev.enc, cur, s);
      if (!st) {
        exact = false;
        const i = Math.min(firstAtOrAfter(prev.enc, s), prev.enc.ids.length - 1);
        if (prev.enc.starts[i] !== s) {
          s = prev.enc.starts[i];
          cur = await piece(s, e);
        }
        st = { i, j: 0 };
      }
      if (trusted) push(prev.enc, prev.from, st.i);
      trusted = true;
      curFrom = st.j;
      if (cur.starts[st.j] >= to) break;
    }
    if (e === n) {
      push(cur, curFrom, cur.ids.length);
      break;
    }
    prev = { enc: cur, from: curFrom };
    const next = trusted ? wordCut(cur, e - OVERLAP, Math.max(s + 1, cur.starts[curFrom] + 1)) : undefined;
    const nextStart = next ?? cutBefore(text, e - OVERLAP, s + 1);
    // Reach past `to` by an overlap, so that the next stitch lands at or after it.
    wanted = Math.min(size, Math.max(to - nextStart + 2 * OVERLAP + SLACK, 2 * OVERLAP + SLACK));
    s = nextStart;
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

/** A cut at or before `at` and after `min`: a line start within SLACK, else `at` (never inside a surrogate pair). */
export function cutBefore(text: string, at: number, min: number): number {
  const line = text.lastIndexOf('\n', at - 1);
  if (line >= 0 && line + 1 > min && at - (line + 1) <= SLACK) return line + 1;
  const c = text.charCodeAt(at);
  const splitsPair = c >= 0xdc00 && c <= 0xdfff && at > min + 1 && isHigh(text.charCodeAt(at - 1));
  return splitsPair ? at - 1 : at;
}

/** The start of a word (pre-token) of `enc` at or before `at`, within SLACK and after `min`; else a token start there; undefined when neither. */
function wordCut(enc: Encoding, at: number, min: number): number | undefined {
  const last = tokenIndex(enc, at);
  for (let k = last; k > 0 && enc.starts[k] >= Math.max(min, at - SLACK); k--) if (startsWord(enc, k)) return enc.starts[k];
  return enc.starts[last] >= min ? enc.starts[last] : undefined;
}

function startsWord(enc: Encoding, k: number): boolean {
  return enc.words === undefined || k === 0 || enc.words[k] !== enc.words[k - 1];
}

/** The first token starting at or after `offset` (ids.length when none). */
function firstAtOrAfter(enc: Encoding, offset: number): number {
  const n = enc.ids.length;
  if (n === 0) return 0;
  const i = tokenIndex(enc, offset);
  return enc.starts[i] >= offset ? i : i + 1;
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
 * Where to pass from `a` (the earlier piece) to `b` (starting at bStart): token i of a and token j
 * of b start the same word at the same offset, and both give the same SYNC tokens from there
 * without a's last token (at its cut). Undefined when there is no such place.
 */
function stitch(a: Encoding, b: Encoding, bStart: number): { i: number; j: number } | undefined {
  let i = firstAtOrAfter(a, bStart);
  let j = 0;
  const aLast = a.ids.length - 1;
  while (i < aLast && j < b.ids.length) {
    if (a.starts[i] < b.starts[j]) i++;
    else if (a.starts[i] > b.starts[j]) j++;
    else {
      if (i > 0 && startsWord(a, i) && startsWord(b, j)) {
        let k = 0;
        while (k < SYNC && i + k < aLast && j + k < b.ids.length && a.ids[i + k] === b.ids[j + k] && a.ends[i + k] === b.ends[j + k]) k++;
        if (k === SYNC) return { i, j };
      }
      i++;
      j++;
    }
  }
  return undefined;
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
  let first = tokenIndex(r, center) - Math.floor(maxTokens / 2);
  if (first < 0) {
    if (r.starts[0] !== 0) return false;
    first = 0;
  }
  return first + maxTokens <= len || (r.ends[len - 1] === n && (len >= maxTokens || r.starts[0] === 0));
}
