// Starting code-server (VS Code 1.100.3 with the workbench in a browser) and Chromium for
// `npm start`, the integration runner, the UI tests and the .vsix check. One module so that all
// of them start VS Code the same way. Plain CommonJS: scripts run without a build step; the
// TypeScript UI tests import it through code-server.d.ts.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

/** The repository root: the nearest folder above this file (or its bundle in out/) with our package.json. */
function findRoot(start) {
  for (let dir = start; ; dir = path.dirname(dir)) {
    try {
      if (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'attention-lens') return dir;
    } catch {
      // keep looking
    }
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..');
  }
}

const ROOT = findRoot(__dirname);
const CODE_SERVER_BIN = path.join(ROOT, '.vscode-test', 'code-server', 'node_modules', '.bin', 'code-server');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Settings every automated run wants: no trust prompt, no tours, no telemetry, quiet workbench. */
const BASE_SETTINGS = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
  'editor.minimap.enabled': false,
  'files.hotExit': 'off',
  'window.confirmBeforeClose': 'never',
};

function codeServerInstalled() {
  return fs.existsSync(CODE_SERVER_BIN);
}

/** Asks the OS for a free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode || 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Writes JSON settings into a user-data-dir (User/ and, for machine-scoped keys, Machine/). */
function writeSettings(userDataDir, settings, machineSettings) {
  const userDir = path.join(userDataDir, 'User');
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(path.join(userDir, 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...settings }, null, 2));
  if (machineSettings) {
    const machineDir = path.join(userDataDir, 'Machine');
    fs.mkdirSync(machineDir, { recursive: true });
    fs.writeFileSync(path.join(machineDir, 'settings.json'), JSON.stringify(machineSettings, null, 2));
  }
}

/**
 * Starts code-server and waits until it answers.
 * @param {object} options
 * @param {string} [options.folder] folder opened by default
 * @param {string} [options.userDataDir] default: a fresh temp dir (removed on stop)
 * @param {string} [options.extensionsDir] default: a fresh empty temp dir (removed on stop)
 * @param {Record<string, unknown>} [options.settings] user settings merged over BASE_SETTINGS
 * @param {Record<string, unknown>} [options.machineSettings] written to Machine/settings.json
 * @param {number} [options.port] default: a free port
 * @param {boolean} [options.quiet] hide code-server's own log unless it fails
 * @param {Record<string, string>} [options.env] extra environment for code-server and its extension host
 */
async function startCodeServer(options = {}) {
  if (!codeServerInstalled()) {
    throw new Error(`code-server is not installed at ${CODE_SERVER_BIN}; run: bash scripts/setup.sh`);
  }
  const temps = [];
  const tempDir = (prefix) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    temps.push(dir);
    return dir;
  };
  const userDataDir = options.userDataDir || tempDir('al-user-');
  const extensionsDir = options.extensionsDir || tempDir('al-ext-');
  fs.mkdirSync(extensionsDir, { recursive: true });
  writeSettings(userDataDir, options.settings || {}, options.machineSettings);
  const port = options.port || (await freePort());
  const args = [
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--config', path.join(userDataDir, 'code-server.yaml'),
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
  ];
  if (options.folder) args.push(options.folder);
  const child = spawn(CODE_SERVER_BIN, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const onData = (chunk) => {
    output += chunk.toString();
    if (output.length > 200000) output = output.slice(-100000);
    if (!options.quiet) process.stdout.write(chunk);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (exited) throw new Error(`code-server exited (${JSON.stringify(exited)}) before answering:\n${output}`);
    if ((await httpStatus(`${base}/healthz`)) === 200) break;
    if (Date.now() > deadline) {
      killTree(child);
      throw new Error(`code-server did not answer on ${base} within 60 s:\n${output}`);
    }
    await sleep(200);
  }

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      killTree(child, 'SIGTERM');
      const timer = setTimeout(() => killTree(child, 'SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
  }

  return { base, port, userDataDir, extensionsDir, process: child, stop, log: () => output };
}

/** Signals a detached child's whole process group (code-server forks its extension hosts). */
function killTree(child, signal = 'SIGTERM') {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** URL that opens `folder` (and optionally a file) with an extension under development. */
function workbenchUrl(base, { folder, extensionDevelopmentPath, extensionTestsPath }) {
  const authority = new URL(base).host;
  const payload = [];
  if (extensionDevelopmentPath) {
    payload.push(['extensionDevelopmentPath', `vscode-remote://${authority}${extensionDevelopmentPath}`]);
  }
  if (extensionTestsPath) {
    payload.push(['extensionTestsPath', `vscode-remote://${authority}${extensionTestsPath}`]);
  }
  let url = `${base}/?folder=${encodeURIComponent(folder)}`;
  if (payload.length) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}

/** Launches Debian's Chromium through playwright-core with the flags that work on this machine. */
async function launchChromium(options = {}) {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: options.headless !== false,
  });
}

/**
 * Makes the extension visible to code-server as an installed extension: a symlink
 * <extensionsDir>/<publisher>.<name>-<version> -> repository root, plus the extensions.json entry
 * VS Code 1.100 reads to know what is installed.
 */
function linkExtension(extensionsDir, extensionPath = ROOT) {
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionPath, 'package.json'), 'utf8'));
  const id = `${manifest.publisher}.${manifest.name}`;
  const folderName = `${id}-${manifest.version}`;
  const link = path.join(extensionsDir, folderName);
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(extensionPath, link, 'dir');
  const listFile = path.join(extensionsDir, 'extensions.json');
  let list = [];
  try {
    list = JSON.parse(fs.readFileSync(listFile, 'utf8'));
  } catch {
    list = [];
  }
  list = list.filter((entry) => entry && entry.identifier && entry.identifier.id !== id);
  list.push({
    identifier: { id },
    version: manifest.version,
    location: { $mid: 1, path: link, scheme: 'file' },
    relativeLocation: folderName,
    metadata: { installedTimestamp: Date.now(), source: 'vsix', pinned: true },
  });
  fs.writeFileSync(listFile, JSON.stringify(list));
  return { id, link };
}

module.exports = {
  ROOT,
  CODE_SERVER_BIN,
  CHROMIUM,
  CHROMIUM_ARGS,
  BASE_SETTINGS,
  codeServerInstalled,
  freePort,
  startCodeServer,
  workbenchUrl,
  launchChromium,
  linkExtension,
  writeSettings,
  killTree,
};
