// Tokenizing a stretch of a document in pieces gives exactly the whole-document tokens inside it
// (ids, starts, ends), at any position: real code, one very long line, CRLF and surrogate pairs.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { Tokenizer } from '../../src/core/model/tokenizer';
import type { Encoding } from '../../src/core/model/tokenizer';
import { OVERLAP, encodeRange, holdsWindow, tokensAround } from '../../src/core/engine/token-window';
import { lastStartingAtOrBefore } from '../../src/core/reading/analysis';
import { MODEL_DIR, longCode } from '../common/fixtures';

const tokenizer = Tokenizer.fromFile(path.join(MODEL_DIR, 'tokenizer.json'));
const encode = (t: string): Promise<Encoding> => tokenizer.encode(t);
const PIECE = 4 * OVERLAP; // the smallest piece: the most cuts

function unicodeText(chars: number): string {
  const words = ['x = "😀👩‍💻🇫🇷";', 'let 注意力 = 1;', '// café naïve e\u0301', '\tif (a) {', '   return b;', '}', '', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🎉🎉'];
  let s = '';
  for (let i = 0; s.length < chars; i++) s += words[(i * 7) % words.length] + (i % 3 === 0 ? '\r\n' : '\r\n\r\n');
  return s;
}

const texts: Record<string, string> = {
  code: longCode(120_000),
  'one long line': fs.readFileSync(path.join(MODEL_DIR, '..', 'samples', 'lru-cache.js'), 'utf8').replace(/\s+/g, ' ').repeat(40).slice(0, 100_000),
  'CRLF and surrogate pairs': unicodeText(80_000),
  'indented blank lines': 'def f():\n' + '    x = 1\n\n\n        \n    \t\n'.repeat(3000),
};

/** The whole-document tokens from the one starting at the stretch's first offset must equal the stretch. */
function assertInside(whole: Encoding, r: Encoding, from: number, to: number): void {
  const len = r.ids.length;
  assert.ok(len > 0 && r.starts[0] <= from && r.ends[len - 1] >= to, `stretch ${r.starts[0]}..${r.ends[len - 1]} does not cover ${from}..${to}`);
  const first = lastStartingAtOrBefore(whole.ids.length, (i) => whole.starts[i], r.starts[0]);
  for (let k = 0; k < len; k++) {
    const w = first + k;
    const same = w < whole.ids.length && whole.ids[w] === r.ids[k] && whole.starts[w] === r.starts[k] && whole.ends[w] === r.ends[k];
    assert.ok(same, `token ${k} of the stretch (offset ${r.starts[k]}) differs from the whole document's token ${w}`);
  }
}

describe('tokenizing a stretch in pieces', function () {
  this.timeout(120_000);
  for (const [name, text] of Object.entries(texts)) {
    it(`equals whole-document tokenization inside the stretch: ${name} (property)`, async () => {
      const whole = await encode(text);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: text.length - 1 }), fc.integer({ min: 1, max: 3 * PIECE }), async (from, width) => {
          const to = Math.min(text.length, from + width);
          const r = await encodeRange(encode, text, from, to, PIECE);
          assert.equal(r.exact, true);
          assertInside(whole, r, from, to);
        }),
        { numRuns: 12, seed: 17 },
      );
    });
  }

  it('a pre-token longer than the overlap (a run of spaces or "=") is marked inexact where it differs, and still tiles', async () => {
    for (const run of [' '.repeat(30_000), '='.repeat(30_000)]) {
      const text = longCode(30_000) + run + longCode(30_000);
      const whole = await encode(text);
      for (const from of [20_000, 31_000, 45_000, 58_000]) {
        const r = await encodeRange(encode, text, from, from + 5000, PIECE);
        for (let k = 1; k < r.ids.length; k++) assert.equal(r.starts[k], r.ends[k - 1], 'the stretch tiles');
        if (r.exact) assertInside(whole, r, from, from + 5000);
      }
    }
  });

  it('a window around any center holds the whole-document window, and estimates the count', async () => {
    const text = texts.code;
    const whole = await encode(text);
    const maxTokens = 2000;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: text.length }), async (center) => {
        const d = await tokensAround(encode, text, center, maxTokens, PIECE);
        assert.equal(d.estimated, true);
        assert.ok(holdsWindow(d, text.length, center, maxTokens));
        assertInside(whole, d, d.starts[0], d.ends[d.ids.length - 1]);
        assert.ok(Math.abs(d.count - whole.ids.length) < 0.25 * whole.ids.length, `estimate ${d.count} vs ${whole.ids.length}`);
      }),
      { numRuns: 8, seed: 17 },
    );
  });

  it('a document that fits one piece is tokenized whole, with its exact count', async () => {
    const d = await tokensAround(encode, texts.code.slice(0, 10_000), 5000, 100, PIECE);
    const whole = await encode(texts.code.slice(0, 10_000));
    assert.equal(d.estimated, false);
    assert.equal(d.count, whole.ids.length);
    assert.deepEqual(d.ids, whole.ids);
  });
});
