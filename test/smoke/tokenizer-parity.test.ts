// The extension must encode exactly as training did: compare src/core/model/tokenizer.ts (Hugging Face
// tokenizers) with training/bpe.py
// on the texts that training/tokenizer_reference.py wrote (run by training/smoke.sh).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '../../src/core/model/tokenizer';

const root = path.join(__dirname, '..', '..', '..');

describe('tokenizer parity with training', () => {
  it('agrees with training/bpe.py token for token on every reference text', async () => {
    const ref = JSON.parse(
      fs.readFileSync(path.join(root, 'training', 'runs', 'smoke', 'tokenizer-reference.json'), 'utf8'),
    ) as { cases: { text: string; ids: number[] }[] };
    const tokenizer = Tokenizer.fromFile(path.join(root, 'models', 'tokenizer.json'));
    assert.ok(ref.cases.length >= 5);
    for (const c of ref.cases) {
      const ids = Array.from((await tokenizer.encode(c.text)).ids);
      const first = ids.findIndex((id, i) => id !== c.ids[i]);
      assert.equal(ids.length === c.ids.length && first === -1, true,
        `mismatch at token ${first} of ${JSON.stringify(c.text.slice(0, 60))}: ts ${ids.slice(first, first + 5)} vs py ${c.ids.slice(first, first + 5)}`);
    }
  });
});
