#!/usr/bin/env node
// `npm test`: every suite in order, a table of counts, and one summary line at the very end:
//   N passed, N failed[, N skipped]
// Suites: typecheck, lint, build (1 test each), unit (pure), engine (loads the model), cli, python (training/test_*.py), model smoke, integration (code-server),
// UI (Playwright), package (.vsix installs and activates). A suite that cannot start, crashes, times out or finds no tests counts as
// failed, never as skipped. Exit code 1 when anything failed.
// Options: --only name[,name...]  run some suites (e.g. --only unit,ui); --verbose.
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const RESULTS = path.join(ROOT, 'out', 'test-results');
const BIN = path.join(ROOT, 'node_modules', '.bin');
const REPORTER = path.join(__dirname, 'lib', 'mocha-count-reporter.js');
const MIN = 60 * 1000;

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
const verbose = args.includes('--verbose');

/** Runs a command with live output; resolves { code, timedOut }. Kills the whole group on timeout. */
function run(command, commandArgs, { timeoutMs, env } = {}) {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(command, commandArgs, {
        cwd: ROOT,
        stdio: 'inherit',
        env: { ...process.env, ...env },
        detached: true,
      });
    } catch (err) {
      console.error(`cannot start ${command}: ${err}`);
      resolve({ code: 127, timedOut: false });
      return;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\n${command} ${commandArgs.join(' ')}: timed out after ${timeoutMs / 1000} s`);
      try {
        process.kill(-child.pid, 'SIGTERM');
        setTimeout(() => {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }, 5000).unref();
      } catch {
        // gone
      }
    }, timeoutMs || 10 * MIN);
    child.on('error', (err) => {
      console.error(`cannot start ${command}: ${err.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code === null ? 128 + (signal === 'SIGKILL' ? 9 : 15) : code, timedOut });
    });
  });
}

/** A step that is a single test: passes when the command exits 0. */
async function single(command, commandArgs, options) {
  const { code, timedOut } = await run(command, commandArgs, options);
  const note = timedOut ? 'timed out' : code === 0 ? '' : `exit ${code}`;
  return { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0, note };
}

/** Reads counts written by the counting reporter or a runner, reconciled with the exit code. */
function countsFrom(file, code, timedOut) {
  let counts = null;
  try {
    counts = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    counts = null;
  }
  if (!counts) {
    const why = timedOut ? 'timed out' : `no results (exit ${code})`;
    return { passed: 0, failed: 1, skipped: 0, note: why };
  }
  const result = { passed: counts.passed | 0, failed: counts.failed | 0, skipped: counts.skipped | 0, note: counts.note || '' };
  if (timedOut) {
    result.failed += 1;
    result.note = 'timed out';
  } else if (code !== 0 && result.failed === 0) {
    result.failed = 1;
    result.note = result.note || `exit ${code} with no failing test`;
  } else if (result.passed + result.failed + result.skipped === 0) {
    result.failed = 1;
    result.note = 'no tests found';
  }
  return result;
}

function testFiles(dir) {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs)
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** mocha over out/test/<dir>/*.test.js with the counting reporter. */
async function mochaSuite(name, dir, { timeoutMs, mochaTimeoutMs = 10000, env } = {}) {
  const files = testFiles(dir);
  if (files.length === 0) {
    console.error(`no test files in ${dir} (did the build produce them?)`);
    return { passed: 0, failed: 1, skipped: 0, note: `no test files in ${dir}` };
  }
  const resultFile = path.join(RESULTS, `${name}.json`);
  fs.rmSync(resultFile, { force: true });
  const { code, timedOut } = await run(
    path.join(BIN, 'mocha'),
    ['--reporter', REPORTER, '--timeout', String(mochaTimeoutMs), '--slow', '2000', ...files],
    { timeoutMs, env: { ...env, AL_RESULT_FILE: resultFile } },
  );
  return countsFrom(resultFile, code, timedOut);
}

