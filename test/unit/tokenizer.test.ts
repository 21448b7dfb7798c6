import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { Tokenizer } from '../../src/core/tokenizer';
import type { Encoding } from '../../src/core/tokenizer';

const tokenizerPath = path.join(__dirname, '..', '..', '..', 'models', 'tokenizer.json');
const tokenizer = Tokenizer.fromFile(tokenizerPath);

function assertTiles(text: string, enc: Encoding): void {
  assert.equal(enc.ids.length, enc.starts.length);
  assert.equal(enc.ids.length, enc.ends.length);
  if (text.length === 0) {
    assert.equal(enc.ids.length, 0);
    return;
  }
  assert.equal(enc.starts[0], 0, 'first token starts at 0');
  assert.equal(enc.ends[enc.ends.length - 1], text.length, 'last token ends at the text length');
  for (let i = 0; i < enc.ids.length; i++) {
    assert.ok(enc.starts[i] <= enc.ends[i], `token ${i} has a negative span`);
    if (i > 0) assert.equal(enc.starts[i], enc.ends[i - 1], `gap or overlap before token ${i}`);
    assert.ok(enc.ids[i] >= 0 && enc.ids[i] < tokenizer.vocabSize, `token ${i} id out of range`);
  }
}

/** A span never starts or ends inside a surrogate pair. */
function assertNoSplitPairs(text: string, enc: Encoding): void {
  for (const offset of enc.ends) {
    if (offset <= 0 || offset >= text.length) continue;
    const before = text.charCodeAt(offset - 1);
    const after = text.charCodeAt(offset);
    const splits = before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
    assert.ok(!splits, `offset ${offset} splits a surrogate pair`);
  }
}

describe('tokenizer offsets', () => {
  const cases: Record<string, string> = {
    empty: '',
    crlf: 'line one\r\nline two\r\n\r\n',
    tabs: '\tdef f():\n\t\treturn 1\n',
    emoji: 'x = "😀👩‍💻🇫🇷" # surrogate pairs and ZWJ',
    combining: 'e\u0301 a\u0308 n\u0303',
    cjk: '注意力是你所需要的一切。日本語のテキスト',
    invalidSurrogates: 'a\ud800b\udc00c\udc00\ud800',
    minified: 'var a=1;'.repeat(6250),
  };
  for (const [name, text] of Object.entries(cases)) {
    it(`tiles ${name} text exactly`, () => {
      const enc = tokenizer.encode(text);
      assertTiles(text, enc);
      assertNoSplitPairs(text, enc);
    });
  }

  it('keeps ASCII token text equal to the vocabulary entry', () => {
    const text = 'function inspect(document) { return model.run(document.getText()); }';
    const enc = tokenizer.encode(text);
    // For ASCII each byte is one UTF-16 unit, so span length = token byte length.
    const pieces = Array.from(enc.ids, (_, i) => text.slice(enc.starts[i], enc.ends[i]));
    assert.equal(pieces.join(''), text);
    assert.ok(pieces.every((p) => p.length > 0), 'no empty spans in ASCII text');
    assert.ok(enc.ids.length < text.length / 2, `BPE should compress code (${enc.ids.length} tokens)`);
  });

  it('gives a character that spans several tokens to the token holding its last byte', () => {
    const text = '\u{1F9EC}'; // a rare emoji: 4 UTF-8 bytes, surely not one token
    const enc = tokenizer.encode(text);
    assert.ok(enc.ids.length > 1);
    const nonEmpty = Array.from(enc.ids, (_, i) => enc.ends[i] - enc.starts[i]).filter((n) => n > 0);
    assert.deepEqual(nonEmpty, [2]);
    assert.equal(enc.ends[enc.ids.length - 1], 2);
  });

  it('encodes a 50,000-character minified line quickly', () => {
    const text = 'a.b(c,d)&&e[f]=g||{h:i};'.repeat(2100).slice(0, 50_000);
    const t0 = performance.now();
    const enc = tokenizer.encode(text);
    const ms = performance.now() - t0;
    assertTiles(text, enc);
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  });

  it('tiles any string (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const enc = tokenizer.encode(text);
        assertTiles(text, enc);
        assertNoSplitPairs(text, enc);
      }),
      { numRuns: 300 },
    );
  });

  it('tiles any UTF-16 code unit soup, lone surrogates included (property)', () => {
    const unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 120 }), (units) => {
        const text = units.join('');
        assertTiles(text, tokenizer.encode(text));
      }),
      { numRuns: 300 },
    );
  });

  it('is a function of the text alone: concatenating at a newline boundary keeps the left tokens (property)', () => {
    const line = fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => s.replace(/\s/g, 'x'));
    fc.assert(
      fc.property(line, line, (a, b) => {
        const left = tokenizer.encode(a + '\n');
        const both = tokenizer.encode(a + '\nx' + b);
        // Tokens entirely before the newline are the same in both encodings.
        for (let i = 0; i < left.ids.length && left.ends[i] <= a.length; i++) {
          assert.equal(both.ids[i], left.ids[i]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('tokenizer file errors', () => {
  it('says which file is missing', () => {
    assert.throws(() => Tokenizer.fromFile('/nonexistent/tokenizer.json'), /cannot read \/nonexistent\/tokenizer\.json/);
  });
  it('rejects JSON that is not a BPE tokenizer', () => {
    assert.throws(() => Tokenizer.fromJSON('{"model":{"type":"WordPiece"}}'), /not a byte-level BPE/);
    assert.throws(() => Tokenizer.fromJSON('{oops'), /not valid JSON/);
  });
  it('rejects merges that use unknown tokens', () => {
    // The 256 byte symbols of the real vocabulary, plus a merge of tokens that are not in it.
    const real = JSON.parse(fs.readFileSync(tokenizerPath, 'utf8')) as { model: { vocab: Record<string, number> } };
    const vocab = Object.fromEntries(Object.entries(real.model.vocab).filter(([, id]) => id < 256));
    assert.equal(Object.keys(vocab).length, 256);
    const json = JSON.stringify({ model: { type: 'BPE', vocab, merges: ['ab cd'] } });
    assert.throws(() => Tokenizer.fromJSON(json), /merge 0 "ab cd" uses a token missing/);
  });
});
