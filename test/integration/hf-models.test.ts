// Hugging Face checkpoints in the editor, converted by the extension itself into its global storage:
// Open Model Folder on a checkpoint folder (a copy of test/fixtures/hf/llama), Open Model from
// Hugging Face Cache on a hub layout that HF_HUB_CACHE points at (the command reads the extension
// host's environment, which this suite shares), and Manage Converted Models' Delete.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activate, inspectActive, startCleanEachTest, state, waitFor } from './helpers';

const ROOT = path.join(__dirname, '..', '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'hf', 'llama');
const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('attentionLens');

suite('Hugging Face models', function () {
  this.timeout(180000);
  let dir: string;
  let hf: string;
  let cacheRoot: string;
  const hubCacheBefore = process.env.HF_HUB_CACHE;

  suiteSetup(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-hf-models-'));
    hf = path.join(dir, 'tiny-llama-hf');
    fs.cpSync(FIXTURE, hf, { recursive: true });
    // The hub cache's layout: models--ORG--NAME/snapshots/REVISION/ holding the files.
    const hub = path.join(dir, 'hub');
    fs.cpSync(FIXTURE, path.join(hub, 'models--test-org--tiny-llama', 'snapshots', '0123456789abcdef'), { recursive: true });
    const bert = path.join(hub, 'models--test-org--tiny-bert', 'snapshots', 'fedcba9876543210');
    fs.mkdirSync(bert, { recursive: true });
    fs.writeFileSync(path.join(bert, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'] }));
    process.env.HF_HUB_CACHE = hub;
    const { root } = await activate();
    cacheRoot = path.join(root.extension.globalStorageUri.fsPath, 'converted-models');
  });
  startCleanEachTest();
  teardown(async () => {
    await config().update('modelPath', undefined, vscode.ConfigurationTarget.Global);
    await waitFor('the shipped model again', async () => (await state()).modelDir.endsWith(`${path.sep}models`));
  });
  suiteTeardown(() => {
    if (hubCacheBefore === undefined) delete process.env.HF_HUB_CACHE;
    else process.env.HF_HUB_CACHE = hubCacheBefore;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(cacheRoot, { recursive: true, force: true });
  });

  test('Open Model Folder on a checkpoint folder converts it into global storage with progress, inspects like transformers; again it is instant', async () => {
    const { root, probe } = await activate();
    const conversions = probe.metrics.conversions;
    const model = await vscode.commands.executeCommand<string>('attentionLens.openModelFolder', hf);
    assert.ok(model.startsWith(cacheRoot + path.sep), `converted into the global storage: ${model}`);
    assert.equal(config().get('modelPath'), model);
    assert.equal(probe.metrics.conversions, conversions + 1);
    assert.ok(probe.metrics.conversionReports > 0, 'the progress notification was told tensors and MB');
    const manifest = JSON.parse(fs.readFileSync(path.join(model, 'models.json'), 'utf8')) as { id: string; converter: { source: string } };
    assert.equal(manifest.converter.source, hf);

    const ref = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'reference.json'), 'utf8')) as { text: string; ids: number[]; surprisal: number[] };
    const doc = await vscode.workspace.openTextDocument({ content: ref.text, language: 'python' });
    await vscode.window.showTextDocument(doc);
    const s = await inspectActive();
    assert.equal(s.modelDir, model);
    assert.equal(s.modelId, 'tiny-llama-hf');
    const insp = root.documents.get(doc.uri)?.inspection;
    assert.ok(insp);
    assert.equal(insp.tokens.length, ref.ids.length, 'the tokens of transformers');
    const worst = Math.max(...Array.from(insp.surprisal, (x, i) => Math.abs((Number.isFinite(x) ? x : 0) - ref.surprisal[i])));
    assert.ok(worst < 1e-3, `surprisal differs from transformers' by up to ${worst}`);

    const again = await vscode.commands.executeCommand<string>('attentionLens.openModelFolder', hf);
    assert.equal(again, model);
    assert.equal(probe.metrics.conversions, conversions + 1, 'no second conversion, no progress');
  });

  test('Open Model from Hugging Face Cache converts a snapshot and opens it; an unsupported one is refused with its reason', async () => {
    const model = await vscode.commands.executeCommand<string>('attentionLens.openModelFromHfCache', 'test-org/tiny-llama');
    assert.ok(model.startsWith(cacheRoot + path.sep), `converted into the global storage: ${model}`);
    assert.equal(config().get('modelPath'), model);
    const manifest = JSON.parse(fs.readFileSync(path.join(model, 'models.json'), 'utf8')) as { id: string };
    assert.equal(manifest.id, 'tiny-llama');
    const refused = await vscode.commands.executeCommand<string | undefined>('attentionLens.openModelFromHfCache', 'test-org/tiny-bert');
    assert.equal(refused, undefined);
    assert.equal(config().get('modelPath'), model, 'the setting stays');
    assert.equal((await state()).lastError, null, 'an unsupported snapshot is a notice, not a failure');
  });

  test('a checkpoint that does not match its config.json: one error naming the tensor, nothing left in global storage, the setting stays', async () => {
    const bad = path.join(dir, 'mismatched-hf');
    fs.cpSync(FIXTURE, bad, { recursive: true });
    const cfg = JSON.parse(fs.readFileSync(path.join(bad, 'config.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(bad, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 80 }));
    const before = fs.existsSync(cacheRoot) ? fs.readdirSync(cacheRoot) : [];
    const opened = await vscode.commands.executeCommand<string | undefined>('attentionLens.openModelFolder', bad);
    assert.equal(opened, undefined);
    assert.match((await state()).lastError ?? '', /model\.safetensors: tensor .* has shape \[.*\], config\.json implies \[.*\]/);
    assert.deepEqual(fs.existsSync(cacheRoot) ? fs.readdirSync(cacheRoot) : [], before, 'no partial folder is left');
    assert.equal(config().get('modelPath'), '');
  });

  test('Manage Converted Models: Delete removes the folder; deleting the model in use goes back to the shipped model', async () => {
    const model = await vscode.commands.executeCommand<string>('attentionLens.openModelFolder', hf);
    assert.ok(fs.existsSync(model));
    await vscode.commands.executeCommand('attentionLens.manageConvertedModels', { dir: model, action: 'delete' });
    assert.equal(fs.existsSync(model), false, 'the folder is gone');
    assert.equal(config().get('modelPath'), '', 'the setting is cleared');
    await waitFor('the shipped model', async () => (await state()).modelDir.endsWith(`${path.sep}models`));
  });
});
