// Settings take effect without a reload: mode, layer/head, max tokens (windowing), Live Mode
// with its debounce.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { inspectActive, openSample, startCleanEachTest, state, waitFor } from './helpers';

const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('attentionLens');
const set = (key: string, value: unknown): Thenable<void> => config().update(key, value, vscode.ConfigurationTarget.Global);

suite('Settings', function () {
  this.timeout(120000);

  startCleanEachTest();

  test('attentionLens.mode, .layer and .head drive the status bar and the inspection', async () => {
    await openSample('hello.py');
    await inspectActive();
    await set('mode', 'ssmax');
    await set('layer', 3);
    await set('head', 2);
    const s = await waitFor('SSMax L3 H2', async () => {
      const st = await state();
      return st.inspection?.mode === 'ssmax' && /SSMax · L3 H2/.test(st.statusText) && st;
    });
    assert.equal(s.mode, 'ssmax');
  });

  test('the switch commands change the view in one step, not the settings, until Save View as Default writes them', async () => {
    await openSample('hello.py');
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'ssmax');
    await vscode.commands.executeCommand('attentionLens.selectHead', { layer: 2, head: 3 });
    const s = await state();
    assert.equal(s.mode, 'ssmax');
    assert.deepEqual([s.layer, s.head], [2, 3]);
    assert.equal(config().inspect('mode')?.globalValue, undefined, 'Switch Attention leaves the setting alone');
    assert.equal(config().inspect('layer')?.globalValue, undefined, 'Select Head leaves the setting alone');
    await vscode.commands.executeCommand('attentionLens.saveViewAsDefault');
    await waitFor('the setting', () => config().get('mode') === 'ssmax' && config().get('layer') === 2 && config().get('head') === 3);
    assert.equal((await state()).mode, 'ssmax', 'saving does not change the view');
    await vscode.commands.executeCommand('attentionLens.toggleFollowCursor');
    await waitFor('followCursor on', () => config().get('followCursor') === true);
    await vscode.commands.executeCommand('attentionLens.toggleFollowCursor');
    await waitFor('followCursor off', () => config().get('followCursor') === false);
  });

  test('attentionLens.maxTokens inspects a window around the cursor', async () => {
    const editor = await openSample('inventory.py');
    await set('maxTokens', 200);
    const end = editor.document.positionAt(editor.document.getText().length - 1);
    editor.selection = new vscode.Selection(end, end);
    const s = await inspectActive();
    assert.equal(s.inspection?.windowed, true);
    assert.equal(s.inspection?.tokens, 200);
    assert.ok((s.inspection?.documentTokens ?? 0) > 200);
    assert.match(s.statusTooltip, /window of 200/);
  });

  test('Live Mode re-inspects after an edit, once the debounce has passed', async () => {
    const editor = await openSample('hello.py');
    await set('liveDebounceMs', 200);
    await vscode.commands.executeCommand('attentionLens.toggleLiveMode', true);
    await waitFor('the first live inspection', async () => (await state()).inspection);
    for (const ch of ['#', ' ', 'h', 'i', '\n']) await editor.edit((e) => e.insert(new vscode.Position(0, 0), ch));
    const version = editor.document.version;
    const s = await waitFor('a live inspection of the edited text', async () => {
      const st = await state();
      return st.inspection?.version === version && st;
    });
    assert.match(s.statusTooltip, /live mode/);
    assert.equal(s.lastError, null);
  });
});
