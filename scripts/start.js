#!/usr/bin/env node
// `npm start`: builds the extension, makes sure code-server is installed (scripts/setup.sh),
// starts VS Code (code-server) on 127.0.0.1 with Attention Lens installed from this folder and
// samples/ open, and prints the URL to open in a browser. Ctrl+C stops it.
// Options: --port N (default $PORT or 8080, the next free one if taken), --folder DIR,
//          --no-build, --no-setup. After a rebuild (npm run build), reload the browser tab.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const cs = require('./lib/code-server');

const ROOT = cs.ROOT;
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);

function step(title, command, commandArgs) {
  console.log(`> ${title}`);
  const result = spawnSync(command, commandArgs, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${title} failed (exit ${result.status})`);
    process.exit(1);
  }
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function choosePort() {
  const wanted = Number(option('--port', process.env.PORT || 8080));
  for (let port = wanted; port < wanted + 20; port++) {
    if (await portIsFree(port)) return port;
  }
  return cs.freePort();
}

async function main() {
  if (!args.includes('--no-build')) step('build (node esbuild.js)', process.execPath, ['esbuild.js']);
  if (!args.includes('--no-setup')) step('setup (scripts/setup.sh)', 'bash', [path.join(__dirname, 'setup.sh')]);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js'))) {
    console.error('dist/extension.js is missing: the extension did not build');
    process.exit(1);
  }

  // Kept between runs (git-ignored): settings, window state and the extension link.
  const userDataDir = path.join(ROOT, '.vscode-test', 'user-data');
  const extensionsDir = path.join(ROOT, '.vscode-test', 'extensions');
  cs.linkExtension(extensionsDir);
  const folder = path.resolve(option('--folder', path.join(ROOT, 'samples')));
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  let settings = {};
  try {
    settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
  } catch {
    settings = {};
  }
  const port = await choosePort();
  const server = await cs.startCodeServer({ folder, userDataDir, extensionsDir, settings, port, quiet: true });
  const url = `${server.base}/?folder=${encodeURIComponent(folder)}`;
  console.log('');
  console.log(`Attention Lens is running in VS Code (code-server) at:\n\n  ${url}\n`);
  console.log('Open a sample, then F1 > "Attention Lens: Inspect Current Document". Ctrl+C stops the server.');

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping code-server');
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.process.on('exit', (code) => {
    if (!stopping) {
      console.error(`code-server exited (${code}):\n${server.log().slice(-3000)}`);
      process.exit(1);
    }
  });
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
