// UI tests of the attention view in an editor tab, in the dark and light theme: it opens beside
// the code with a large map, names each head's role, compares Softmax and SSMax side by side
// (two maps that differ, one readout with both weights, a difference map), and draws the needle
// of a selected span; in the dark theme it then compares SSMax with Screening (aggregates only, no
// difference map, a legend naming both quantities). Screenshots: test-results/screenshots/<theme>-editor-*.png.
import * as assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import type { Theme } from './harness';
import { Workbench } from './harness';

const tid = (id: string): string => `[data-testid="${id}"]`;
const EDITOR_PAGE = '[data-testid="attention-panel"][data-host="editor"]';

/** A workbench with inventory.py inspected and the attention view open in an editor tab, filled. */
async function openEditorView(theme: Theme): Promise<{ bench: Workbench; view: FrameLocator }> {
  const bench = await Workbench.start({ theme });
  await bench.inspectFile('inventory.py');
  await bench.runCommand('Attention Lens: Open Attention View in Editor');
  const view = await bench.webviewWith(EDITOR_PAGE, 90000);
  // The page fills once the inspection lands.
  await view.locator(tid('panel-status'), { hasText: /\d+ tokens/ }).filter({ hasNotText: /inspecting/ }).waitFor({ timeout: 120000 });
  return { bench, view };
}

