// UI tests of the Fading tabs and the exact needle in the attention view (editor tab), on
// samples/inventory.py: each tab draws one line per mode with a note saying what is exact; the
// needle under Compare names each mode's best head, shows every head in a small multiple, and
// draws a clicked head large. One theme (light): the suite's time is bounded, and the view's
// theming is covered by editor-tab.test.ts. Screenshots: test-results/screenshots/light-fading-*.png,
// light-needle-*.png.
import * as assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import type { Theme } from './harness';
import { Workbench } from './harness';

const tid = (id: string): string => `[data-testid="${id}"]`;
const EDITOR_PAGE = '[data-testid="attention-panel"][data-host="editor"]';

for (const theme of ['light'] as Theme[]) {
  describe(`Fading tabs and the exact needle (${theme} theme)`, function () {
    let bench: Workbench;
    let view: FrameLocator;

    before(async function () {
      this.timeout(240000);
      bench = await Workbench.start({ theme, viewport: { width: 1600, height: 1000 } });
      await bench.inspectFile('inventory.py');
      await bench.runCommand('Attention Lens: Open Attention View in Editor');
      view = await bench.webviewWith(EDITOR_PAGE, 90000);
      await view.locator(tid('panel-status'), { hasText: /\d+ tokens/ }).filter({ hasNotText: /inspecting/ }).waitFor({ timeout: 120000 });
    });

    after(async function () {
      await bench?.close();
    });

    afterEach(async function () {
      await bench?.screenshotIfFailed(this.currentTest, theme);
    });

    it('Fading tabs: entropy / ln n, support, sink mass and distance, a line per mode, each saying what is exact', async function () {
      // Softmax and SSMax (the other checkpoint runs in the background).
      await view.locator(`${tid('fading-chart')} polyline.series.ssmax`).waitFor({ timeout: 120000 });
      const expected: Record<string, RegExp> = {
        entropy: /entropy \/ ln\(keys seen\).*Exact/,
        support: /median keys holding 90 % of the weight, exact from each row, measured on (one token in \d+ \(the first of each pooling bin\)|every token)/,
        sink: /weight on token 1 \(exact\).*sink head/,
        distance: /share within 7 tokens back.*exact mass of each row/,
      };
      for (const [tab, note] of Object.entries(expected)) {
        const button = view.locator(`${tid('fading-tab')}[data-tab="${tab}"]`);
        await button.click();
        assert.equal(await button.getAttribute('aria-selected'), 'true');
        const chart = view.locator(tid('fading-metric-chart'));
        assert.ok(await chart.isVisible(), `${tab}: the metric chart shows`);
        assert.ok(!(await view.locator(tid('fading-chart')).isVisible()), `${tab}: the focus chart hides`);
        const lines = chart.locator('polyline.series');
        assert.equal(await lines.count(), 2, `${tab}: Softmax and SSMax`);
        for (const mode of ['softmax', 'ssmax']) {
          const points = (await chart.locator(`polyline.series.${mode}`).getAttribute('points')) ?? '';
          assert.ok(points.split(' ').length > 20, `${tab}: ${mode} over many positions`);
        }
        assert.match(await view.locator(tid('fading-note')).innerText(), note);
      }
      // The distance table: a row per mode, shares in percent.
      const rows = view.locator(`${tid('fading-distance')} tr`);
      assert.equal(await rows.count(), 3);
      assert.match(await rows.nth(1).innerText(), /Softmax\s+\d+\.\d %/);
      await view.locator(`${tid('fading-tab')}[data-tab="entropy"]`).click();
      await view.locator(tid('fading-view')).scrollIntoViewIfNeeded();
      await bench.screenshot(`${theme}-fading-entropy`);
      await view.locator(`${tid('fading-tab')}[data-tab="sink"]`).click();
      await bench.screenshot(`${theme}-fading-sink`);
      // Arrow keys move between tabs.
      await view.locator(`${tid('fading-tab')}[data-tab="sink"]`).focus();
      await bench.page.keyboard.press('ArrowRight');
      assert.equal(await view.locator(`${tid('fading-tab')}[data-tab="distance"]`).getAttribute('aria-selected'), 'true');
      await bench.screenshot(`${theme}-fading-distance`);
    });

    it('the needle under Compare: exact in both modes, each best head named, every head in a small multiple; a click draws one head large', async function () {
      await view.locator(tid('compare-toggle')).click();
      await view.locator(`${tid('compare-view')}:not(.pending)`).waitFor({ timeout: 120000 });
      // Select REORDER_MARGIN where it is defined (line 23).
      await bench.goTo(23, 1);
      await bench.page.keyboard.press('Control+Shift+ArrowRight');
      await view.locator(tid('needle-button')).click();
      const caption = view.locator(tid('needle-caption'), { hasText: /REORDER_MARGIN/ });
      await caption.waitFor({ timeout: 180000 });
      const text = await caption.innerText();
      assert.match(text, /exact in every mode and head/);
      assert.match(text, /Shown: each mode's best head \(Softmax: L\d+ H\d+, SSMax: L\d+ H\d+\)/);
      const legend = await view.locator(`${tid('needle-chart')} figcaption`).innerText();
      assert.match(legend, /Softmax L\d+ H\d+/);
      // The mean, the max, then one cell a head (the head grid has one cell a head too).
      const heads = await view.locator(tid('head-cell')).count();
      const cells = view.locator(tid('needle-head'));
      assert.equal(await cells.count(), 3 + heads, 'best heads, mean, max and every head');
      assert.equal(await cells.first().getAttribute('aria-pressed'), 'true', 'best heads shown first');
      assert.ok((await view.locator(`${tid('needle-heads')} .needle-head.best`).count()) >= 1, 'the best heads are marked');
      await view.locator(tid('needle-view')).scrollIntoViewIfNeeded();
      await bench.screenshot(`${theme}-needle-best-head`);

      const pick = cells.nth(3); // L1 H1
      await pick.click();
      assert.equal(await pick.getAttribute('aria-pressed'), 'true');
      assert.match(await view.locator(tid('needle-caption')).innerText(), /Shown: L1 H1; best heads: Softmax: L\d+ H\d+/);
      const points = (await view.locator(`${tid('needle-chart')} polyline.series.ssmax`).getAttribute('points')) ?? '';
      assert.ok(points.split(' ').length > 50, 'the picked head over many later positions');
      await bench.screenshot(`${theme}-needle-one-head`);
    });
  });
}
