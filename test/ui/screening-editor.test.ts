// UI test of screening in the editor, in the real workbench: Switch Attention lists Screening with
// what its numbers are and picks it from the list; the status bar shows it; the overlay tints by
// relevance, the cursor token's passing keys are outlined, and the hover says how many keys pass.
// Dark and light. Screenshots: test-results/screenshots/screening-*-{dark,light}.png.
import * as assert from 'node:assert/strict';
import type { Theme } from './harness';
import { Workbench } from './harness';

/** The status bar item's tooltip text. */
async function statusTooltip(bench: Workbench): Promise<string> {
  await bench.page.mouse.move(700, 300);
  await bench.statusItem(/Screening/).hover();
  const tooltip = bench.page.locator('.monaco-hover:not(.hidden)', { hasText: 'Attention Lens:' }).first();
  await tooltip.waitFor({ timeout: 20000 });
  return tooltip.innerText();
}

for (const theme of ['dark', 'light'] as Theme[]) {
  describe(`Screening in the editor (${theme} theme)`, function () {
    let bench: Workbench;

    before(async function () {
      this.timeout(240000);
      bench = await Workbench.start({ theme });
    });

    after(async function () {
      await bench?.close();
    });

    afterEach(async function () {
      await bench?.screenshotIfFailed(this.currentTest, theme);
    });

    it('Switch Attention picks Screening; the overlay tints by relevance, the passing keys are outlined, the hover counts them', async function () {
      this.timeout(480000);
      await bench.openFile('inventory.py');
      await bench.runCommand('Attention Lens: Switch Attention');
      const row = bench.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Screening' }).first();
      await row.waitFor({ timeout: 20000 });
      assert.match(await row.innerText(), /relevance per key in \[0, 1\], not normalised/);
      await bench.screenshot(`screening-switch-${theme}`);
      await row.click();
      await bench.statusItem(/Screening · all heads: mean/).waitFor({ timeout: 20000 });

      await bench.runCommand('Attention Lens: Inspect Current Document');
      // A screening run of the 5,520-token sample takes tens of seconds on the shared machine.
      await bench.page.waitForFunction(() => document.querySelectorAll('.editor-instance .view-overlays div[class*="ced-"]').length > 20, undefined, { timeout: 300000 });
      await bench.statusItem(/Screening/).locator('.codicon-eye').waitFor({ timeout: 300000 });

      // The cursor on `problems` in audit(): the strongest keys over all tiles are outlined.
      await bench.goTo(310, 14);
      // SSMax, the hover's partner (Compare's default beside Screening), runs in the background first.
      let tooltip = await statusTooltip(bench);
      for (const deadline = Date.now() + 240000; tooltip.includes('computing in the background'); tooltip = await statusTooltip(bench)) {
        if (Date.now() > deadline) throw new Error('the background run did not finish within 240 s');
        await bench.page.mouse.move(700, 300);
        await bench.page.waitForTimeout(1000);
      }
      assert.match(tooltip, /absolute 0–1 on the sqrt scale/, tooltip);
      assert.match(tooltip, /no tint: [\d,]+ of [\d,]+ tokens find nothing/, tooltip);
      assert.match(tooltip, /Cursor token: the \d+ keys with the largest relevance in any of the 121 tiles outlined/, tooltip);
      await bench.screenshot(`screening-status-${theme}`);
      await bench.page.mouse.move(700, 400);

      // One tile, from the picker: its own passing keys.
      await bench.runCommand('Attention Lens: Select Layer and Head');
      const input = bench.page.locator('.quick-input-widget input');
      await input.fill('L4 H10');
      const tile = bench.page.locator('.quick-input-list .monaco-list-row', { hasText: 'L4 H10' }).first();
      await tile.waitFor({ timeout: 20000 });
      assert.match(await tile.innerText(), /mean largest relevance \d\.\d{3} · \d+\.\d % of keys pass · window/);
      await tile.click();
      await bench.statusItem(/Screening · L4 H10/).waitFor({ timeout: 20000 });
      await bench.goTo(310, 14);
      await bench.page.waitForTimeout(1000);
      await bench.screenshot(`screening-overlay-${theme}`);

      await bench.page.keyboard.press('Control+K');
      await bench.page.keyboard.press('Control+I');
      const hover = bench.page.locator('.monaco-hover:not(.hidden)', { hasText: /Attention Lens · / }).first();
      await hover.waitFor({ timeout: 30000 });
      const text = await hover.innerText();
      await bench.page.waitForTimeout(500); // the hover fades in
      assert.match(text, /Screening · L4 H10: (passes: [\d,]+ of [\d,]+ keys|finds nothing: no key passes)/, text);
      assert.match(text, /SSMax · all heads: mean .*largest weight/, text);
      await bench.screenshot(`screening-hover-${theme}`);
      await bench.page.keyboard.press('Escape');
    });
  });
}
