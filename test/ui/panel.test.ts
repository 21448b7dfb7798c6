// UI tests of the side panel (a webview view in the panel area), in the dark and light theme:
// token strip, head grid, heatmap with its hover readout, fading chart, and the mode switch.
// Selectors are the panel's data-testid attributes (src/webview); see PANEL below.
import * as assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import type { Theme } from './harness';
import { Workbench } from './harness';

const PANEL = {
  root: 'attention-panel',
  tokenStrip: 'token-strip',
  token: 'token',
  heatmap: 'heatmap',
  readout: 'heatmap-readout',
  headCell: 'head-cell',
  fadingChart: 'fading-chart',
} as const;

const tid = (id: string): string => `[data-testid="${id}"]`;

for (const theme of ['dark', 'light'] as Theme[]) {
  describe(`Attention Lens side panel (${theme} theme)`, function () {
    let bench: Workbench;
    let panel: FrameLocator;

    before(async function () {
      this.timeout(240000);
      bench = await Workbench.start({ theme });
      await bench.inspectFile('inventory.py');
      await bench.runCommand('Attention Lens: Show Attention Panel');
      panel = await bench.webview(PANEL.tokenStrip, 90000);
    });

    after(async function () {
      await bench?.close();
    });

    afterEach(async function () {
      await bench?.screenshotIfFailed(this.currentTest, theme);
    });

    it('shows the inspected text as a token strip coloured by focus', async function () {
      const tokens = panel.locator(`${tid(PANEL.tokenStrip)} ${tid(PANEL.token)}`);
      await tokens.first().waitFor();
      const count = await tokens.count();
      assert.ok(count > 100, `the long sample shows many tokens, got ${count}`);
      const background = await tokens.nth(Math.min(50, count - 1)).evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.notEqual(background, 'rgba(0, 0, 0, 0)', 'tokens carry a focus colour');
      await bench.screenshot(`${theme}-panel-overview`);
    });

    it('selects a head from the head grid and the status bar follows', async function () {
      const cells = panel.locator(tid(PANEL.headCell));
      await cells.first().waitFor();
      const count = await cells.count();
      assert.ok(count >= 4, `a cell per layer and head, got ${count}`);
      const cell = cells.nth(count - 1);
      await cell.click();
      const label = ((await cell.getAttribute('aria-label')) ?? (await cell.innerText())).trim();
      // The last cell is the last layer's last head, e.g. "L4 H4".
      const match = /L(\d+)\s*H(\d+)/.exec(label);
      assert.ok(match, `head cell is labelled with its layer and head, got "${label}"`);
      await bench.statusItem(new RegExp(`L${match[1]}\\s*H${match[2]}`)).waitFor({ timeout: 30000 });
      await bench.screenshot(`${theme}-panel-head-selected`);
    });

    it('reads query, key and weight off the heatmap under the pointer', async function () {
      const canvas = panel.locator(tid(PANEL.heatmap));
      await canvas.waitFor();
      const box = await canvas.boundingBox();
      assert.ok(box && box.width > 50 && box.height > 50, 'the heatmap has a drawable size');
      // Lower triangle (query below key): causal attention has weight there.
      await canvas.hover({ position: { x: box.width * 0.3, y: box.height * 0.7 } });
      const readout = panel.locator(tid(PANEL.readout));
      await readout.waitFor();
      const text = (await readout.innerText()).trim();
      assert.match(text, /\d\.\d+/, `the readout shows a weight, got "${text}"`);
      await bench.screenshot(`${theme}-panel-heatmap-hover`);
    });

    it('draws the fading chart for Softmax and SSMax', async function () {
      // Both curves: the second mode is computed in the background after the first inspection.
      const chart = panel.locator(tid(PANEL.fadingChart), { hasText: /SSMax/ }).filter({ hasText: /Softmax/ });
      await chart.waitFor({ timeout: 120000 });
      const box = await chart.boundingBox();
      assert.ok(box && box.width > 50 && box.height > 30, 'the fading chart is visible');
      const text = await chart.evaluate((el) => el.textContent ?? el.getAttribute('aria-label') ?? '');
      assert.match(text, /softmax/i);
      assert.match(text, /ssmax/i);
    });

    it('fits Compare into the short bottom panel: both maps and the difference in one row', async function () {
      await panel.locator(tid('compare-toggle')).click();
      await panel.locator(`${tid('compare-view')}:not(.pending)`).waitFor({ timeout: 120000 });
      // Softmax vs SSMax are two checkpoints: Compare shows the mean over heads.
      await bench.statusItem(/all heads: mean/).waitFor({ timeout: 30000 });
      const boxes = await Promise.all(['compare-map-a', 'compare-map-b', 'compare-diff'].map((id) => panel.locator(tid(id)).boundingBox()));
      assert.ok(boxes.every((b) => b && b.width >= 96), 'three maps drawn');
      const tops = boxes.map((b) => Math.round(b?.y ?? -1));
      assert.ok(Math.max(...tops) - Math.min(...tops) <= 2, `one row: tops ${tops.join(', ')}`);
      await bench.screenshot(`${theme}-panel-compare`);
      await panel.locator(tid('compare-toggle')).click();
      await panel.locator(tid('compare-view')).waitFor({ state: 'hidden' });
    });

    it('switches to SSMax from the palette and the status bar shows it', async function () {
      await bench.runCommand('Attention Lens: Switch Attention');
      await bench.pickQuickItem(/^\s*SSMax(?!\s*on Softmax)/);
      await bench.statusItem(/SSMax/).waitFor({ timeout: 120000 });
      await panel.locator(tid(PANEL.tokenStrip)).waitFor();
      await bench.screenshot(`${theme}-panel-ssmax`);
    });
  });
}
