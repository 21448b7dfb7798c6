#!/usr/bin/env node
// `npm run package`: a per-platform .vsix, attention-lens-<target>-<version>.vsix, carrying
// onnxruntime-node's native runtime and the tokenizers library's native module for that platform
// only (the npm packages hold all of them, about 290 MB and 65 MB). The extension is built
// minified first (vscode:prepublish).
// Usage: node scripts/package.js [--target linux-x64|linux-arm64|darwin-x64|darwin-arm64|win32-x64|win32-arm64]
//                                [--check]   also install it into a throwaway code-server and
//                                            check that the extension activates (linux-x64 here)
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const target = args.includes('--target') ? args[args.indexOf('--target') + 1] : `${process.platform}-${process.arch}`;
const ORT_TARGETS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-x64': 'darwin/x64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};
// The file tokenizers/index.js loads on each target.
const TOKENIZERS_TARGETS = {
  'linux-x64': 'linux-x64-gnu',
  'linux-arm64': 'linux-arm64-gnu',
  'darwin-x64': 'darwin-x64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-x64-msvc',
  'win32-arm64': 'win32-arm64-msvc',
};

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function main() {
  const ortDir = ORT_TARGETS[target];
  if (!ortDir) fail(`unsupported target ${target}; one of ${Object.keys(ORT_TARGETS).join(', ')}`);
  const binaries = path.join(ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', ortDir);
  if (!fs.existsSync(binaries)) fail(`onnxruntime-node has no binaries for ${target} at ${binaries}`);
  const tokenizersNative = `tokenizers.${TOKENIZERS_TARGETS[target]}.node`;
  if (!fs.existsSync(path.join(ROOT, 'node_modules', 'tokenizers', tokenizersNative))) {
    fail(`tokenizers has no native module for ${target} (${tokenizersNative})`);
  }

  // The checked-in .vscodeignore keeps linux-x64's binaries; point those lines at the target.
  const ignore = fs
    .readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8')
    .replace(/^!node_modules\/onnxruntime-node\/bin\/napi-v6\/.*$/m, `!node_modules/onnxruntime-node/bin/napi-v6/${ortDir}/**`)
    .replace(/^!node_modules\/tokenizers\/tokenizers\..*\.node$/m, `!node_modules/tokenizers/${tokenizersNative}`);
  const ignoreFile = path.join(os.tmpdir(), `attention-lens-${target}.vscodeignore`);
  fs.writeFileSync(ignoreFile, ignore);

  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const out = path.join(ROOT, `${manifest.name}-${target}-${manifest.version}.vsix`);
  const vsce = path.join(ROOT, 'node_modules', '.bin', 'vsce');
  const result = spawnSync(
    vsce,
    [
      'package',
      '--target', target,
      '--ignoreFile', ignoreFile,
      '--out', out,
      '--allow-missing-repository',
      '--no-rewrite-relative-links', // README links to models/ and bench/ inside this repository
      '--skip-license',
      '--no-update-package-json',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  fs.rmSync(ignoreFile, { force: true });
  if (result.status !== 0) fail(`vsce exited with ${result.status}`);

  const listing = spawnSync('unzip', ['-l', out], { encoding: 'utf8' });
  if (listing.status === 0) {
    const natives = listing.stdout.split('\n').filter((l) => /napi-v6\//.test(l) && /\.(node|so|dll|dylib)/.test(l));
    const stray = natives.filter((l) => !l.includes(`napi-v6/${ortDir}/`));
    if (stray.length) fail(`other platforms' binaries in the package:\n${stray.join('\n')}`);
    if (!natives.length) fail('the package carries no onnxruntime binary');
    const tokenizerNatives = listing.stdout.split('\n').filter((l) => /node_modules\/tokenizers\/.*\.node\s*$/.test(l));
    if (tokenizerNatives.length !== 1 || !tokenizerNatives[0].includes(tokenizersNative)) {
      fail(`expected exactly ${tokenizersNative} of the tokenizers library, found:\n${tokenizerNatives.join('\n') || '(none)'}`);
    }
    // The walkthrough opens the bundled sample and shows its steps' Markdown.
    const walkthroughFiles = ['samples/inventory.py', ...manifest.contributes.walkthroughs.flatMap((w) => w.steps.map((s) => s.media.markdown))];
    const missing = walkthroughFiles.filter((f) => !listing.stdout.includes(`extension/${f}`));
    if (missing.length) fail(`the walkthrough's files are not in the package: ${missing.join(', ')}`);
  }
  const mb = (fs.statSync(out).size / 1024 / 1024).toFixed(1);
  console.log(`package: ${path.relative(ROOT, out)} (${mb} MB)`);
  return out;
}

/** The extension host's own log (activation errors land there), last part. */
function extensionHostLog(userDataDir) {
  const logs = path.join(userDataDir, 'logs');
  if (!fs.existsSync(logs)) return '(no logs)';
  const files = fs
    .readdirSync(logs, { recursive: true, encoding: 'utf8' })
    .filter((f) => /exthost\.log$|remoteexthost\.log$/.test(f))
    .map((f) => path.join(logs, f));
  return files.map((f) => fs.readFileSync(f, 'utf8').slice(-3000)).join('\n') || '(no extension host log)';
}

/**
 * The installed extension's own CLI, run from outside the repository (nothing but the .vsix), converts a
 * Hugging Face folder (a transformers fixture copied out of the repository) and inspects with it.
 */
function convertWithInstalledCli(extensionsDir, workspace) {
  const installed = fs.readdirSync(extensionsDir).map((d) => path.join(extensionsDir, d, 'dist', 'cli.js')).find((f) => fs.existsSync(f));
  if (!installed) fail(`no dist/cli.js in the installed extension under ${extensionsDir}`);
  const hf = path.join(workspace, 'hf-llama3');
  fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'hf', 'llama3'), hf, { recursive: true });
  const model = path.join(workspace, 'converted-llama3');
  const run = (...a) => spawnSync(process.execPath, [installed, ...a], { cwd: workspace, encoding: 'utf8' });
  const converted = run('convert', hf, model);
  if (converted.status !== 0) fail(`the installed CLI could not convert ${hf}:\n${converted.stderr}`);
  const inspected = run('inspect', path.join(workspace, 'hello.py'), '--model', model, '--json');
  if (inspected.status !== 0) fail(`the installed CLI could not inspect with the converted model:\n${inspected.stderr}`);
  const tokens = JSON.parse(inspected.stdout).tokens.length;
  console.log(`package: the installed CLI converted a Llama 3 folder (${converted.stdout.trim()}) and inspected ${tokens} tokens with it`);
}

async function check(vsix) {
  // Installs the .vsix with code-server's CLI into a throwaway extensions folder, then opens a
  // workbench and runs the inspect command: the status bar must show the mode.
  const cs = require('./lib/code-server');
  const extensionsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-vsix-ext-'));
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-vsix-user-'));
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'al-vsix-ws-'));
  fs.cpSync(path.join(ROOT, 'samples'), workspace, { recursive: true });
  const install = spawnSync(
    cs.CODE_SERVER_BIN,
    ['--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', vsix, '--force'],
    { encoding: 'utf8' },
  );
  process.stdout.write(install.stdout || '');
  if (install.status !== 0) fail(`code-server --install-extension failed:\n${install.stderr}`);
  convertWithInstalledCli(extensionsDir, workspace);
  const server = await cs.startCodeServer({ folder: workspace, extensionsDir, userDataDir, quiet: true });
  const browser = await cs.launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.base}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.statusbar').waitFor({ timeout: 60000 });
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('hello.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'hello.py' }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab[aria-label^="hello.py"]').waitFor({ timeout: 20000 });
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').fill('>Attention Lens: Inspect Current Document');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Inspect Current Document' }).first().click();
    const shots = path.join(ROOT, 'test-results', 'screenshots');
    fs.mkdirSync(shots, { recursive: true });
    try {
      await page.locator('.statusbar .statusbar-item', { hasText: /Softmax|SSMax/ }).first().waitFor({ timeout: 90000 });
    } catch (err) {
      await page.screenshot({ path: path.join(shots, `vsix-${target}-FAILED.png`) }).catch(() => undefined);
      const status = await page.locator('.statusbar').innerText().catch(() => '?');
      const toasts = await page.locator('.notifications-toasts').innerText().catch(() => '');
      throw new Error(
        `no mode in the status bar after inspecting; status bar: ${status.replace(/\s+/g, ' ')}\n${toasts}\n` +
          `extension host log:\n${extensionHostLog(userDataDir)}\n${err}`,
      );
    }
    await page.screenshot({ path: path.join(shots, `vsix-${target}-installed.png`) });
    console.log('package: the installed .vsix activates and inspects hello.py in code-server');
  } finally {
    await browser.close();
    await server.stop();
    for (const dir of [extensionsDir, userDataDir, workspace]) fs.rmSync(dir, { recursive: true, force: true });
  }
}

const vsix = main();
if (args.includes('--check')) {
  check(vsix).catch((err) => fail(err && err.stack ? err.stack : String(err)));
}
