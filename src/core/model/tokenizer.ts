// Any Hugging Face tokenizer.json (byte-level BPE, Metaspace/SentencePiece, normalizers, added
// tokens) through Hugging Face's own `tokenizers` library, with offsets turned into spans that tile
// the text in UTF-16. This is the only module that imports `tokenizers`.
import * as fs from 'fs';
import * as hf from 'tokenizers';

export interface Encoding {
  ids: Int32Array;
  /** UTF-16 offsets. Spans tile the text: starts[0] = 0, ends[i] = starts[i + 1], last end = text.length.
   *  A token holding only the leading bytes of a character has an empty span; the character
   *  belongs to the token that holds its last byte. Text no token covers (whitespace that a
   *  pre-tokenizer drops or trim_offsets leaves out) belongs to the token after it. */
  starts: Int32Array;
  ends: Int32Array;
  /** The word (pre-token) of each token, -1 for none: tokens of one word share it. Pieces of a long
   *  document are cut and stitched at word starts (engine/token-window.ts). */
  words?: Int32Array;
}

/** The token holding a text offset: the last whose start is at or before it (0 when none is; the end of the text maps to the last token). */
export function tokenIndex(enc: Pick<Encoding, 'ids' | 'starts'>, offset: number): number {
  let lo = 0;
  let hi = enc.ids.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (enc.starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Where the stretch of T tokens covering exactly [start, end] begins, or -1 when the encoding has no
 * such stretch. Tokens that cover no text (a BOS) share their start with the token after them, so
 * the stretch may begin before tokenIndex(start).
 */
export function windowStart(enc: Pick<Encoding, 'ids' | 'starts' | 'ends'>, start: number, end: number, T: number): number {
  let i = tokenIndex(enc, start);
  while (i > 0 && enc.starts[i - 1] === start) i--;
  for (; i < enc.ids.length && enc.starts[i] === start; i++) {
    if (i + T <= enc.ids.length && enc.ends[i + T - 1] === end) return i;
  }
  return -1;
}

export class Tokenizer {
  /** One more than the largest id, added tokens included. */
  readonly vocabSize: number;

  private constructor(private readonly inner: hf.Tokenizer) {
    // Some files set truncation or padding for training; the whole document is wanted here.
    inner.disableTruncation();
    inner.disablePadding();
    let top = -1;
    for (const id of Object.values(inner.getVocab(true))) top = Math.max(top, id); // 150k+ ids: no spread
    this.vocabSize = top + 1;
  }

  static fromFile(path: string): Tokenizer {
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`tokenizer: cannot read ${path}: ${(err as Error).message}`);
    }
    try {
      return new Tokenizer(hf.Tokenizer.fromString(text));
    } catch (err) {
      try {
        JSON.parse(text);
      } catch (syntax) {
        throw new Error(`tokenizer: ${path} is not valid JSON: ${(syntax as Error).message}`);
      }
      throw new Error(`tokenizer: ${path} is not a tokenizer.json that Hugging Face tokenizers can load: ${(err as Error).message}`);
    }
  }

  /**
   * Tokens of the text as the model sees it. A text that starts the document begins with the
   * special tokens the tokenizer's post-processor puts before every text (BOS of Llama 3 and
   * Gemma 3, as transformers adds them), each an empty span at 0 (an empty text has none); a piece from inside the document
   * (atStart false) has none, and no text ends with the ones a post-processor appends (they follow
   * nothing the user wrote). The library only encodes asynchronously (on its own threads).
   */
  async encode(text: string, atStart = true): Promise<Encoding> {
    const body = await this.encodeText(text);
    const prefix = atStart && body.ids.length > 0 ? await this.prefix() : [];
    if (prefix.length === 0) return body;
    const n = prefix.length + body.ids.length;
    const grown = (a: Int32Array, lead: number): Int32Array => {
      const out = new Int32Array(n).fill(lead, 0, prefix.length);
      out.set(a, prefix.length);
      return out;
    };
    const ids = grown(body.ids, 0);
    ids.set(prefix);
    return { ids, starts: grown(body.starts, 0), ends: grown(body.ends, 0), words: body.words && grown(body.words, -1) };
  }

  private prefixIds?: Promise<number[]>;

  /** The special tokens the post-processor puts before a text: those leading an encoded letter. */
  private prefix(): Promise<number[]> {
    this.prefixIds ??= this.inner.encode('a', null, { addSpecialTokens: true }).then((enc) => {
      const special = enc.getSpecialTokensMask();
      const ids = enc.getIds();
      const lead: number[] = [];
      for (let i = 0; i < ids.length && special[i] === 1; i++) lead.push(ids[i]);
      return lead;
    });
    return this.prefixIds;
  }

  private async encodeText(text: string): Promise<Encoding> {
    const enc = await this.inner.encode(text, null, { addSpecialTokens: false });
    const ids = Int32Array.from(enc.getIds());
    const words = Int32Array.from(enc.getWordIds(), (w) => w ?? -1);
    const n = ids.length;
    const starts = new Int32Array(n);
    const ends = new Int32Array(n);
    if (n === 0) return { ids, starts, ends, words };
    // The library's offsets count Unicode characters (a lone surrogate is one, read as U+FFFD),
    // repeat a character's span on every token that holds a piece of it, and may leave out
    // whitespace (trim_offsets, pre-tokenizers that drop it).
    const unitOf = utf16OffsetsOfChars(text);
    const at = (char: number): number => unitOf[Math.min(char, unitOf.length - 1)];
    const offsets = enc.getOffsets();
    // Token i ends at its own end, or where the next token starts if that is earlier: of the
    // tokens sharing a character the last takes it; text no token covers goes to the next token.
    for (let i = 0; i < n - 1; i++) {
      ends[i] = Math.max(i > 0 ? ends[i - 1] : 0, Math.min(at(offsets[i][1]), at(offsets[i + 1][0])));
    }
    ends[n - 1] = text.length;
    for (let i = 1; i < n; i++) starts[i] = ends[i - 1];
    return { ids, starts, ends, words };
  }
}

/** unitOf[c] = UTF-16 offset of character c; unitOf[characters] = text.length. */
function utf16OffsetsOfChars(text: string): Int32Array {
  const unitOf: number[] = [];
  let i = 0;
  for (const ch of text) {
    unitOf.push(i);
    i += ch.length;
  }
  unitOf.push(i);
  return Int32Array.from(unitOf);
}
