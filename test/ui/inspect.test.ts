// UI tests: what a user sees and clicks in VS Code (code-server in Chromium), in the dark and
// the light theme. Screenshots go to test-results/screenshots/<theme>-<step>.png; a failing test
// leaves <theme>-FAILED-<test>.png there as well.
import * as assert from 'node:assert/strict';
import type { Theme } from './harness';
import { Workbench } from './harness';

const INSPECT = 'Attention Lens: Inspect Current Document';
// The status bar entry reads like "Softmax · L2 H3" or "SSMax · all heads: mean".
const MODE_TEXT = /Softmax|SSMax/;

for (const theme of ['dark', 'light'] as Theme[]) {
  describe(`Attention Lens in the workbench (${theme} theme)`, function () {
    let bench: Workbench;

    before(async function () {
      this.timeout(120000);
      bench = await Workbench.start({ theme });
    });

    after(async function () {
      await bench?.close();
    });

    afterEach(async function () {
      await bench?.screenshotIfFailed(this.currentTest, theme);
    });

    it('inspects a sample file from the command palette and shows mode and head in the status bar', async function () {
      await bench.openFile('hello.py');
      await bench.runCommand(INSPECT);
      const item = bench.statusItem(MODE_TEXT);
      await item.waitFor({ timeout: 60000 });
      const text = (await item.innerText()).trim();
      assert.match(text, MODE_TEXT, `status bar shows the mode, got "${text}"`);
      await bench.screenshot(`${theme}-inspect-hello-py`);
    });

    it('hovers an inspected token and shows its focus under Softmax and SSMax', async function () {
      const hover = await bench.hoverEditorText('seen');
      await hover.getByText(/focus/i).first().waitFor({ timeout: 30000 });
      const text = await hover.innerText();
      assert.match(text, /softmax/i, `hover names Softmax: ${text}`);
      assert.match(text, /ssmax/i, `hover names SSMax: ${text}`);
      await bench.screenshot(`${theme}-hover-token`);
    });
  });
}
