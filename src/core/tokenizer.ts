// Byte-level BPE over a Hugging Face tokenizer.json, with exact UTF-16 offsets.
// training/bpe.py implements the same encoding; test/smoke checks that they agree token for token.
import * as fs from 'fs';

export interface Encoding {
  ids: Int32Array;
  /** UTF-16 offsets. Spans tile the text: starts[0] = 0, ends[i] = starts[i + 1], last end = text.length.
   *  A token holding only the leading bytes of a character has an empty span; the character
   *  belongs to the token that holds its last byte. */
  starts: Int32Array;
  ends: Int32Array;
}

const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
// GPT-2's split pattern with whitespace spelled out so that it matches Python's `regex` exactly.
const SPLIT_SOURCE = `'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`;
const MAX_CHUNK_BYTES = 1024; // long pieces are merged in chunks so encoding stays linear
const CACHE_LIMIT = 100_000;

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] };
}

/** GPT-2's printable stand-ins for bytes, as tokenizer.json spells them. */
function byteChars(): string[] {
  const chars: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
    chars.push(String.fromCharCode(printable ? b : 256 + extra++));
  }
  return chars;
}

export class Tokenizer {
  readonly vocabSize: number;
  private readonly byteIds: Int32Array;
  /** pair key (left * 65536 + right) -> rank; the merged id is in mergedId at the same key. */
  private readonly ranks = new Map<number, number>();
  private readonly mergedId = new Map<number, number>();
  private readonly cache = new Map<string, Int32Array>();
  /** Bytes each token stands for: one vocabulary character per byte. */
  private readonly byteLength: Int32Array;

  private constructor(vocab: Record<string, number>, merges: [string, string][]) {
    const ids = Object.values(vocab);
    this.vocabSize = ids.length === 0 ? 0 : Math.max(...ids) + 1;
    if (this.vocabSize > 65536) throw new Error(`tokenizer: vocabulary of ${this.vocabSize} is too large (max 65536)`);
    this.byteLength = new Int32Array(this.vocabSize);
    for (const [token, id] of Object.entries(vocab)) this.byteLength[id] = token.length;
    this.byteIds = new Int32Array(256);
    byteChars().forEach((ch, b) => {
      const id = vocab[ch];
      if (id === undefined) throw new Error(`tokenizer: vocabulary lacks the byte token for 0x${b.toString(16)}`);
      this.byteIds[b] = id;
    });
    merges.forEach(([a, b], rank) => {
      const left = vocab[a];
      const right = vocab[b];
      const merged = vocab[a + b];
      if (left === undefined || right === undefined || merged === undefined) {
        throw new Error(`tokenizer: merge ${rank} "${a} ${b}" uses a token missing from the vocabulary`);
      }
      const key = left * 65536 + right;
      if (!this.ranks.has(key)) {
        this.ranks.set(key, rank);
        this.mergedId.set(key, merged);
      }
    });
  }

  static fromFile(path: string): Tokenizer {
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`tokenizer: cannot read ${path}: ${(err as Error).message}`);
    }
    return Tokenizer.fromJSON(text, path);
  }

  static fromJSON(json: string, source = 'tokenizer.json'): Tokenizer {
    let data: TokenizerJson;
    try {
      data = JSON.parse(json) as TokenizerJson;
    } catch (err) {
      throw new Error(`tokenizer: ${source} is not valid JSON: ${(err as Error).message}`);
    }
    const model = data.model;
    if (!model || model.type !== 'BPE' || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) {
      throw new Error(`tokenizer: ${source} is not a byte-level BPE tokenizer.json (model.type BPE with vocab and merges)`);
    }
    const merges = model.merges.map((m, i): [string, string] => {
      const pair = typeof m === 'string' ? m.split(' ') : m;
      if (pair.length !== 2) throw new Error(`tokenizer: ${source} merge ${i} is malformed: ${JSON.stringify(m)}`);
      return [pair[0], pair[1]];
    });
    return new Tokenizer(model.vocab, merges);
  }

  encode(text: string): Encoding {
    const ids: number[] = [];
    const ends: number[] = [];
    const split = new RegExp(SPLIT_SOURCE, 'gu');
    let covered = 0;
    for (const match of text.matchAll(split)) {
      const start = match.index;
      // The pattern's last alternatives match any character, so pieces are contiguous.
      if (start !== covered) throw new Error(`tokenizer: internal error, gap at offset ${covered}`);
      this.encodePiece(match[0], start, ids, ends);
      covered = start + match[0].length;
    }
    const n = ids.length;
    const enc: Encoding = { ids: Int32Array.from(ids), starts: new Int32Array(n), ends: Int32Array.from(ends) };
    for (let i = 1; i < n; i++) enc.starts[i] = enc.ends[i - 1];
    return enc;
  }

  private encodePiece(piece: string, offset: number, ids: number[], ends: number[]): void {
    // byteEnd[k]: UTF-16 offset (within piece) where the character holding byte k ends,
    // or where it starts when byte k is not its last byte.
    const bytes: number[] = [];
    const byteEnd: number[] = [];
    for (let i = 0; i < piece.length; ) {
      let cp = piece.codePointAt(i) as number;
      const units = cp > 0xffff ? 2 : 1;
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate
      const encoded = utf8(cp);
      encoded.forEach((b, k) => {
        bytes.push(b);
        byteEnd.push(k === encoded.length - 1 ? i + units : i);
      });
      i += units;
    }
    const pieceIds = this.mergePiece(piece, bytes);
    let consumed = 0;
    for (const id of pieceIds) {
      consumed += this.byteLength[id];
      ids.push(id);
      ends.push(offset + byteEnd[consumed - 1]);
    }
  }

  private mergePiece(piece: string, bytes: number[]): Int32Array {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    const out: number[] = [];
    for (let c = 0; c < bytes.length; c += MAX_CHUNK_BYTES) {
      const syms = bytes.slice(c, c + MAX_CHUNK_BYTES).map((b) => this.byteIds[b]);
      for (;;) {
        let bestRank = Infinity;
        let bestKey = -1;
        for (let i = 0; i + 1 < syms.length; i++) {
          const key = syms[i] * 65536 + syms[i + 1];
          const rank = this.ranks.get(key);
          if (rank !== undefined && rank < bestRank) {
            bestRank = rank;
            bestKey = key;
          }
        }
        if (bestKey < 0) break;
        const merged = this.mergedId.get(bestKey) as number;
        let w = 0;
        for (let i = 0; i < syms.length; i++) {
          if (i + 1 < syms.length && syms[i] * 65536 + syms[i + 1] === bestKey) {
            syms[w++] = merged;
            i++;
          } else {
            syms[w++] = syms[i];
          }
        }
        syms.length = w;
      }
      out.push(...syms);
    }
    const ids = Int32Array.from(out);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }
}

function utf8(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
}
