// Hovers through vscode.executeHoverProvider: token, position, Softmax and SSMax side by side,
// entropy, surprisal, top attended tokens as trusted reveal links (and nothing else trusted).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { inspectActive, offsetOf, openSample, startCleanEachTest, waitFor } from './helpers';

function hoverText(hovers: vscode.Hover[]): { text: string; trusted: vscode.MarkdownString[] } {
  const parts = hovers.flatMap((h) => h.contents);
  const md = parts.filter((c): c is vscode.MarkdownString => c instanceof vscode.MarkdownString);
  const text = parts.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('\n');
  return { text, trusted: md };
}

async function hoverAt(doc: vscode.TextDocument, offset: number): Promise<vscode.Hover[]> {
  return vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, doc.positionAt(offset));
}

suite('Hover', function () {
  this.timeout(120000);

  startCleanEachTest();

  test('shows focus under Softmax and SSMax, entropy, surprisal and the top 5 keys as reveal links', async () => {
    const editor = await openSample('hello.py');
    await inspectActive();
    const at = offsetOf(editor.document, 'seen[name] += 1');
    // The first hover may find SSMax missing and start it in the background; a later one has both.
    const text = await waitFor('a hover with both modes', async () => {
      const t = hoverText(await hoverAt(editor.document, at)).text;
      return /\*\*Attention Lens\*\*/.test(t) && !t.includes('…') && t;
    });
    assert.match(text, /\| focus \| \d\.\d{3} \| \d\.\d{3} \|/);
    assert.match(text, /Softmax \| SSMax/);
    assert.match(text, /entropy \(nats\)/);
    assert.match(text, /surprisal \(nats\)/);
    assert.match(text, /line \d+, col \d+/);
    const links = text.match(/\]\(command:attentionLens\.revealToken\?/g) ?? [];
    assert.ok(links.length >= 1 && links.length <= 5, `1 to 5 reveal links, got ${links.length}`);
    assert.doesNotMatch(text.replace(/command:attentionLens\.revealToken/g, ''), /command:/, 'no other command links');
  });

  test('trusts only the reveal command', async () => {
    const editor = await openSample('hello.py');
    await inspectActive();
    const hovers = await hoverAt(editor.document, offsetOf(editor.document, 'greet'));
    const ours = hoverText(hovers).trusted.filter((m) => m.value.includes('Attention Lens'));
    assert.ok(ours.length > 0);
    for (const md of ours) {
      assert.deepEqual(md.isTrusted, { enabledCommands: ['attentionLens.revealToken'] });
      assert.notEqual(md.supportHtml, true);
    }
  });

  test('a reveal link selects the attended token in the editor', async () => {
    const editor = await openSample('hello.py');
    await inspectActive();
    const text = hoverText(await hoverAt(editor.document, offsetOf(editor.document, 'lines.append'))).text;
    const m = /command:attentionLens\.revealToken\?([^ )]+)/.exec(text);
    assert.ok(m, 'a reveal link');
    const [uri, offset] = JSON.parse(decodeURIComponent(m[1])) as [string, number];
    await vscode.commands.executeCommand('attentionLens.revealToken', uri, offset);
    const active = vscode.window.activeTextEditor;
    assert.equal(active?.document.uri.toString(), uri);
    assert.equal(active?.document.offsetAt(active.selection.start), offset, 'the selection starts at the token');
    assert.ok(!active?.selection.isEmpty, 'the whole token is selected');
  });

  test('a token whose text is Markdown or HTML is shown escaped', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'x = "</script><b>*bold*</b>" # [link](command:workbench.action.quit)\n' });
    await vscode.window.showTextDocument(doc);
    await inspectActive();
    const text = hoverText(await hoverAt(doc, doc.getText().indexOf('link'))).text;
    assert.match(text, /Attention Lens/, 'untitled documents get hovers too');
    assert.doesNotMatch(text, /\]\(command:workbench/, 'a command link inside a token is not live');
    assert.doesNotMatch(text, /<b>/);
  });

  test('no hover before inspection, none after Clear', async () => {
    const editor = await openSample('wordfreq.rs');
    const none = hoverText(await hoverAt(editor.document, 5)).text;
    assert.doesNotMatch(none, /Attention Lens/);
    await inspectActive();
    assert.match(hoverText(await hoverAt(editor.document, 5)).text, /Attention Lens/);
    await vscode.commands.executeCommand('attentionLens.clear');
    assert.doesNotMatch(hoverText(await hoverAt(editor.document, 5)).text, /Attention Lens/);
  });
});
