// Drives the real VS Code workbench (code-server 4.100.3) in Chromium for the UI tests: starts
// code-server with this repository linked as an installed extension and a throwaway copy of
// samples/ open, and offers the few gestures the tests need (palette, quick open, theme,
// screenshots, the side panel's webview). One Workbench at a time: the machine has 2 cores.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';
import * as cs from '../../scripts/lib/code-server';
import type { CodeServer } from '../../scripts/lib/code-server';

export type Theme = 'dark' | 'light' | 'high-contrast';

export const THEMES: Record<Theme, string> = {
  dark: 'Default Dark Modern',
  light: 'Default Light Modern',
  'high-contrast': 'Default High Contrast',
};

/** The class the workbench root carries under each theme. */
const THEME_CLASSES: Record<Theme, string> = { dark: 'vs-dark', light: 'vs', 'high-contrast': 'hc-black' };

export const SCREENSHOTS = path.join(cs.ROOT, 'test-results', 'screenshots');

export interface StartOptions {
  theme?: Theme;
  settings?: Record<string, unknown>;
  viewport?: { width: number; height: number };
  /** Extra environment for code-server and its extension host (e.g. HF_HUB_CACHE). */
  env?: Record<string, string>;
}

export class Workbench {
  private constructor(
    readonly server: CodeServer,
    readonly browser: Browser,
    readonly context: BrowserContext,
    readonly page: Page,
    readonly workspace: string,
    private readonly extensionsDir: string,
    private settings: Record<string, unknown>,
  ) {}

