// Commands inside the real extension host: registration, inspection of files and untitled
// documents, mode and head switching reflected in the status bar, Clear, and no-editor cases.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { closeAllEditors, inspectActive, openSample, startCleanEachTest, state, waitFor } from './helpers';

const PALETTE = [
  'attentionLens.inspect',
  'attentionLens.openModelFolder',
  'attentionLens.openModelFromHfCache',
  'attentionLens.manageConvertedModels',
  'attentionLens.switchAttention',
  'attentionLens.selectHead',
  'attentionLens.saveViewAsDefault',
  'attentionLens.showPanel',
  'attentionLens.openInEditor',
  'attentionLens.compare',
  'attentionLens.needle',
  'attentionLens.toggleFollowCursor',
  'attentionLens.toggleLiveMode',
  'attentionLens.clear',
  'attentionLens.cancel',
  'attentionLens.export',
  'attentionLens.getStarted',
];
/** The walkthrough's buttons: contributed (so that a click activates the extension), hidden from the palette. */
const WALKTHROUGH = ['attentionLens.walkthrough.openSample', 'attentionLens.walkthrough.inspect', 'attentionLens.walkthrough.compare', 'attentionLens.walkthrough.needle'];

suite('Commands', function () {
  this.timeout(120000);

  startCleanEachTest();

  test('every palette command is registered, in the "Attention Lens" category; no test-only command ships', async () => {
    const all = await vscode.commands.getCommands(true);
    for (const id of [...PALETTE, ...WALKTHROUGH, 'attentionLens.revealToken']) assert.ok(all.includes(id), `${id} is registered`);
    assert.deepEqual(all.filter((id) => id.startsWith('attentionLens._')), [], 'no test-only command (tests read state through the API activate() returns)');
    const pkg = vscode.extensions.getExtension('attention-lens.attention-lens')?.packageJSON as {
      contributes: { commands: { command: string; category: string }[]; menus: { commandPalette: { command: string; when: string }[] } };
    };
    const contributed = pkg.contributes.commands;
    assert.deepEqual(contributed.map((c) => c.command).sort(), [...PALETTE, ...WALKTHROUGH].sort(), 'exactly these are contributed');
    const hidden = pkg.contributes.menus.commandPalette.filter((m) => m.when === 'false').map((m) => m.command);
    assert.deepEqual(hidden.sort(), [...WALKTHROUGH].sort(), 'the palette lists all but the walkthrough buttons');
    assert.ok(contributed.every((c) => c.category === 'Attention Lens'));
  });

  test('Inspect Current Document inspects the active file and the status bar shows mode and head', async () => {
    const editor = await openSample('hello.py');
    const s = await inspectActive();
    assert.equal(s.inspection?.uri, editor.document.uri.toString());
    assert.ok((s.inspection?.tokens ?? 0) > 50, `hello.py has many tokens, got ${s.inspection?.tokens}`);
    assert.equal(s.inspection?.mode, 'softmax');
    assert.match(s.statusText, /Softmax · all heads: mean/);
    assert.equal(s.modelId !== null, true, 'the model was loaded on first use');
  });

  test('Switch Attention with a mode re-inspects and the status bar follows', async () => {
    await openSample('hello.py');
    await inspectActive();
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'ssmax');
    const s = await waitFor('the SSMax inspection', async () => {
      const st = await state();
      return st.inspection?.mode === 'ssmax' && !st.busy && st;
    });
    assert.match(s.statusText, /^\$\(eye\) SSMax · /);
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'ssmax-posthoc');
    const p = await waitFor('the post-hoc inspection', async () => {
      const st = await state();
      return st.inspection?.mode === 'ssmax-posthoc' && !st.busy && st;
    });
    assert.match(p.statusText, /SSMax post-hoc/);
  });

  test('Select Layer and Head with an argument selects that head; "max" selects the aggregate', async () => {
    await openSample('hello.py');
    await inspectActive();
    await vscode.commands.executeCommand('attentionLens.selectHead', { layer: 2, head: 3 });
    let s = await waitFor('L2 H3 in the status bar', async () => {
      const st = await state();
      return /L2 H3/.test(st.statusText) && st;
    });
    assert.equal(s.layer, 2);
    assert.equal(s.head, 3);
    await vscode.commands.executeCommand('attentionLens.selectHead', 'max');
    s = await waitFor('the max aggregate', async () => {
      const st = await state();
      return /all heads: max/.test(st.statusText) && st;
    });
    assert.equal(s.layer, null);
    assert.equal(s.head, 'max');
  });

  test('a head beyond the model is clamped to the last one', async () => {
    await openSample('hello.py');
    await inspectActive();
    await vscode.commands.executeCommand('attentionLens.selectHead', { layer: 99, head: 99 });
    const s = await waitFor('a clamped head', async () => {
      const st = await state();
      return st.layer !== null && st.layer < 99 && st;
    });
    assert.match(s.statusText, new RegExp(`L${s.layer} H${s.head}`));
  });

  test('Clear removes inspections and decorations', async () => {
    await openSample('hello.py');
    await inspectActive();
    await vscode.commands.executeCommand('attentionLens.clear');
    const s = await state();
    assert.equal(s.inspection, null);
    assert.deepEqual(s.inspectedUris, []);
    assert.ok(s.decorations && s.decorations.buckets.every((n) => n === 0), 'no decorated ranges left');
  });

  test('works on an untitled document', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: 'def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n' });
    await vscode.window.showTextDocument(doc);
    const s = await inspectActive();
    assert.equal(s.inspection?.uri, doc.uri.toString());
    assert.ok((s.inspection?.tokens ?? 0) > 5);
  });

  test('an empty document gives a clear error and the extension keeps working', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: '' });
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('attentionLens.inspect');
    const s = await state();
    assert.match(s.lastError ?? '', /empty/);
    assert.match(s.statusText, /\$\(error\)/);
    assert.match(s.statusTooltip, /empty/);
    await openSample('hello.py');
    const ok = await inspectActive();
    assert.equal(ok.lastError, null, 'a good inspection clears the error');
  });

  test('commands are harmless with no editor open', async () => {
    await closeAllEditors();
    await vscode.commands.executeCommand('attentionLens.inspect');
    await vscode.commands.executeCommand('attentionLens.export', { format: 'json', path: '/tmp/never-written.json' });
    const s = await state();
    assert.equal(s.lastError, null);
    assert.equal(s.inspection, null);
  });

  test('an edit during a run cancels it: its result is discarded, with no error', async () => {
    const editor = await openSample('inventory.py');
    const running = vscode.commands.executeCommand('attentionLens.inspect');
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), '# edited during the run\n'));
    await running;
    const s = await state();
    assert.equal(s.inspection, null, 'no result for the old text');
    assert.equal(s.lastError, null, 'a cancelled run is not an error');
    assert.equal(s.busy, false);
  });

  test('an edit drops a stale inspection (Live Mode off)', async () => {
    const editor = await openSample('hello.py');
    await inspectActive();
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), '# edited\n'));
    const s = await state();
    assert.equal(s.inspection, null, 'the old inspection no longer matches the text');
    await vscode.commands.executeCommand('undo');
  });
});
