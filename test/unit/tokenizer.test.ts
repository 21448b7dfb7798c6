import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { Tokenizer } from '../../src/core/model/tokenizer';
import type { Encoding } from '../../src/core/model/tokenizer';

const root = path.join(__dirname, '..', '..', '..');
const tokenizerPath = path.join(root, 'models', 'tokenizer.json');
const tokenizer = Tokenizer.fromFile(tokenizerPath);

function assertTiles(text: string, enc: Encoding, vocabSize = tokenizer.vocabSize): void {
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
    assert.ok(enc.ids[i] >= 0 && enc.ids[i] < vocabSize, `token ${i} id out of range`);
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
    it(`tiles ${name} text exactly`, async () => {
      const enc = await tokenizer.encode(text);
      assertTiles(text, enc);
      assertNoSplitPairs(text, enc);
    });
  }

  it('keeps ASCII token text equal to the vocabulary entry', async () => {
    const text = 'function inspect(document) { return model.run(document.getText()); }';
    const enc = await tokenizer.encode(text);
    // For ASCII each byte is one UTF-16 unit, so span length = token byte length.
    const pieces = Array.from(enc.ids, (_, i) => text.slice(enc.starts[i], enc.ends[i]));
    assert.equal(pieces.join(''), text);
    assert.ok(pieces.every((p) => p.length > 0), 'no empty spans in ASCII text');
    assert.ok(enc.ids.length < text.length / 2, `BPE should compress code (${enc.ids.length} tokens)`);
  });

  it('gives a character that spans several tokens to the token holding its last byte', async () => {
    const text = '\u{1F9EC}'; // a rare emoji: 4 UTF-8 bytes, surely not one token
    const enc = await tokenizer.encode(text);
    assert.ok(enc.ids.length > 1);
    const nonEmpty = Array.from(enc.ids, (_, i) => enc.ends[i] - enc.starts[i]).filter((n) => n > 0);
    assert.deepEqual(nonEmpty, [2]);
    assert.equal(enc.ends[enc.ids.length - 1], 2);
  });

  it('encodes a 50,000-character minified line quickly', async () => {
    const text = 'a.b(c,d)&&e[f]=g||{h:i};'.repeat(2100).slice(0, 50_000);
    const t0 = performance.now();
    const enc = await tokenizer.encode(text);
    const ms = performance.now() - t0;
    assertTiles(text, enc);
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  });

  it('tiles any string (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (text) => {
        const enc = await tokenizer.encode(text);
        assertTiles(text, enc);
        assertNoSplitPairs(text, enc);
      }),
      { numRuns: 300 },
    );
  });

  it('tiles any UTF-16 code unit soup, lone surrogates included (property)', async () => {
    const unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    await fc.assert(
      fc.asyncProperty(fc.array(unit, { maxLength: 120 }), async (units) => {
        const text = units.join('');
        assertTiles(text, await tokenizer.encode(text));
      }),
      { numRuns: 300 },
    );
  });

  it('is a function of the text alone: concatenating at a newline boundary keeps the left tokens (property)', async () => {
    const line = fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => s.replace(/\s/g, 'x'));
    await fc.assert(
      fc.asyncProperty(line, line, async (a, b) => {
        const left = await tokenizer.encode(a + '\n');
        const both = await tokenizer.encode(a + '\nx' + b);
        // Tokens entirely before the newline are the same in both encodings.
        for (let i = 0; i < left.ids.length && left.ends[i] <= a.length; i++) {
          assert.equal(both.ids[i], left.ids[i]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('other models\' tokenizer.json', () => {
  const fixtures = path.join(root, 'test', 'fixtures', 'tokenizers');
  const spans = (text: string, enc: Encoding): string[] => Array.from(enc.ids, (_, i) => text.slice(enc.starts[i], enc.ends[i]));
  const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), fc.string({ unit: 'grapheme', maxLength: 60 }));
  const tilesAnyText = (tok: Tokenizer): Promise<void> =>
    fc.assert(
      fc.asyncProperty(anyText, async (text) => {
        const enc = await tok.encode(text);
        assertTiles(text, enc, tok.vocabSize);
        assertNoSplitPairs(text, enc);
      }),
      { numRuns: 200 },
    );

  describe('SentencePiece style: Metaspace, NFKC, byte fallback, a BOS post-processor', () => {
    const tok = Tokenizer.fromFile(path.join(fixtures, 'metaspace.json'));
    const ids = JSON.parse(fs.readFileSync(path.join(fixtures, 'metaspace.json'), 'utf8')).model.vocab as Record<string, number>;

    it('encodes words, normalises and falls back to bytes, after the BOS the post-processor adds (an empty span)', async () => {
      const text = 'hello world \uFB01 \u{1F600} Hi';
      const enc = await tok.encode(text);
      assertTiles(text, enc, tok.vocabSize);
      assert.deepEqual(Array.from(enc.ids.subarray(0, 5)), [ids['<s>'], ids['\u2581hello'], ids['\u2581world'], ids['\u2581'], ids['fi']]);
      // The space before a word belongs to its token; the ligature is one character for "fi".
      assert.deepEqual(spans(text, enc).slice(0, 5), ['', 'hello', ' world', ' ', '\uFB01']);
      // A piece from inside the document has no BOS.
      assert.deepEqual(Array.from((await tok.encode(text, false)).ids), Array.from(enc.ids.subarray(1)));
      // The emoji's four byte tokens: the last takes both UTF-16 units, the others are empty.
      const bytes = ['<0xF0>', '<0x9F>', '<0x98>', '<0x80>'].map((t) => ids[t]);
      const at = enc.ids.indexOf(bytes[0]);
      assert.deepEqual(Array.from(enc.ids.subarray(at, at + 4)), bytes);
      assert.deepEqual(spans(text, enc).slice(at, at + 4), ['', '', '', '\u{1F600}']);
      assert.equal(tok.vocabSize, Object.keys(ids).length);
    });

    it('gives no tokens for empty text', async () => {
      assert.equal((await tok.encode('')).ids.length, 0);
    });

    it('tiles any string (property)', () => tilesAnyText(tok));
  });

  describe('SentencePiece style of Llama 2 and TinyLlama: Prepend and Replace normalizers, no pre-tokenizer', () => {
    const json = JSON.parse(fs.readFileSync(path.join(fixtures, 'metaspace.json'), 'utf8'));
    json.normalizer = {
      type: 'Sequence',
      normalizers: [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }],
    };
    json.pre_tokenizer = null;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'al-spm-')), 'tokenizer.json');
    fs.writeFileSync(file, JSON.stringify(json));
    const tok = Tokenizer.fromFile(file);
    after(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));

    it('gives the prepended marker, which has no text of its own, an empty span', async () => {
      // " hello" is the prepended "\u2581" and "\u2581hello"; the library maps both to the space.
      const enc = await tok.encode(' hello', false);
      assert.deepEqual(Array.from(enc.ids), [json.model.vocab['\u2581'], json.model.vocab['\u2581hello']]);
      assert.deepEqual(spans(' hello', enc), ['', ' hello']);
    });

    it('tiles any string (property)', () => tilesAnyText(tok));
  });

  describe('byte-level BPE with added tokens and trim_offsets (as GPT-2\'s file has)', () => {
    const tok = Tokenizer.fromFile(path.join(fixtures, 'bytelevel-added.json'));

    it('keeps special and ordinary added tokens whole, with their exact spans', async () => {
      // The library trims the spaces off the spans of " the", " x" and the lone spaces.
      const text = 'def the<|endoftext|> x TODO \u00e9<|fim_middle|>  \n x';
      const enc = await tok.encode(text);
      assertTiles(text, enc, tok.vocabSize);
      assert.deepEqual(spans(text, enc), ['def', ' the', '<|endoftext|>', ' x', ' ', 'TODO', ' ', '', '\u00e9', '<|fim_middle|>', ' ', ' ', '\n', ' x']);
      assert.deepEqual(Array.from(enc.ids.subarray(2, 3)), [262]);
      assert.equal(enc.ids[9], 263);
      assert.equal(enc.ids[5], 264);
      assert.equal(tok.vocabSize, 265, 'added tokens count in the vocabulary size');
    });

    it('tiles any string (property)', async () => {
      await fc.assert(
        fc.asyncProperty(anyText, anyText, async (a, b) => {
          const text = `${a}<|endoftext|>${b}TODO`;
          const enc = await tok.encode(text);
          assertTiles(text, enc, tok.vocabSize);
          assertNoSplitPairs(text, enc);
        }),
        { numRuns: 200 },
      );
    });
  });
});

