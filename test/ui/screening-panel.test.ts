// UI test of the side panel under screening (the Multiscreen twin: relevance, not attention
// weights), in the dark and light theme, on samples/inventory.py: the layers x tiles grid with
// each tile's window, acceptance and share of keys passing, the relevance map and its key, queries
// that find nothing struck through in the token strip, the cursor token's passes, and the Fading
// tabs' screening curves apart from the weights. Screenshots: test-results/screenshots/
// <theme>-screening-panel.png and <theme>-screening-fading.png.
import * as assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import type { Theme } from './harness';
import { Workbench } from './harness';

const tid = (id: string): string => `[data-testid="${id}"]`;

for (const theme of ['dark', 'light'] as Theme[]) {
  describe(`Side panel under screening (${theme} theme)`, function () {
    let bench: Workbench;
    let panel: FrameLocator;

    before(async function () {
      this.timeout(300000);
      bench = await Workbench.start({ theme, viewport: { width: 1600, height: 1000 } });
      await bench.inspectFile('inventory.py');
      await bench.runCommand('Attention Lens: Show Attention Panel');
      panel = await bench.webview('token-strip', 90000);
      await panel.locator(tid('panel-status'), { hasText: /Softmax · \d+ tokens/ }).filter({ hasNotText: /inspecting/ }).waitFor({ timeout: 180000 });
      await bench.runCommand('Attention Lens: Switch Attention');
      await bench.pickQuickItem(/^\s*Screening/);
      await bench.statusItem(/Screening/).waitFor({ timeout: 180000 });
      await panel.locator(tid('panel-status'), { hasText: /Screening · \d+ tokens/ }).filter({ hasNotText: /inspecting/ }).waitFor({ timeout: 180000 });
    });

    after(async function () {
      await bench?.close();
    });

    afterEach(async function () {
      await bench?.screenshotIfFailed(this.currentTest, theme);
    });

    it('shows 11 x 11 tiles, each with its window, acceptance and share of keys passing, and no head roles', async function () {
      const cells = panel.locator(tid('head-cell'));
      await cells.first().waitFor();
      assert.equal(await cells.count(), 121);
      assert.equal(await panel.locator(tid('head-role')).count(), 0, 'no roles under screening');
      assert.match(await panel.locator(tid('tile-note')).innerText(), /No head roles: their rules read normalised attention rows/);
      const windows = await panel.locator(tid('tile-window')).allInnerTexts();
      assert.ok(windows.every((w) => /^w (\d+(\.\d)?|∞)$/.test(w.trim())), `windows: ${windows.slice(0, 12).join(', ')}`);
      // inventory.py is beyond the training length: tiles whose w exceeds it see every earlier key.
      assert.ok(windows.some((w) => w.includes('∞')), 'a tile with w = ∞');
      assert.match(await panel.locator(tid('tile-acceptance')).first().innerText(), /^r 0\.\d\d$/);
      assert.match(await panel.locator(tid('tile-pass')).first().innerText(), /^(< )?\d+(\.\d+)? %$/);
      const label = (await cells.nth(2 * 11 + 4).getAttribute('aria-label')) ?? '';
      assert.match(label, /^L3 H5, tile 5 of layer 3: window (\d+(\.\d)?|infinite \(every earlier key\)), acceptance 0\.\d\d, [<\d. ]+% of the keys in its window pass/);
      assert.equal(await panel.locator('h2', { hasText: /^Tiles$/ }).count(), 1, 'the section says tiles');
    });

    it('draws the relevance map with its key and reads relevance under the pointer', async function () {
      await panel.locator('h2', { hasText: /^Relevance map$/ }).waitFor();
      const key = panel.locator(tid('map-legend'));
      await key.waitFor();
      assert.match(await key.innerText(), /relevance, absolute[\s\S]*empty: 0, every key rejected/);
      assert.match((await panel.locator(tid('heatmap')).getAttribute('aria-label')) ?? '', /^Relevance map, Screening/);
      const canvas = panel.locator(tid('heatmap'));
      const box = await canvas.boundingBox();
      assert.ok(box, 'the map is drawn');
      await canvas.hover({ position: { x: box.width * 0.3, y: box.height * 0.7 } });
      assert.match(await panel.locator(tid('heatmap-readout')).innerText(), /relevance \d\.\d{3}/);
      assert.match(await panel.locator(tid('color-legend')).innerText(), /largest relevance \(focus\)/);
    });

    it('a tile strikes the queries that find nothing, and the cursor token reads its passes', async function () {
      await panel.locator(`${tid('head-cell')}[data-layer="0"][data-head="0"]`).click();
      await bench.statusItem(/L1\s*H1/).waitFor({ timeout: 30000 });
      const nothing = panel.locator(`${tid('token')}.finds-nothing`);
      await nothing.first().waitFor({ timeout: 30000 });
      assert.match((await nothing.first().getAttribute('aria-label')) ?? '', /finds nothing: no key passes/);
      assert.match(await panel.locator(tid('legend-finds-nothing')).innerText(), /finds nothing: no key passes \([\d,]+ tokens\)/);
      // The editor's cursor on a line of code: the info line names the tile's passes and total.
      await bench.page.locator('.editor-instance .monaco-editor .view-line').nth(12).click();
      await panel.locator(tid('cursor-info'), { hasText: /L1 H1 \(tile\): passes \d+ of \d+ keys in its window, total relevance \d+\.\d\d/ }).waitFor({ timeout: 30000 });
      // The panel maximized: every layer of tiles in view, as the README shows it.
      await bench.runCommand('View: Toggle Maximized Panel');
      await panel.locator(`${tid('head-cell')}[data-layer="10"][data-head="10"]`).waitFor();
      await bench.page.waitForTimeout(500);
      await bench.screenshot(`${theme}-screening-panel`);
    });

    it('Fading: screening\'s keys passing, total and largest relevance in their own tabs, apart from the weights', async function () {
      const fading = panel.locator(tid('fading-view'));
      await fading.scrollIntoViewIfNeeded();
      // Softmax and SSMax keep their tabs; the focus chart draws weights only and says where screening is.
      await panel.locator(`${tid('fading-chart')} polyline.series.softmax`).waitFor({ timeout: 180000 });
      assert.equal(await panel.locator(`${tid('fading-chart')} polyline.series.screening`).count(), 0, 'relevance is not drawn with the weights');
      assert.match(await panel.locator(tid('fading-note')).innerText(), /Screening is not drawn here: relevance is not a weight/);
      const expected: Record<string, RegExp> = {
        passing: /L1 H1 \(tile\): share of the keys in the tile's window that pass/,
        total: /total relevance of a query \(its row's sum: not normalised/,
        largest: /largest relevance of a query \(its focus\), absolute in \[0, 1\]/,
      };
      for (const [tab, note] of Object.entries(expected)) {
        await panel.locator(`${tid('fading-tab')}[data-tab="${tab}"]`).click();
        const chart = panel.locator(tid('fading-metric-chart'));
        await chart.locator('polyline.series.screening').waitFor();
        assert.equal(await chart.locator('polyline.series').count(), 1, `${tab}: screening's line alone`);
        assert.match(await panel.locator(tid('fading-note')).innerText(), note);
      }
      await panel.locator(`${tid('fading-tab')}[data-tab="passing"]`).click();
      await bench.screenshot(`${theme}-screening-fading`);
    });

    it('Needle under Compare SSMax | Screening: the weights in one chart, relevance (a sum, not a share) in a chart of its own', async function () {
      this.timeout(240000);
      // The panel was maximized for the screenshot above: the editor comes back for the selection.
      await bench.runCommand('View: Toggle Maximized Panel');
      await panel.locator(tid('compare-toggle')).click();
      await panel.locator(`${tid('compare-view')}:not(.pending)`).waitFor({ timeout: 180000 });
      // REORDER_MARGIN where it is defined (line 23).
      await bench.goTo(23, 1);
      await bench.page.keyboard.press('Control+Shift+ArrowRight');
      await panel.locator(tid('needle-button')).click();
      await panel.locator(`${tid('needle-relevance-chart')} polyline.series.screening`).waitFor({ timeout: 180000 });
      await panel.locator(`${tid('needle-chart')} polyline.series.ssmax`).waitFor({ timeout: 180000 });
      assert.equal(await panel.locator(`${tid('needle-chart')} polyline.series.screening`).count(), 0, 'relevance is not drawn on the weights\' axis');
      assert.match(await panel.locator(`${tid('needle-relevance-chart')} figcaption`).innerText(), /Screening/);
      // The small multiple: the shown document's tiles (mean, max and 121), not SSMax's heads.
      assert.equal(await panel.locator(tid('needle-head')).count(), 3 + 121);
      await panel.locator(tid('needle-view')).scrollIntoViewIfNeeded();
      await bench.screenshot(`${theme}-screening-needle`);
    });
  });
}
