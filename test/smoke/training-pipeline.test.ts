// Runs training/test_training.py (SSMax maths, model, repeated spans, corpus and manifest, eval, bad corpus input, BPE) and reports each Python test as a Mocha test.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..', '..');
const run = spawnSync('/usr/bin/python3', ['-m', 'unittest', '-v', 'training/test_training.py'], {
  cwd: root,
  encoding: 'utf8',
  timeout: 300_000,
});
const results = [...(run.stderr ?? '').matchAll(/^(test_\w+) \(([\w.]+)\)[\s\S]*?\.\.\. (ok|FAIL|ERROR|skipped.*)$/gm)];

describe('training pipeline (Python)', () => {
  it('starts and reports its tests', () => {
    assert.equal(run.error, undefined, `cannot run /usr/bin/python3: ${run.error?.message}`);
    assert.ok(results.length > 0, `no test results parsed:\n${run.stderr}`);
  });
  for (const [, name, where, outcome] of results) {
    it(`${where.split('.').slice(-2, -1)[0]}: ${name}`, function () {
      // A Python skip (e.g. the fused-attention check without torch >= 2) is a skip here too, not a pass.
      if (outcome.startsWith('skipped')) this.skip();
      assert.equal(outcome, 'ok', `${name}: ${outcome}\n${run.stderr}`);
    });
  }
});
