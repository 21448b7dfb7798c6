// The panel under screening, from the host's side: switching to the screening twin fills both
// pages with its 11 x 11 tiles and no head roles, a tile beyond the attention heads' 6 x 4 can be
// selected (the selection is clamped to the shown mode's shape), and switching back clamps it.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activate, closeAllEditors, inspectActive, openSample, resetSettings, state, waitFor } from './helpers';

suite('Side panel under screening', function () {
  this.timeout(240000);

  suiteSetup(async () => {
    await activate();
    await resetSettings();
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('attentionLens.clear');
    await resetSettings();
    await closeAllEditors();
  });

  test('the tiles fill the page without roles; a tile past 6 x 4 is selectable, and Softmax clamps it back', async () => {
    await openSample('hello.py');
    await inspectActive();
    await vscode.commands.executeCommand('attentionLens.showPanel');
    await waitFor('the panel to say ready', async () => (await state()).panelReady, 60000);
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'screening');
    const shown = await waitFor('the panel to draw the screening inspection', async () => {
      const st = await state();
      return st.inspection?.mode === 'screening' && st.shown.panel?.mode === 'screening' && st.shown.panel.documentId >= 0 && st;
    }, 120000);
    assert.equal(shown.lastError, null);
    assert.equal(shown.shown.panel?.roles, 0, 'no head roles under screening');

    await vscode.commands.executeCommand('attentionLens.selectHead', { layer: 9, head: 11 });
    const tile = await waitFor('the page on L9 H11', async () => {
      const s = (await state()).shown.panel;
      return s?.selection.kind === 'head' && s.selection.layer === 8 && s.selection.head === 10 && s;
    });
    assert.equal(tile.mode, 'screening');
    assert.deepEqual([(await state()).layer, (await state()).head], [9, 11]);

    await vscode.commands.executeCommand('attentionLens.switchAttention', 'softmax');
    await waitFor('Softmax with the selection clamped to its 6 x 4 heads', async () => {
      const st = await state();
      const s = st.shown.panel;
      return st.inspection?.mode === 'softmax' && s?.mode === 'softmax' && s.roles === 24 && st.layer === 6 && st.head === 4;
    }, 60000);
  });

  test('a switch to screening while the first inspection still runs shows screening when it lands', async () => {
    await vscode.commands.executeCommand('attentionLens.clear');
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'softmax');
    await openSample('lru-cache.js');
    const running = vscode.commands.executeCommand('attentionLens.inspect');
    await waitFor('the first inspection to start', async () => (await state()).busy);
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'screening');
    await running;
    await waitFor('the screening inspection shown', async () => {
      const st = await state();
      return st.inspection?.mode === 'screening' && st.shown.panel?.mode === 'screening' && !st.busy;
    }, 120000);
  });
});
