// UI test of Open Model from Hugging Face Cache in the workbench (dark theme): code-server starts
// with HF_HUB_CACHE pointing at a hub layout of the tiny fixtures (test/fixtures/hf) and one
// unsupported BERT config; the picker lists them with architecture, size and support, and picking
// the Llama converts and opens it. Screenshot: test-results/screenshots/hf-cache-picker-dark.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cs from '../../scripts/lib/code-server';
import { Workbench } from './harness';

const FIXTURES = path.join(cs.ROOT, 'test', 'fixtures', 'hf');

describe('Open Model from Hugging Face Cache (dark theme)', function () {
  let bench: Workbench;
  let hub: string;

  before(async function () {
    this.timeout(120000);
    hub = fs.mkdtempSync(path.join(os.tmpdir(), 'al-ui-hub-'));
    const snapshot = (name: string): string => path.join(hub, `models--fixtures--${name}`, 'snapshots', '5f1e0c7a9b3d2e4f6a8c0b1d3e5f7a9c1b3d5e7f');
    for (const [name, fixture] of [['tiny-llama', 'llama'], ['tiny-qwen2', 'qwen2'], ['tiny-gemma3', 'gemma3']]) {
      fs.cpSync(path.join(FIXTURES, fixture), snapshot(name), { recursive: true });
    }
    fs.mkdirSync(snapshot('tiny-bert'), { recursive: true });
    fs.writeFileSync(path.join(snapshot('tiny-bert'), 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertForMaskedLM'] }));
    bench = await Workbench.start({ theme: 'dark', env: { HF_HUB_CACHE: hub } });
  });

  after(async function () {
    await bench?.close();
    if (hub) fs.rmSync(hub, { recursive: true, force: true });
  });

  afterEach(async function () {
    await bench?.screenshotIfFailed(this.currentTest, 'dark');
  });

  it('lists the cached models with architecture, size and support; picking one converts and opens it', async function () {
    await bench.openFile('hello.py');
    await bench.runCommand('Attention Lens: Open Model from Hugging Face Cache...');
    const rows = bench.page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'fixtures/tiny-llama' }).first().waitFor({ timeout: 30000 });
    const texts = await rows.allInnerTexts();
    assert.equal(texts.length, 4, texts.join(' | '));
    assert.match(texts.find((t) => t.includes('tiny-llama')) ?? '', /LlamaForCausalLM · 0\.2 MB[\s\S]*supported/);
    assert.match(texts.find((t) => t.includes('tiny-bert')) ?? '', /"bert" is not supported/);
    assert.match(texts[0], /supported$/, 'a supported model is highlighted first');
    await bench.screenshot('hf-cache-picker-dark');
    await bench.pickQuickItem('fixtures/tiny-llama');
    await bench.notifications().filter({ hasText: 'using model tiny-llama' }).first().waitFor({ timeout: 60000 });
  });
});
