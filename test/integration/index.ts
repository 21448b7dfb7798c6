// Entry point loaded by VS Code as `extensionTestsPath`: runs inside the real extension host.
// Both runners use it: scripts/run-integration.js (code-server + Chromium, here and in CI) and
// scripts/run-integration-electron.js (@vscode/test-electron, machines that can download VS Code).
//
// Which suites run depends on the pass (AL_INTEGRATION_PASS, else the workspace's trust):
//   trusted pass:   every out/test/integration/**/*.test.js except *.untrusted.test.js
//   untrusted pass: only *.untrusted.test.js (workspace trust on, folder not trusted,
//                   attentionLens.modelPath set in user and machine settings)
// AL_TEST_GREP=pattern runs only the matching tests.
// Counts go to AL_RESULT_FILE, else out/test-results/integration-<pass>.json, for scripts/test.js.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

type Pass = 'trusted' | 'untrusted';

interface FailureRecord {
  title: string;
  error: string;
}

interface IntegrationResult {
  pass: Pass;
  passed: number;
  failed: number;
  skipped: number;
  failures: FailureRecord[];
  files: string[];
}

function currentPass(): Pass {
  const fromEnv = process.env.AL_INTEGRATION_PASS;
  if (fromEnv === 'trusted' || fromEnv === 'untrusted') return fromEnv;
  return vscode.workspace.isTrusted ? 'trusted' : 'untrusted';
}

function testFiles(dir: string, pass: Pass): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => f.endsWith('.untrusted.test.js') === (pass === 'untrusted'))
    .map((f) => path.join(dir, f))
    .sort();
}

function writeResult(result: IntegrationResult): void {
  const file =
    process.env.AL_RESULT_FILE ?? path.resolve(__dirname, '..', '..', 'test-results', `integration-${result.pass}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(result, null, 2));
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

export async function run(): Promise<void> {
  const pass = currentPass();
  const files = testFiles(__dirname, pass);
  const result: IntegrationResult = { pass, passed: 0, failed: 0, skipped: 0, failures: [], files };
  if (files.length === 0) {
    // A pass with nothing to run is reported as a failure by the orchestrator, never as a skip.
    writeResult(result);
    throw new Error(`no integration suites for the ${pass} pass under ${__dirname}`);
  }

  const mocha = new Mocha({
    color: false,
    timeout: Number(process.env.AL_TEST_TIMEOUT_MS ?? 60000),
    slow: 5000,
    // Keep Mocha's own reporter quiet: the events below print one line per test.
    reporter: Mocha.reporters.Base,
  });
  // Suites may use either interface (describe/it or suite/test).
  mocha.ui('bdd');
  mocha.ui('tdd');
  if (process.env.AL_TEST_GREP) mocha.grep(process.env.AL_TEST_GREP);
  for (const file of files) mocha.addFile(file);

  console.log(`[integration:${pass}] ${files.length} file(s): ${files.map((f) => path.basename(f)).join(', ')}`);
  await new Promise<void>((resolve, reject) => {
    try {
      const runner = mocha.run(() => resolve());
      runner.on('pass', (test) => {
        result.passed++;
        console.log(`  ✓ ${test.fullTitle()} (${test.duration ?? 0} ms)`);
      });
      runner.on('pending', (test) => {
        result.skipped++;
        console.log(`  - ${test.fullTitle()} (skipped)`);
      });
      runner.on('fail', (test, err) => {
        result.failed++;
        result.failures.push({ title: test.fullTitle(), error: errorText(err) });
        console.error(`  ✗ ${test.fullTitle()}\n${errorText(err)}`);
      });
    } catch (err) {
      reject(err);
    }
  });
  writeResult(result);
  console.log(
    `[integration:${pass}] ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`,
  );
  if (result.failed > 0) throw new Error(`${result.failed} integration test(s) failed`);
}