describe('tokenizer file errors', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'al-tokenizer-'));
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const file = path.join(scratch, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('says which file is missing', () => {
    assert.throws(() => Tokenizer.fromFile('/nonexistent/tokenizer.json'), /cannot read \/nonexistent\/tokenizer\.json/);
  });
  it('names a file that is not JSON', () => {
    const file = write('broken.json', '{oops');
    assert.throws(() => Tokenizer.fromFile(file), (err: Error) => err.message.includes(`${file} is not valid JSON`));
  });
  it('names a file that is JSON but not a tokenizer, with the library\'s reason', () => {
    const file = write('wordpiece.json', '{"model":{"type":"WordPiece"}}');
    assert.throws(
      () => Tokenizer.fromFile(file),
      (err: Error) => err.message.includes(`${file} is not a tokenizer.json that Hugging Face tokenizers can load`) && /missing field/.test(err.message),
    );
  });
  it('encodes the whole text even when the file sets truncation and padding', async () => {
    const json = JSON.parse(fs.readFileSync(tokenizerPath, 'utf8'));
    json.truncation = { direction: 'Right', max_length: 4, strategy: 'LongestFirst', stride: 0 };
    json.padding = { strategy: { Fixed: 64 }, direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '!' };
    const tok = Tokenizer.fromFile(write('truncating.json', JSON.stringify(json)));
    const text = 'def inspect(document):\n    return model.run(document)\n';
    const enc = await tok.encode(text);
    assert.deepEqual(Array.from(enc.ids), Array.from((await tokenizer.encode(text)).ids));
    assert.ok(enc.ids.length > 4 && enc.ids.length < 64);
  });
  it('loads a vocabulary as large as Qwen2\'s (150,000+ tokens)', async function () {
    this.timeout(15_000); // about 1 s: a 3 MB file and a 160,000-key object
    const json = JSON.parse(fs.readFileSync(tokenizerPath, 'utf8'));
    for (let i = 0; i < 160_000; i++) json.model.vocab[`extra${i}`] = tokenizer.vocabSize + i;
    const tok = Tokenizer.fromFile(write('large.json', JSON.stringify(json)));
    assert.equal(tok.vocabSize, tokenizer.vocabSize + 160_000);
    assert.deepEqual(Array.from((await tok.encode('x = 1')).ids), Array.from((await tokenizer.encode('x = 1')).ids));
  });
  it('rejects merges that use unknown tokens', () => {
    // The 256 byte symbols of the real vocabulary, plus a merge of tokens that are not in it.
    const real = JSON.parse(fs.readFileSync(tokenizerPath, 'utf8')) as { model: { vocab: Record<string, number> } };
    const vocab = Object.fromEntries(Object.entries(real.model.vocab).filter(([, id]) => id < 256));
    assert.equal(Object.keys(vocab).length, 256);
    const file = write('bad-merge.json', JSON.stringify({ model: { type: 'BPE', vocab, merges: ['ab cd'] } }));
    assert.throws(() => Tokenizer.fromFile(file), /Token `ab` out of vocabulary/);
  });
});
