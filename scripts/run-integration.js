#!/usr/bin/env node
// Runs the integration suites (out/test/integration/**/*.test.js, through
// out/test/integration/index.js) inside the extension host of a real VS Code: code-server
// 4.100.3 with its workbench in Chromium, driven by playwright-core. Two passes:
//   trusted:   workspace trust off (normal use), a copy of samples/ open
//   untrusted: workspace trust on and the folder not trusted, attentionLens.modelPath set in the
//              user and machine settings to a folder that is not a model: the extension must
//              ignore it (and say so)
// Usage: node scripts/run-integration.js [--pass trusted|untrusted] [--verbose]
// Needs: node esbuild.js (the build) and bash scripts/setup.sh (code-server, Chromium).
// Writes the totals to AL_RESULT_FILE when set (scripts/test.js reads it); exits 1 on any failure.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const cs = require('./lib/code-server');

const ROOT = cs.ROOT;
const TESTS_INDEX = path.join(ROOT, 'out', 'test', 'integration', 'index.js');
const RESULTS_DIR = path.join(ROOT, 'out', 'test-results');
const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');
const PASS_TIMEOUT_MS = Number(process.env.AL_INTEGRATION_TIMEOUT_MS || 8 * 60 * 1000);

const args = process.argv.slice(2);
const verbose = args.includes('--verbose') || !!process.env.AL_VERBOSE;
const passArg = args.includes('--pass') ? args[args.indexOf('--pass') + 1] : undefined;
const passes = passArg ? [passArg] : ['trusted', 'untrusted'];

// Workbench chatter that says nothing about the extension (no network here, by design).
const NOISE =
  /open-vsx\.org|connection token|Creating a socket|Service Worker|ChatSessionStore|additional builtin extensions|vsda|marketplace|getaddrinfo|\[lifecycle\]/i;

/** A throwaway copy of samples/ so that suites may edit and save files freely. */
function makeWorkspace(pass) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `al-ws-${pass}-`));
  const samples = path.join(ROOT, 'samples');
  if (fs.existsSync(samples)) fs.cpSync(samples, dir, { recursive: true });
  return dir;
}

async function runPass(browser, pass) {
  const workspace = makeWorkspace(pass);
  const resultFile = path.join(RESULTS_DIR, `integration-${pass}.json`);
  fs.rmSync(resultFile, { force: true });
  const untrusted = pass === 'untrusted';
  // A folder that exists but holds no model: honouring it would make every inspection fail.
  const bogusModel = path.join(workspace, '.not-a-model');
  // ATTENTION_LENS_PROBE: the extension measures and returns its state API, which the suites read.
  const env = { AL_INTEGRATION_PASS: pass, AL_RESULT_FILE: resultFile, AL_WORKSPACE: workspace, ATTENTION_LENS_PROBE: '1' };
  let settings = {};
  let machineSettings;
  if (untrusted) {
    fs.mkdirSync(bogusModel, { recursive: true });
    fs.writeFileSync(path.join(bogusModel, 'README.txt'), 'Not a model: the untrusted pass checks that it is ignored.\n');
    env.AL_UNTRUSTED_MODEL_PATH = bogusModel;
    settings = {
      'security.workspace.trust.enabled': true,
      'security.workspace.trust.startupPrompt': 'never',
      'security.workspace.trust.banner': 'never',
      'security.workspace.trust.emptyWindow': false,
      'attentionLens.modelPath': bogusModel,
    };
    machineSettings = { 'attentionLens.modelPath': bogusModel };
  }

  const started = Date.now();
  let server;
  try {
    server = await cs.startCodeServer({ folder: workspace, settings, machineSettings, env, quiet: true });
  } catch (err) {
    fs.rmSync(workspace, { recursive: true, force: true });
    throw err;
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  let exitCode = null;
  let timer;
  try {
    let settle;
    const exited = new Promise((resolve) => {
      settle = resolve;
      timer = setTimeout(() => resolve(null), PASS_TIMEOUT_MS);
    });
    await page.exposeFunction('codeAutomationLog', (type, logArgs) => {
      const text = (Array.isArray(logArgs) ? logArgs : [logArgs])
        .map((a) => (typeof a === 'string' ? a : JSON.stringify(a)))
        .join(' ');
      if (!verbose && NOISE.test(text)) return;
      (type === 'error' ? console.error : console.log)(text);
    });
    await page.exposeFunction('codeAutomationExit', (code) => settle(Number(code)));
    const url = cs.workbenchUrl(server.base, {
      folder: workspace,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: TESTS_INDEX,
    });
    console.log(`[integration:${pass}] code-server ${server.base}, workspace ${workspace}`);
    await page.goto(url);
    exitCode = await exited;
    if (exitCode === null) console.error(`[integration:${pass}] timed out after ${PASS_TIMEOUT_MS / 1000} s`);
    if (exitCode !== 0) {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      const shot = path.join(SCREENSHOTS, `integration-${pass}-failure.png`);
      await page.screenshot({ path: shot }).catch(() => undefined);
      console.error(`[integration:${pass}] screenshot: ${path.relative(ROOT, shot)}`);
    }
  } finally {
    clearTimeout(timer);
    await context.close().catch(() => undefined);
    await server.stop();
    if (verbose || exitCode !== 0) {
      console.log(`[integration:${pass}] code-server log (tail):\n${server.log().slice(-4000)}`);
    }
    fs.rmSync(workspace, { recursive: true, force: true });
  }

  let result = { passed: 0, failed: 0, skipped: 0 };
  try {
    result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  } catch {
    // run() never reached the end: counted below
  }
  if (exitCode !== 0 && result.failed === 0) {
    result.failed = 1;
    result.note = exitCode === null ? 'timed out' : `extension host test run exited with ${exitCode}`;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`[integration:${pass}] ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped (${seconds} s)`);
  return result;
}

async function main() {
  if (!fs.existsSync(TESTS_INDEX)) throw new Error(`${path.relative(ROOT, TESTS_INDEX)} is missing: run node esbuild.js`);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing: the extension did not build (node esbuild.js)');
  }
  const browser = await cs.launchChromium();
  const totals = { passed: 0, failed: 0, skipped: 0, passes: {} };
  try {
    for (const pass of passes) {
      let result;
      try {
        result = await runPass(browser, pass);
      } catch (err) {
        console.error(`[integration:${pass}] could not run: ${err && err.stack ? err.stack : err}`);
        result = { passed: 0, failed: 1, skipped: 0, note: String(err) };
      }
      totals.passes[pass] = result;
      totals.passed += result.passed;
      totals.failed += result.failed;
      totals.skipped += result.skipped;
    }
  } finally {
    await browser.close();
  }
  return totals;
}

function writeTotals(totals) {
  if (!process.env.AL_RESULT_FILE) return;
  fs.mkdirSync(path.dirname(process.env.AL_RESULT_FILE), { recursive: true });
  fs.writeFileSync(process.env.AL_RESULT_FILE, JSON.stringify(totals, null, 2));
}

main()
  .then((totals) => {
    writeTotals(totals);
    process.exit(totals.failed > 0 ? 1 : 0);
  })
  .catch((err) => {
    console.error(`[integration] ${err && err.stack ? err.stack : err}`);
    writeTotals({ passed: 0, failed: 1, skipped: 0, note: String(err) });
    process.exit(1);
  });
