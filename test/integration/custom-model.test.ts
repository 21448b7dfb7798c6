// A converted Hugging Face model in the editor: a tiny random Llama checkpoint, written by
// training/write_hf_checkpoint.py (Debian's Python with torch) and converted by the CLI, opened
// with "Attention Lens: Open Model Folder..." (the folder given as the argument).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { inspectActive, openSample, startCleanEachTest, state, waitFor } from './helpers';

const ROOT = path.join(__dirname, '..', '..', '..');
const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('attentionLens');

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
  assert.equal(r.status, 0, `${command} ${args.join(' ')}: ${r.stderr}`);
}

suite('Custom model', function () {
  this.timeout(180000);
  let dir: string;
  let model: string;

  suiteSetup(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-custom-model-'));
    const hf = path.join(dir, 'tiny-hf');
    model = path.join(dir, 'tiny-model');
    run('/usr/bin/python3', [path.join(ROOT, 'training', 'write_hf_checkpoint.py'), hf]);
    run(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'convert', hf, model, '--id', 'tiny-llama']);
  });
  startCleanEachTest();
  teardown(async () => {
    await config().update('modelPath', undefined, vscode.ConfigurationTarget.Global);
    await waitFor('the shipped model again', async () => (await state()).modelDir.endsWith(`${path.sep}models`));
  });
  suiteTeardown(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('Open Model Folder: the converted model inspects, the status bar names it, the modes are softmax and the post-hoc ones', async () => {
    await vscode.commands.executeCommand('attentionLens.openModelFolder', model);
    await waitFor('the setting', () => config().get('modelPath') === model);
    await openSample('hello.py');
    const s = await inspectActive();
    assert.equal(s.modelId, 'tiny-llama');
    assert.equal(s.modelDir, model);
    assert.match(s.statusText, /^\$\(eye\) Softmax · .* · tiny-llama$/);
    assert.match(s.statusTooltip, /model tiny-llama/);
    assert.deepEqual(s.modes, ['softmax', 'ssmax-posthoc', 'ministral3-scaling', 'logn-scaling']);
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'ssmax-posthoc');
    const p = await waitFor('the post-hoc inspection', async () => {
      const st = await state();
      return st.inspection?.mode === 'ssmax-posthoc' && st;
    });
    assert.equal(p.lastError, null);
  });

  test('a broken model folder: the error names the file and the problem, the setting stays', async () => {
    const broken = path.join(dir, 'broken-model');
    fs.cpSync(model, broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'models.json'), '{"contract": 3, "id": ');
    await vscode.commands.executeCommand('attentionLens.openModelFolder', broken);
    const s = await state();
    assert.match(s.lastError ?? '', /broken-model.*models\.json/);
    assert.equal(config().get('modelPath'), '');
  });
});
