#!/usr/bin/env node
// The same integration suites, run in desktop VS Code through @vscode/test-electron. It
// downloads VS Code (into .vscode-test/), so it only works on machines with internet access and
// a display (or xvfb-run); CI here uses scripts/run-integration.js (code-server) instead.
// Usage: node esbuild.js && node scripts/run-integration-electron.js [--pass trusted|untrusted]
//        (xvfb-run -a node scripts/run-integration-electron.js on a headless Linux box)
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { runTests } = require('@vscode/test-electron');

const ROOT = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const passArg = args.includes('--pass') ? args[args.indexOf('--pass') + 1] : undefined;
const passes = passArg ? [passArg] : ['trusted', 'untrusted'];

async function runPass(pass) {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), `al-ws-${pass}-`));
  fs.cpSync(path.join(ROOT, 'samples'), workspace, { recursive: true });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-user-'));
  const env = { AL_INTEGRATION_PASS: pass, AL_WORKSPACE: workspace, ATTENTION_LENS_PROBE: '1' };
  const settings = {
    'security.workspace.trust.enabled': pass === 'untrusted',
    'security.workspace.trust.startupPrompt': 'never',
    'workbench.startupEditor': 'none',
  };
  if (pass === 'untrusted') {
    const bogusModel = path.join(workspace, '.not-a-model');
    fs.mkdirSync(bogusModel);
    settings['attentionLens.modelPath'] = bogusModel;
    env.AL_UNTRUSTED_MODEL_PATH = bogusModel;
  }
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  try {
    await runTests({
      version: process.env.AL_VSCODE_VERSION || '1.100.3',
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: path.join(ROOT, 'out', 'test', 'integration', 'index.js'),
      extensionTestsEnv: env,
      launchArgs: [workspace, '--user-data-dir', userDataDir, '--disable-extensions', '--skip-welcome'],
    });
    return 0;
  } catch (err) {
    console.error(`[integration-electron:${pass}] ${err}`);
    return 1;
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

(async () => {
  let failed = 0;
  for (const pass of passes) failed += await runPass(pass);
  process.exit(failed ? 1 : 0);
})();
