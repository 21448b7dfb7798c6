// Export writes JSON (the CLI schema), a self-contained HTML report, a PNG heatmap and an SVG figure.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activate, closeAllEditors, inspectActive, offsetOf, openSample, resetSettings } from './helpers';

suite('Export', function () {
  this.timeout(120000);
  let dir: string;

  suiteSetup(async () => {
    await activate();
    await resetSettings();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-export-'));
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('attentionLens.clear');
    await closeAllEditors();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('JSON follows attention-lens/inspect@1', async () => {
    await openSample('hello.py');
    const s = await inspectActive();
    const file = path.join(dir, 'hello.json');
    const written = await vscode.commands.executeCommand<string>('attentionLens.export', { format: 'json', path: file });
    assert.equal(written, file);
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { schema: string; mode: string; tokens: unknown[]; focus: number[][][] };
    assert.equal(json.schema, 'attention-lens/inspect@1');
    assert.equal(json.mode, 'softmax');
    assert.equal(json.tokens.length, s.inspection?.tokens);
    assert.equal(json.focus[0][0].length, s.inspection?.tokens);
  });

  test('HTML is one page with no script and no remote resource', async () => {
    await openSample('hello.py');
    await inspectActive();
    const file = path.join(dir, 'hello.html');
    await vscode.commands.executeCommand('attentionLens.export', { format: 'html', path: file });
    const html = fs.readFileSync(file, 'utf8');
    assert.match(html, /<html/i);
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /(src|href)="https?:/i);
  });

  test('PNG is a PNG image of the selected head', async () => {
    await openSample('hello.py');
    await inspectActive();
    await vscode.commands.executeCommand('attentionLens.selectHead', { layer: 1, head: 2 });
    const file = path.join(dir, 'hello.png');
    await vscode.commands.executeCommand('attentionLens.export', { format: 'png', path: file });
    const png = fs.readFileSync(file);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(png.readUInt32BE(16) >= 256, 'a usable width');
    await resetSettings();
  });

  test('SVG under Compare with a needle: the map, the difference map, both modes\' curves and the exact needle', async () => {
    const editor = await openSample('hello.py');
    await inspectActive();
    await vscode.commands.executeCommand('attentionLens.compare', ['softmax', 'ssmax']);
    const at = offsetOf(editor.document, 'seen = Counter()');
    editor.selection = new vscode.Selection(editor.document.positionAt(at), editor.document.positionAt(at + 4));
    const needle = await vscode.commands.executeCommand<{ series: { mode: string; exact: boolean; bestHead: number }[] }>('attentionLens.needle');
    assert.deepEqual(
      needle.series.map((s) => [s.mode, s.exact]),
      [
        ['softmax', true],
        ['ssmax', true],
      ],
    );
    const file = path.join(dir, 'hello.svg');
    await vscode.commands.executeCommand('attentionLens.export', { format: 'svg', path: file });
    const svg = fs.readFileSync(file, 'utf8');
    for (const id of ['map', 'difference', 'focus', 'needle']) assert.ok(svg.includes(`<g id="${id}">`), id);
    assert.equal((svg.match(/class="series ssmax"/g) ?? []).length, 2, 'SSMax in the focus curves and the needle');
    assert.match(svg, /Softmax, best head L\d+ H\d+/);
    await vscode.commands.executeCommand('attentionLens.compare', false);
  });
});