  static async start(options: StartOptions = {}): Promise<Workbench> {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'al-ui-ws-'));
    const extensionsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-ui-ext-'));
    const removeTemps = (): void => {
      fs.rmSync(workspace, { recursive: true, force: true });
      fs.rmSync(extensionsDir, { recursive: true, force: true });
    };
    try {
      fs.cpSync(path.join(cs.ROOT, 'samples'), workspace, { recursive: true });
      cs.linkExtension(extensionsDir);
    } catch (err) {
      removeTemps();
      throw err;
    }
    const settings: Record<string, unknown> = {
      'workbench.colorTheme': THEMES[options.theme ?? 'dark'],
      'workbench.panel.defaultLocation': 'bottom',
      'editor.fontSize': 14,
      ...options.settings,
    };
    let server: CodeServer;
    try {
      server = await cs.startCodeServer({ folder: workspace, extensionsDir, settings, env: options.env, quiet: true });
    } catch (err) {
      removeTemps();
      throw err;
    }
    let browser: Browser | undefined;
    try {
      browser = await cs.launchChromium();
      const context = await browser.newContext({ viewport: options.viewport ?? { width: 1440, height: 900 } });
      const page = await context.newPage();
      const bench = new Workbench(server, browser, context, page, workspace, extensionsDir, settings);
      await page.goto(cs.workbenchUrl(server.base, { folder: workspace }));
      await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
      await page.locator('.statusbar').waitFor({ timeout: 60000 });
      await bench.waitForTheme(options.theme ?? 'dark');
      return bench;
    } catch (err) {
      await browser?.close().catch(() => undefined);
      await server.stop();
      removeTemps();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await this.server.stop();
    fs.rmSync(this.workspace, { recursive: true, force: true });
    fs.rmSync(this.extensionsDir, { recursive: true, force: true });
  }

  /** Rewrites the user settings; VS Code picks the file change up without a reload. */
  async updateSettings(changes: Record<string, unknown>): Promise<void> {
    this.settings = { ...this.settings, ...changes };
    cs.writeSettings(this.server.userDataDir, this.settings);
  }

  async setTheme(theme: Theme): Promise<void> {
    await this.updateSettings({ 'workbench.colorTheme': THEMES[theme] });
    await this.waitForTheme(theme);
  }

  async waitForTheme(theme: Theme): Promise<void> {
    await this.page.locator(`.monaco-workbench.${THEME_CLASSES[theme]}`).waitFor({ timeout: 20000 });
  }

  /** Opens a file of the workspace through Quick Open (Ctrl+P) and waits for its editor. */
  async openFile(name: string): Promise<Locator> {
    await this.page.locator('.monaco-workbench').click({ position: { x: 700, y: 5 } }).catch(() => undefined);
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(name);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
    await row.waitFor({ timeout: 20000 });
    await this.page.keyboard.press('Enter');
    await this.page.locator(`.tabs-container .tab[aria-label^="${name}"]`).waitFor({ timeout: 20000 });
    const editor = this.page.locator('.editor-instance .monaco-editor').first();
    await editor.locator('.view-lines').waitFor();
    return editor;
  }

  /** Opens a workspace file and inspects it from the palette; resolves when the status bar shows the mode. */
  async inspectFile(name: string): Promise<void> {
    await this.openFile(name);
    await this.runCommand('Attention Lens: Inspect Current Document');
    await this.statusItem(/Softmax|SSMax/).waitFor({ timeout: 120000 });
  }

  /** Runs a command from the palette (F1) by its full title, e.g. "Attention Lens: Clear". */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    const row = this.page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: title }) })
      .first();
    await row.waitFor({ timeout: 20000 });
    await row.click();
    await input.waitFor({ state: 'hidden', timeout: 10000 }).catch(() => undefined);
  }

  /** Moves the editor's cursor to line:column with Go to Line (Ctrl+G), nothing selected. */
  async goTo(line: number, column: number): Promise<void> {
    await this.page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await this.page.keyboard.press('Control+G');
    await this.page.keyboard.type(`${line}:${column}`);
    await this.page.keyboard.press('Enter');
  }

  /** Picks an item in an open quick pick by its label. */
  async pickQuickItem(label: string | RegExp): Promise<void> {
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
    await row.waitFor({ timeout: 20000 });
    await row.click();
  }

  /** Moves the pointer over an editor span (a syntax token) reading exactly `text`; returns the hover widget. */
  async hoverEditorText(text: string): Promise<Locator> {
    const exact = new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    const span = this.page.locator('.editor-instance .monaco-editor .view-line span span', { hasText: exact }).first();
    await span.waitFor();
    const box = await span.boundingBox();
    if (!box) throw new Error(`"${text}" is not visible in the editor`);
    // Put the cursor in the word (the span may start with indentation), then ask for the hover
    // from the keyboard (Ctrl+K Ctrl+I): independent of mouse-hover timing. A hover asked for
    // while the inspection still runs is empty, so ask again until it shows (or 60 s pass).
    const content = (await span.textContent()) ?? text;
    const lead = content.length - content.trimStart().length;
    const x = box.x + (box.width * (lead + text.length / 2)) / Math.max(1, content.length);
    await this.page.mouse.click(x, box.y + box.height / 2);
    const hover = this.page.locator('.monaco-hover:not(.hidden)').first();
    const deadline = Date.now() + 60000;
    for (;;) {
      await this.page.keyboard.press('Control+K');
      await this.page.keyboard.press('Control+I');
      try {
        await hover.waitFor({ timeout: 5000 });
        return hover;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await this.page.keyboard.press('Escape');
      }
    }
  }

  statusBar(): Locator {
    return this.page.locator('.statusbar');
  }

  /** The status bar entry whose text matches. */
  statusItem(text: string | RegExp): Locator {
    return this.page.locator('.statusbar .statusbar-item', { hasText: text }).first();
  }

  notifications(): Locator {
    return this.page.locator('.notifications-toasts .notification-toast');
  }

  /**
   * The document inside a webview (VS Code nests it: iframe.webview > iframe#active-frame) that
   * contains an element with data-testid=`testId`. Waits until one does.
   */
  async webview(testId: string, timeout = 60000): Promise<FrameLocator> {
    return this.webviewWith(`[data-testid="${testId}"]`, timeout);
  }

  /** The webview document that contains an element matching the CSS selector (e.g. the editor tab's page). */
  async webviewWith(selector: string, timeout = 60000): Promise<FrameLocator> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const outer = this.page.locator('iframe.webview');
      const count = await outer.count();
      for (let i = 0; i < count; i++) {
        const frame = this.page.frameLocator('iframe.webview').nth(i).frameLocator('iframe#active-frame');
        if ((await frame.locator(selector).count()) > 0) return frame;
      }
      if (Date.now() > deadline) throw new Error(`no webview shows ${selector} after ${timeout} ms`);
      await this.page.waitForTimeout(250);
    }
  }

  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** For afterEach: a screenshot named after the test when it failed. */
  async screenshotIfFailed(test: Mocha.Test | undefined, theme: Theme): Promise<void> {
    if (test?.state !== 'failed') return;
    const file = await this.screenshot(`${theme}-FAILED-${slug(test.title)}`).catch(() => '');
    if (file) console.log(`      screenshot of the failure: ${file}`);
  }
}

/** File-system friendly name for a Mocha test title. */
export function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);
}
