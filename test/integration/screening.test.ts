// The editor under screening, on samples/inventory.py: Switch Attention offers it and the status bar
// shows it with the screening twin's own layers and tiles; the hover's "passes: N of M keys" line
// holds the inspection's numbers (M from the tile's window), with SSMax's weights on a line of
// their own; the overlay tints by the absolute relevance (a fixed curve whatever the rank setting,
// no tint where nothing passes); the cursor token's passing keys are outlined. One inspection for
// the suite: a screening run of 5,520 tokens takes tens of seconds on the shared machine.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Inspection } from '../../src/core/inspection-types';
import type { ShownInspection } from '../../src/extension/inspected-documents';
import type { PassingKeysShown } from '../../src/extension/probe';
import { STRENGTH_STEPS, strengthStep } from '../../src/shared/color-scale';
import type { CurveScale } from '../../src/shared/color-scale';
import { activate, closeAllEditors, inspectActive, openSample, resetSettings, state, waitFor } from './helpers';

const fmt = (n: number): string => n.toLocaleString('en-US');

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

/** Regex-safe text. */
const literal = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

suite('Screening in the editor', function () {
  this.timeout(300000);
  let editor: vscode.TextEditor;

  async function shown(): Promise<ShownInspection> {
    const { root } = await activate();
    const doc = root.documents.get(editor.document.uri);
    assert.ok(doc, 'inventory.py has an inspection');
    assert.equal(doc.inspection.mode, 'screening');
    return doc;
  }

  async function hoverAt(t: number, insp: Inspection): Promise<string> {
    const pos = editor.document.positionAt(insp.tokens[t].start);
    return hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, pos));
  }

  async function select(arg: unknown): Promise<void> {
    await vscode.commands.executeCommand('attentionLens.selectHead', arg);
  }

  /** Puts the cursor on token t and waits for the outline of its passing keys (a `done` check on the probe's record). */
  async function cursorOn(t: number, insp: Inspection, done: (note: string) => boolean): Promise<PassingKeysShown> {
    const pos = editor.document.positionAt(insp.tokens[t].start);
    editor.selection = new vscode.Selection(pos, pos);
    return waitFor(`the passing keys of token ${t}`, async () => {
      const p = (await state()).passingKeys;
      return p && p.query !== null && p.query[0] === insp.tokens[t].start && p.note !== null && done(p.note) ? p : undefined;
    });
  }

  /** Tokens (not whitespace) with these pass counts in tile lh, from the end of the file (long pasts). */
  function tokensWhere(insp: Inspection, lh: number, want: (pass: number) => boolean): number[] {
    const T = insp.tokens.length;
    const out: number[] = [];
    for (let t = T - 1; t > 0; t--) if (insp.tokens[t].text.trim() !== '' && want(insp.passCount?.[lh * T + t] ?? NaN)) out.push(t);
    return out;
  }

  suiteSetup(async () => {
    await activate();
    await resetSettings();
    editor = await openSample('inventory.py');
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'screening');
    await inspectActive();
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('attentionLens.clear');
    await resetSettings();
    await closeAllEditors();
  });

  test('Switch Attention offers Screening; the status bar shows it, with the twin\'s own 11 x 11 tiles', async () => {
    const s = await state();
    assert.ok(s.modes.includes('screening'), `modes: ${s.modes.join(', ')}`);
    assert.equal(s.inspection?.mode, 'screening');
    const insp = (await shown()).inspection;
    assert.deepEqual([insp.model.layers, insp.model.heads], [11, 11]);
    assert.ok(insp.passCount && insp.totalRelevance && insp.screening, 'pass counts, totals and the run\'s windows');
    // A tile past the Softmax model's 6 x 4 is selectable: the selection follows the shown mode's shape.
    await select({ layer: 9, head: 10 });
    const after = await state();
    assert.match(after.statusText, /Screening · L9 H10/);
    assert.deepEqual([after.layer, after.head], [9, 10]);
  });

  test('the hover says how many keys pass of those the tile sees, the total and the largest, as the inspection has them', async () => {
    const doc = await shown();
    const insp = doc.inspection;
    const T = insp.tokens.length;
    await select({ layer: 3, head: 9 });
    const lh = 2 * 11 + 8;
    const window = insp.screening?.window[lh] ?? NaN;
    const [t] = tokensWhere(insp, lh, (p) => p > 0);
    assert.ok(t !== undefined, 'some token passes keys in L3 H9');
    const pass = insp.passCount?.[lh * T + t] ?? NaN;
    const visible = Math.min(t + 1, Math.ceil(window));
    const total = insp.totalRelevance?.[lh * T + t] ?? NaN;
    const largest = insp.focus[lh * T + t];
    assert.ok(pass >= 1 && pass <= visible && total > 0 && largest > 0 && largest <= 1, `token ${t}: ${pass} of ${visible}, total ${total}, largest ${largest}`);
    // SSMax, the partner (Compare's default beside Screening), runs in the background: its line has numbers once it is done.
    await waitFor('the SSMax partner run', async () => (await state()).siblings.some((s) => s.mode === 'ssmax' && s.state === 'done'), 240000);
    const text = await hoverAt(t, insp);
    const line = `passes: ${fmt(pass)} of ${fmt(visible)} keys${Number.isFinite(window) && Math.ceil(window) <= t + 1 ? ` (its window: ${fmt(visible)} tokens)` : ''}, total relevance ${total.toFixed(2)}, largest ${largest.toFixed(3)}`;
    assert.ok(text.includes(`**Screening** · L3 H9: ${line}`), `hover has "${line}":\n${text}`);
    assert.match(text, /^L3 H9: window .* · a key passes where q·k > 0\.\d\d \(r = 0\.\d\d\)$/m);
    // The partner's number is a weight, on its own line, from its mean over heads (heads do not pair with tiles).
    const { root } = await activate();
    const ssmax = root.documents.cachedIn(doc, 'ssmax');
    assert.ok(ssmax, 'the SSMax inspection of the same window');
    let mean = 0;
    for (let h = 0; h < 24; h++) mean += ssmax.focus[h * T + t] / 24;
    assert.match(text, new RegExp(`^\\*\\*SSMax\\*\\* · all heads: mean \\(its 24 heads do not pair with 121 tiles\\): largest weight ${literal(mean.toFixed(3))}, entropy \\d+\\.\\d\\d nats \\(attention weights: a row sums to 1\\)$`, 'm'));
    assert.match(text, /^Surprisal \(nats\): SSMax \d+\.\d{3} · Screening \d+\.\d{3}$/m);
    assert.doesNotMatch(text, /\| focus \|/, 'no table that sets a relevance against a weight');
    assert.match(text, /Strongest passing keys \(Screening, L3 H9, relevance\)/);

    const [none] = tokensWhere(insp, lh, (p) => p === 0);
    assert.ok(none !== undefined, 'some token finds nothing in L3 H9');
    assert.equal(insp.totalRelevance?.[lh * T + none], 0);
    assert.match(await hoverAt(none, insp), /\*\*Screening\*\* · L3 H9: finds nothing: no key passes \(of [\d,]+ keys/);

    // The mean over tiles: each tile's share of the keys it sees, then the mean.
    await select('mean');
    let share = 0;
    let sum = 0;
    let finding = 0;
    for (let k = 0; k < 121; k++) {
      const p = insp.passCount?.[k * T + t] ?? NaN;
      share += p / Math.min(t + 1, Math.ceil(insp.screening?.window[k] ?? NaN)) / 121;
      sum += (insp.totalRelevance?.[k * T + t] ?? NaN) / 121;
      if (p > 0) finding++;
    }
    const agg = await hoverAt(t, insp);
    assert.ok(
      agg.includes(`**Screening** · mean over 121 tiles: ${(100 * share).toFixed(1)} % of keys pass, total relevance ${sum.toFixed(2)}, largest `),
      `mean line with ${(100 * share).toFixed(1)} % and ${sum.toFixed(2)}:\n${agg}`,
    );
    assert.match(agg, new RegExp(`; ${finding} of 121 tiles find a key`));
  });

  test('the overlay tints each token by its largest relevance on an absolute curve, whatever the rank setting; a token that finds nothing is untinted', async () => {
    const doc = await shown();
    const insp = doc.inspection;
    const T = insp.tokens.length;
    await select({ layer: 3, head: 9 });
    const lh = 2 * 11 + 8;
    const expected = (scale: CurveScale): string[][] => {
      const buckets: string[][] = Array.from({ length: STRENGTH_STEPS }, () => []);
      for (let t = 0; t < T; t++) {
        const f = insp.focus[lh * T + t];
        if (insp.tokens[t].text.trim() !== '' && f > 0) buckets[strengthStep(f, scale)].push(`${insp.tokens[t].start}-${insp.tokens[t].end}`);
      }
      return buckets;
    };
    const decorated = async (): Promise<string[][] | undefined> => {
      const s = await state(true);
      return s.decorations?.uri === editor.document.uri.toString() ? s.ranges?.buckets.map((b) => b.map(([a, e]) => `${a}-${e}`).sort()) : undefined;
    };
    const same = (a: string[][] | undefined, b: string[][]): boolean => !!a && JSON.stringify(a) === JSON.stringify(b.map((x) => [...x].sort()));

    // The default setting is rank: under relevance it reads as sqrt, the same for every file.
    const sqrt = expected('sqrt');
    const untinted = insp.tokens.filter((tok, t) => tok.text.trim() !== '' && insp.focus[lh * T + t] === 0).length;
    assert.ok(untinted > 0, 'some tokens find nothing in L3 H9');
    await waitFor('the sqrt tint at rank', async () => same(await decorated(), sqrt));
    const tooltip = (await state()).statusTooltip;
    assert.match(tooltip, /largest relevance of each token \(L3 H9\), absolute 0–1 on the sqrt scale \(the rank setting does not apply/);
    assert.match(tooltip, new RegExp(`no tint: ${literal(fmt(untinted))} of [\\d,]+ tokens find nothing`));

    const config = vscode.workspace.getConfiguration('attentionLens');
    await config.update('colorScale', 'linear', vscode.ConfigurationTarget.Global);
    await waitFor('the linear tint', async () => same(await decorated(), expected('linear')));
    await config.update('colorScale', 'sqrt', vscode.ConfigurationTarget.Global);
    await waitFor('the sqrt tint, as at rank', async () => same(await decorated(), sqrt));
    await config.update('colorScale', undefined, vscode.ConfigurationTarget.Global);
  });

  test('the cursor token\'s passing keys are outlined: all of them for a tile, from its full row beyond the top keys', async () => {
    const doc = await shown();
    const insp = doc.inspection;
    const T = insp.tokens.length;
    const K = insp.model.topK;
    await select({ layer: 3, head: 9 });
    const lh = 2 * 11 + 8;
    // Keys that are whitespace alone pass too, but are not drawn (the note counts them).
    const drawn = (j: number): boolean => insp.tokens[j].text.trim() !== '';
    const span = (j: number): string => `${insp.tokens[j].start}-${insp.tokens[j].end}`;
    const topOf = (t: number): number[] => {
      const out: number[] = [];
      for (let k = 0; k < K; k++) {
        const j = insp.topIndex[(lh * T + t) * K + k];
        if (j >= 0) out.push(j);
      }
      return out;
    };
    const blankIn = (note: string): number => Number(/\((\d+) of them whitespace, not drawn\)$/.exec(note)?.[1] ?? 0);
    const offsets = (keys: [number, number][]): string[] => keys.map(([a, e]) => `${a}-${e}`).sort();

    // A few keys pass: the kept top keys are all of them.
    const [few] = tokensWhere(insp, lh, (p) => p >= 2 && p <= K);
    assert.ok(few !== undefined, 'a token passing 2 to 16 keys');
    const pass = insp.passCount?.[lh * T + few] ?? NaN;
    const outlined = await cursorOn(few, insp, (note) => note.startsWith('all '));
    const top = topOf(few);
    assert.equal(top.length, pass, 'the kept top keys are the passing ones');
    assert.deepEqual(offsets(outlined.keys), top.filter(drawn).map(span).sort());
    assert.match(outlined.note ?? '', new RegExp(`^all ${pass} passing keys of L3 H9 for `));
    assert.equal(blankIn(outlined.note ?? ''), top.length - top.filter(drawn).length);
    assert.match((await state()).statusTooltip, /Cursor token: all \d+ passing keys of L3 H9/);

    // Many pass: the 16 strongest at once, then every passing key from the cursor token's full row.
    const [many] = tokensWhere(insp, lh, (p) => p > K);
    assert.ok(many !== undefined, `a token passing more than ${K} keys in L3 H9`);
    const passMany = insp.passCount?.[lh * T + many] ?? NaN;
    const full = await cursorOn(many, insp, (note) => note.startsWith('all '));
    assert.match(full.note ?? '', new RegExp(`^all ${literal(fmt(passMany))} passing keys of L3 H9`), `the full row passes as many keys as the graph counted (${passMany})`);
    assert.equal(full.keys.length, passMany - blankIn(full.note ?? ''));
    const all = new Set(offsets(full.keys));
    assert.ok(topOf(many).filter(drawn).every((j) => all.has(span(j))), 'the strongest keys are among them');
    const window = Math.ceil(insp.screening?.window[lh] ?? NaN);
    for (const [a] of full.keys) {
      const j = insp.tokens.findIndex((tok) => tok.start === a);
      assert.ok(j <= many && many - j < window && drawn(j), `key ${j} is in the window of query ${many} (${window}) and not whitespace`);
    }

    // The max over tiles: the 16 keys with the largest relevance in any tile.
    await select('max');
    const best = new Map<number, number>();
    for (let h = 0; h < 121; h++) {
      for (let k = 0; k < K; k++) {
        const j = insp.topIndex[(h * T + many) * K + k];
        if (j >= 0) best.set(j, Math.max(best.get(j) ?? 0, insp.topWeight[(h * T + many) * K + k]));
      }
    }
    const strongest = [...best.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, K).map(([j]) => j).filter(drawn).map(span).sort();
    const agg = await waitFor('the outline over tiles', async () => {
      const p = (await state()).passingKeys;
      return p?.note?.includes('largest relevance in any of the 121 tiles') ? p : undefined;
    });
    assert.deepEqual(offsets(agg.keys), strongest);

    // Back to an attention mode: nothing is outlined.
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'softmax');
    await waitFor('no outline under Softmax', async () => {
      const s = await state();
      return s.inspection?.mode === 'softmax' && s.passingKeys?.keys.length === 0 && s.passingKeys.note === null;
    }, 240000);
  });

  test('a tile beyond Softmax\'s 6 x 4 heads, across mode switches: each view shows what its inspection has, and nothing fails', async () => {
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'screening');
    await waitFor('the screening inspection', async () => (await state()).inspection?.mode === 'screening');
    await select({ layer: 9, head: 10 });
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'softmax');
    assert.match((await state()).statusText, /Softmax · L6 H4/, 'clamped to the Softmax model');
    // Back to screening: until its run lands again the editor still shows the Softmax inspection, under a tile it does not have.
    await vscode.commands.executeCommand('attentionLens.switchAttention', 'screening');
    const softmax = (await activate()).root.documents.get(editor.document.uri)?.inspection;
    if (softmax?.mode === 'softmax') assert.match(await hoverAt(10, softmax), /\| L6 H4 \| Softmax \| SSMax \|/);
    const s = await waitFor('the screening inspection again', async () => {
      const st = await state();
      return st.inspection?.mode === 'screening' && st.decorations !== null ? st : undefined;
    });
    assert.equal(s.lastError, null);
    assert.match(s.statusText, /Screening · L9 H10/);
    const insp = (await shown()).inspection;
    assert.match(await hoverAt(insp.tokens.length - 2, insp), /\*\*Screening\*\* · L9 H10: (passes|finds nothing)/);
  });
});