const suites = [
  {
    name: 'typecheck',
    run: () => single(path.join(BIN, 'tsc'), ['-p', '.', '--noEmit'], { timeoutMs: 5 * MIN }),
  },
  {
    name: 'lint',
    run: () => single(path.join(BIN, 'eslint'), ['--no-error-on-unmatched-pattern', 'src', 'test', 'bench', 'scripts'], { timeoutMs: 5 * MIN }),
  },
  {
    name: 'build',
    run: () => {
      // Stale bundles of deleted tests would run otherwise.
      fs.rmSync(path.join(ROOT, 'out', 'test'), { recursive: true, force: true });
      return single(process.execPath, ['esbuild.js'], { timeoutMs: 3 * MIN });
    },
  },
  {
    name: 'unit',
    run: () => mochaSuite('unit', 'out/test/unit', { timeoutMs: 5 * MIN, mochaTimeoutMs: 20000 }),
  },
  {
    name: 'engine',
    run: () => mochaSuite('engine', 'out/test/engine', { timeoutMs: 15 * MIN, mochaTimeoutMs: 20000 }),
  },
  {
    name: 'cli',
    run: () => mochaSuite('cli', 'out/test/cli', { timeoutMs: 5 * MIN, mochaTimeoutMs: 20000 }),
  },
  {
    // The training side (graphs, converter reference, screening, training): training/run_tests.py.
    name: 'python',
    run: async () => {
      const resultFile = path.join(RESULTS, 'python.json');
      fs.rmSync(resultFile, { force: true });
      const { code, timedOut } = await run('/usr/bin/python3', [path.join(ROOT, 'training', 'run_tests.py')], { timeoutMs: 10 * MIN, env: { AL_RESULT_FILE: resultFile } });
      return countsFrom(resultFile, code, timedOut);
    },
  },
  {
    name: 'smoke',
    run: async () => {
      const script = path.join(ROOT, 'training', 'smoke.sh');
      if (!fs.existsSync(script)) {
        console.error('training/smoke.sh does not exist: the model smoke suite cannot start');
        return { passed: 0, failed: 1, skipped: 0, note: 'training/smoke.sh missing' };
      }
      const train = await run('bash', [script], { timeoutMs: 12 * MIN });
      if (train.code !== 0) {
        return { passed: 0, failed: 1, skipped: 0, note: train.timedOut ? 'smoke.sh timed out' : `smoke.sh exit ${train.code}` };
      }
      return mochaSuite('smoke', 'out/test/smoke', { timeoutMs: 5 * MIN, mochaTimeoutMs: 60000 });
    },
  },
  {
    name: 'integration',
    run: async () => {
      const resultFile = path.join(RESULTS, 'integration.json');
      fs.rmSync(resultFile, { force: true });
      const { code, timedOut } = await run(process.execPath, [path.join(__dirname, 'run-integration.js')], {
        timeoutMs: 12 * MIN,
        env: { AL_RESULT_FILE: resultFile },
      });
      return countsFrom(resultFile, code, timedOut);
    },
  },
  {
    name: 'ui',
    // Three workbench files; first-minutes.test.ts alone took 5 min at a load average of 12-15.
    run: () => mochaSuite('ui', 'out/test/ui', { timeoutMs: 20 * MIN, mochaTimeoutMs: 120000 }),
  },
  {
    // The per-platform .vsix builds, carries one platform's runtime, installs into code-server
    // and inspects a file (1 test). Last: its production build replaces the dev build in dist/.
    name: 'package',
    run: () => single(process.execPath, [path.join(__dirname, 'package.js'), '--check'], { timeoutMs: 5 * MIN }),
  },
];

function ensureSetup() {
  // Fast when everything is installed; installs what is missing (as root) otherwise.
  const setup = spawnSync('bash', [path.join(__dirname, 'setup.sh')], { cwd: ROOT, stdio: 'inherit' });
  return setup.status === 0;
}

function printTable(rows) {
  const header = ['suite', 'passed', 'failed', 'skipped', 'time', 'note'];
  const lines = rows.map((r) => [r.name, String(r.passed), String(r.failed), String(r.skipped), `${r.seconds.toFixed(1)} s`, r.note || '']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => (i >= 1 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log('');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
}

async function main() {
  const started = Date.now();
  fs.mkdirSync(RESULTS, { recursive: true });
  const setupOk = ensureSetup();
  const rows = [];
  for (const suite of suites) {
    if (only && !only.includes(suite.name)) continue;
    console.log(`\n===== ${suite.name} =====`);
    const t0 = Date.now();
    let result;
    if (!setupOk && (suite.name === 'integration' || suite.name === 'ui')) {
      result = { passed: 0, failed: 1, skipped: 0, note: 'setup failed (scripts/setup.sh)' };
    } else {
      try {
        result = await suite.run();
      } catch (err) {
        console.error(err);
        result = { passed: 0, failed: 1, skipped: 0, note: String(err) };
      }
    }
    rows.push({ name: suite.name, ...result, seconds: (Date.now() - t0) / 1000 });
    if (verbose) console.log(JSON.stringify(rows[rows.length - 1]));
  }
  printTable(rows);
  const total = rows.reduce(
    (acc, r) => ({ passed: acc.passed + r.passed, failed: acc.failed + r.failed, skipped: acc.skipped + r.skipped }),
    { passed: 0, failed: 0, skipped: 0 },
  );
  fs.writeFileSync(path.join(RESULTS, 'summary.json'), JSON.stringify({ rows, total, seconds: (Date.now() - started) / 1000 }, null, 2));
  console.log(`total time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  process.exit(total.failed > 0 ? 1 : 0);
}

main();
