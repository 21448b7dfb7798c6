// Untrusted pass (scripts/run-integration.js): workspace trust on, folder not trusted, and
// attentionLens.modelPath pointing at a folder that is not a model. The extension must ignore
// it, say so, and keep working with the shipped model.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activate, closeAllEditors, inspectActive, openSample } from './helpers';

suite('Untrusted workspace', function () {
  this.timeout(120000);

  suiteSetup(async () => {
    await activate();
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('attentionLens.clear');
    await closeAllEditors();
  });

  test('the workspace is untrusted and a custom model is configured', () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const configured = vscode.workspace.getConfiguration('attentionLens').get<string>('modelPath');
    assert.ok(configured, 'the runner set attentionLens.modelPath');
    if (process.env.AL_UNTRUSTED_MODEL_PATH) assert.equal(configured, process.env.AL_UNTRUSTED_MODEL_PATH);
  });

  test('the custom model is ignored: the shipped model inspects the file', async () => {
    await openSample('hello.py');
    const s = await inspectActive();
    assert.equal(s.customModelIgnored, true);
    assert.equal(s.customModelNoticeShown, true, 'the user is told, once');
    assert.equal(path.basename(s.modelDir), 'models', `the shipped models/ folder is used, got ${s.modelDir}`);
    assert.notEqual(s.modelDir, vscode.workspace.getConfiguration('attentionLens').get('modelPath'));
    assert.ok((s.inspection?.tokens ?? 0) > 0);
    assert.equal(s.lastError, null);
  });

  test('the manifest declares limited support and restricts the model path', () => {
    const pkg = vscode.extensions.getExtension('attention-lens.attention-lens')?.packageJSON as {
      capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
      contributes: { configuration: { properties: Record<string, { scope?: string }> } };
    };
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, ['attentionLens.modelPath']);
    assert.equal(pkg.contributes.configuration.properties['attentionLens.modelPath'].scope, 'machine');
  });

  test('Open Model Folder refuses: the setting stays as it was', async () => {
    const config = vscode.workspace.getConfiguration('attentionLens');
    const before = config.inspect('modelPath')?.globalValue;
    await vscode.commands.executeCommand('attentionLens.openModelFolder', path.join(path.sep, 'tmp', 'some-model'));
    assert.equal(vscode.workspace.getConfiguration('attentionLens').inspect('modelPath')?.globalValue, before);
  });

  test('Open Model from Hugging Face Cache refuses before looking: nothing converted, the setting stays', async () => {
    const config = vscode.workspace.getConfiguration('attentionLens');
    const before = config.inspect('modelPath')?.globalValue;
    const opened = await vscode.commands.executeCommand<string | undefined>('attentionLens.openModelFromHfCache', 'test-org/tiny-llama');
    assert.equal(opened, undefined);
    assert.equal(vscode.workspace.getConfiguration('attentionLens').inspect('modelPath')?.globalValue, before);
  });
});