for (const theme of ['dark', 'light'] as Theme[]) {
  describe(`Attention view in an editor tab (${theme} theme)`, function () {
    let bench: Workbench;
    let view: FrameLocator;

    before(async function () {
      this.timeout(240000);
      ({ bench, view } = await openEditorView(theme));
    });

    after(async function () {
      await bench?.close();
    });

    afterEach(async function () {
      await bench?.screenshotIfFailed(this.currentTest, theme);
    });

    it('opens beside the code, with a map sized to the tab', async function () {
      await bench.page.locator('.tabs-container .tab', { hasText: 'Attention Lens' }).waitFor({ timeout: 30000 });
      assert.ok(await bench.page.locator('.tabs-container .tab', { hasText: 'inventory.py' }).isVisible(), 'the code stays open');
      const canvas = view.locator(tid('heatmap'));
      await canvas.waitFor();
      const box = await canvas.boundingBox();
      assert.ok(box && box.width >= 400, `the map uses the tab's space: ${box?.width} px`);
      await bench.screenshot(`${theme}-editor-tab`);
    });

    it('names every head by its role, with a score', async function () {
      const roles = view.locator(tid('head-role'));
      await roles.first().waitFor();
      const count = await roles.count();
      assert.ok(count >= 4, `a role per head, got ${count}`);
      const texts = await roles.allInnerTexts();
      for (const t of texts) assert.match(t, /^(prev|local|sink|dup|induct|broad) \d\.\d\d$/, t);
      const label = (await view.locator(tid('head-cell')).first().getAttribute('aria-label')) ?? '';
      assert.match(label, /role (previous-token|local|first-token|duplicate-token|induction|broad) \(score \d\.\d\d\)/);
    });

    it('zooms into the map at full resolution', async function () {
      const canvas = view.locator(tid('heatmap'));
      const box = await canvas.boundingBox();
      assert.ok(box, 'the map is visible');
      const page = bench.page;
      // A small square: under 256 tokens a side, so one token a cell.
      await canvas.hover({ position: { x: box.width * 0.5, y: box.height * 0.5 } });
      await page.mouse.down();
      await canvas.hover({ position: { x: box.width * 0.53, y: box.height * 0.53 } });
      await page.mouse.up();
      const label = view.locator(tid('heatmap-zoom'), { hasText: /full resolution/ });
      await label.waitFor({ timeout: 60000 });
      assert.match(await label.innerText(), /^zoomed: tokens \d+–\d+ × \d+–\d+ \(full resolution, one token a cell\)$/);
      // Just below the diagonal: the nearest keys.
      await canvas.hover({ position: { x: box.width * 0.45, y: box.height * 0.55 } });
      assert.match(await view.locator(tid('heatmap-readout')).innerText(), /query #\d+ .* → key #\d+ .*: (weight \d\.\d{3}|masked)/);
      await bench.screenshot(`${theme}-editor-zoom`);
      await canvas.dblclick();
      await label.waitFor({ state: 'hidden' });
    });

    it('compares Softmax and SSMax side by side: two maps that differ, and their difference', async function () {
      await view.locator(tid('compare-toggle')).click();
      const compare = view.locator(`${tid('compare-view')}:not(.pending)`);
      await compare.waitFor({ timeout: 120000 });
      const note = await view.locator(tid('compare-note')).innerText();
      assert.match(note, /different checkpoints: heads match by index only/);
      const pixels = async (id: string): Promise<number[]> =>
        view.locator(tid(id)).evaluate((c: HTMLCanvasElement) => {
          const g = c.getContext('2d');
          return g ? Array.from(g.getImageData(0, 0, c.width, c.height).data.filter((_, i) => i % 97 === 0)) : [];
        });
      const a = await pixels('compare-map-a');
      const b = await pixels('compare-map-b');
      assert.ok(a.length > 100 && a.length === b.length, 'both maps drawn at the same size');
      const differing = a.filter((v, i) => v !== b[i]).length;
      assert.ok(differing > a.length / 50, `the two modes' maps differ (${differing} of ${a.length} samples)`);
      assert.ok(await view.locator(tid('compare-diff')).isVisible(), 'the difference map is shown');
      assert.equal(await view.locator(tid('compare-focus-strip')).count(), 2, 'a focus strip per mode');
    });

    it('one hover reads the weight under both modes', async function () {
      const canvas = view.locator(tid('compare-map-a'));
      const box = await canvas.boundingBox();
      assert.ok(box, 'the first map is visible');
      // Just below the diagonal: recent keys, where the weights are large.
      await canvas.hover({ position: { x: box.width * 0.44, y: box.height * 0.47 } });
      const text = (await view.locator(tid('compare-readout')).innerText()).trim();
      assert.match(text, /query #\d+.*→ key #\d+.*Softmax \d\.\d{3} · SSMax \d\.\d{3} · difference [+−]\d\.\d{3}/, text);
      // The other maps mark the same cell.
      assert.equal(await view.locator(`${tid('compare-view')} .cell-mark:not([hidden])`).count(), 3);
      await bench.screenshot(`${theme}-editor-compare`);
    });

    it('draws the needle of a span selected in the editor, a curve per mode', async function () {
      // Select the name REORDER_MARGIN where it is defined (line 23): later uses attend back to it.
      await bench.goTo(23, 1);
      await bench.page.keyboard.press('Control+Shift+ArrowRight');
      await view.locator(tid('needle-button')).click();
      const curves = view.locator(`${tid('needle-chart')} polyline.series`);
      await curves.nth(1).waitFor({ timeout: 120000 });
      const points = await curves.first().getAttribute('points');
      assert.ok(points && points.split(' ').length > 50, 'a curve over many later positions');
      const caption = await view.locator(tid('needle-caption')).innerText();
      assert.match(caption, /REORDER_MARGIN/);
      await view.locator(tid('needle-view')).scrollIntoViewIfNeeded();
      await bench.screenshot(`${theme}-editor-needle`);
    });

    if (theme === 'dark') {
      it('compares SSMax with Screening, picked by keyboard: two aggregate maps, no difference, a legend naming both quantities', async function () {
        this.timeout(300000);
        const note = view.locator(tid('compare-note'));
        // Second mode: End picks the last mode, Screening; first mode: one step down from Softmax, SSMax.
        await view.locator(tid('compare-mode-b')).focus();
        await bench.page.keyboard.press('End');
        await note.filter({ hasText: "Softmax's heads and Screening's tiles do not pair" }).waitFor({ timeout: 30000 });
        await view.locator(tid('compare-mode-a')).focus();
        await bench.page.keyboard.press('ArrowDown');
        await note.filter({ hasText: "SSMax's heads and Screening's tiles do not pair: only the mean or max over all of them, and no difference map." }).waitFor({ timeout: 30000 });
        await view.locator(`${tid('compare-view')}:not(.pending)`).waitFor({ timeout: 240000 });
        assert.equal(
          (await view.locator(tid('compare-legend')).innerText()).trim(),
          'SSMax: attention weight, each row sums to 1 · Screening: relevance per key, absolute, 0 = rejected',
        );
        const boxes = await Promise.all(['compare-map-a', 'compare-map-b'].map((id) => view.locator(tid(id)).boundingBox()));
        assert.ok(boxes.every((b) => b && b.width >= 96), 'both modes\' maps drawn');
        assert.ok(!(await view.locator(tid('compare-diff')).isVisible()), 'no difference map across quantities');
        assert.match(await view.locator(`${tid('compare-view')} .compare-title`).innerText(), /all heads: mean/);
        assert.ok(await view.locator(`${tid('compare-relevance-key')}:visible`).count() === 1, 'a relevance key under the Screening map');
        const canvas = view.locator(tid('compare-map-a'));
        const box = boxes[0]!;
        await canvas.hover({ position: { x: box.width * 0.44, y: box.height * 0.47 } });
        assert.match((await view.locator(tid('compare-readout')).innerText()).trim(), /SSMax (max )?weight \d\.\d{3} · Screening (max )?relevance \d\.\d{3}/);
        await bench.screenshot('dark-editor-screening-compare');
      });
    }
  });
}

describe('Attention view by keyboard (high-contrast theme)', function () {
  let bench: Workbench;
  let view: FrameLocator;

  before(async function () {
    this.timeout(240000);
    ({ bench, view } = await openEditorView('high-contrast'));
  });

  after(async function () {
    await bench?.close();
  });

  afterEach(async function () {
    await bench?.screenshotIfFailed(this.currentTest, 'high-contrast');
  });

  /** The focused element of the page, and whether it shows a focus outline. */
  const focused = async (): Promise<{ testid: string; outline: string }> =>
    view.locator('body').evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      // A toolkit control draws its ring on the part inside its shadow root.
      const ring = (el?.shadowRoot?.querySelector('.control') as HTMLElement | null) ?? el;
      const style = ring ? getComputedStyle(ring) : undefined;
      return { testid: el?.dataset.testid ?? el?.tagName ?? '', outline: style ? `${style.outlineStyle} ${style.outlineWidth}` : '' };
    });

  it('moves through map and head grid by keyboard, each with a visible focus ring, and selects a head with Enter', async function () {
    await view.locator(tid('heatmap')).focus();
    await bench.page.keyboard.press('ArrowDown');
    await bench.page.keyboard.press('ArrowDown');
    assert.match(await view.locator(tid('heatmap-readout')).innerText(), /query #\d+.*key #\d+.*weight \d\.\d{3}/);
    let f = await focused();
    assert.equal(f.testid, 'heatmap');
    assert.doesNotMatch(f.outline, /^none/, `the map shows focus: ${f.outline}`);
    await bench.page.keyboard.press('Tab');
    f = await focused();
    assert.equal(f.testid, 'head-cell', 'Tab goes from the map to the head grid');
    assert.doesNotMatch(f.outline, /^none/, `the head cell shows focus: ${f.outline}`);
    await bench.page.keyboard.press('ArrowRight');
    await bench.page.keyboard.press('Enter');
    await bench.statusItem(/L1\s*H2/).waitFor({ timeout: 30000 });
  });

  it('turns Compare on from the keyboard', async function () {
    // Tab away and back: the focus arrives by keyboard, as a keyboard user would bring it.
    await view.locator(tid('compare-toggle')).focus();
    await bench.page.keyboard.press('Tab');
    await bench.page.keyboard.press('Shift+Tab');
    const f = await focused();
    assert.equal(f.testid, 'compare-toggle');
    assert.doesNotMatch(f.outline, /^none/, `the button shows focus: ${f.outline}`);
    await bench.page.keyboard.press('Enter');
    await view.locator(`${tid('compare-view')}:not(.pending)`).waitFor({ timeout: 120000 });
    await bench.screenshot('high-contrast-editor-compare');
  });
});
