// Editor overlay: the decorated ranges are exactly the inspected tokens (focus mode), and in
// Follow Cursor the keys the cursor token attends to, with the cursor token outlined.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { inspectActive, offsetOf, openSample, startCleanEachTest, state, waitFor } from './helpers';

suite('Editor overlay', function () {
  this.timeout(120000);

  startCleanEachTest();

  test('every non-whitespace token is decorated once, on its exact range', async () => {
    const editor = await openSample('hello.py');
    const s0 = await inspectActive();
    const s = await state(true);
    assert.ok(s.ranges, 'ranges are reported');
    const text = editor.document.getText();
    const all = s.ranges.buckets.flat().sort((a, b) => a[0] - b[0]);
    assert.ok(all.length > 0.5 * (s0.inspection?.tokens ?? 0), `most tokens are decorated (${all.length} of ${s0.inspection?.tokens})`);
    for (let i = 0; i < all.length; i++) {
      const [start, end] = all[i];
      assert.ok(end > start, 'no empty range');
      assert.notEqual(text.slice(start, end).trim(), '', `range ${start}-${end} is not whitespace only`);
      if (i > 0) assert.ok(start >= all[i - 1][1], 'ranges do not overlap');
    }
    // The ranges tile the text's visible characters: each non-space character is inside one.
    const covered = new Uint8Array(text.length);
    for (const [a, b] of all) covered.fill(1, a, b);
    for (let i = 0; i < text.length; i++) if (text[i].trim() !== '') assert.equal(covered[i], 1, `character ${i} (${JSON.stringify(text[i])}) is decorated`);
    assert.equal(s.decorations?.uri, editor.document.uri.toString());
    assert.equal(s.decorations?.query, 0, 'no cursor outline outside Follow Cursor');
  });

  test('the colour scale moves tokens between strength steps', async () => {
    await vscode.workspace.getConfiguration('attentionLens').update('colorScale', 'linear', vscode.ConfigurationTarget.Global);
    await openSample('inventory.py');
    await inspectActive();
    const linear = (await state()).decorations?.buckets ?? [];
    await vscode.workspace.getConfiguration('attentionLens').update('colorScale', 'log', vscode.ConfigurationTarget.Global);
    const log = await waitFor('log scale buckets', async () => {
      const b = (await state()).decorations?.buckets ?? [];
      return JSON.stringify(b) !== JSON.stringify(linear) && b;
    });
    const weak = (b: number[]): number => b[0] + b[1];
    assert.ok(weak(log) < weak(linear), `log scale shows fewer tokens in the weakest steps (${weak(log)} < ${weak(linear)})`);
    assert.equal(
      log.reduce((a, b) => a + b, 0),
      linear.reduce((a, b) => a + b, 0),
      'the same tokens, only in other steps',
    );
  });

  test('Follow Cursor colours the keys of the cursor token, then its full row, and outlines the token', async () => {
    const editor = await openSample('hello.py');
    await inspectActive();
    await vscode.commands.executeCommand('attentionLens.toggleFollowCursor', true);
    await waitFor('follow cursor on', async () => (await state()).followCursor);
    const at = offsetOf(editor.document, 'seen[name] += 1');
    const pos = editor.document.positionAt(at);
    const before = (await state()).metrics.fullRowUpdates;
    editor.selection = new vscode.Selection(pos, pos);
    // The top-k colouring comes at once; the full row (the worker kept this run's keys) replaces it.
    const s = await waitFor('the full-row colouring at the cursor', async () => {
      const st = await state(true);
      return st.metrics.fullRowUpdates > before && st.ranges && st.ranges.query.length === 1 && st.ranges.query[0][0] <= at && st;
    });
    assert.ok(s.ranges);
    const [qStart, qEnd] = s.ranges.query[0];
    assert.ok(qStart <= at && at < qEnd, 'the outline is on the cursor token');
    const keys = s.ranges.buckets.flat();
    assert.ok(keys.length >= 1, 'at least one attended key');
    const tokensUpToCursor = s.inspection ? s.inspection.tokens : Infinity;
    assert.ok(keys.length <= tokensUpToCursor, `at most one range per earlier token, got ${keys.length}`);
    for (const [a] of keys) assert.ok(a < qEnd, 'causal: every key starts at or before the query token');
    assert.match(s.statusTooltip, /following the cursor/);

    // Moving the cursor moves the outline.
    const later = offsetOf(editor.document, 'lines.append');
    editor.selection = new vscode.Selection(editor.document.positionAt(later), editor.document.positionAt(later));
    await waitFor('the outline to follow', async () => {
      const st = await state(true);
      return st.ranges?.query[0] && st.ranges.query[0][0] <= later && later < st.ranges.query[0][1];
    });
  });

  test('an editor opened after inspection in a second column gets the same decorations', async () => {
    const editor = await openSample('hello.py');
    const s = await inspectActive();
    const first = s.decorations?.buckets;
    await vscode.window.showTextDocument(editor.document, { viewColumn: vscode.ViewColumn.Beside });
    const second = await waitFor('the second editor to be decorated', async () => {
      const st = await state();
      return vscode.window.visibleTextEditors.length === 2 && st.decorations && st.decorations.buckets;
    });
    assert.deepEqual(second, first);
  });
});
