// Builds the extension host, the webview, the CLI, the benchmark and the test bundles.
// `node esbuild.js` builds once; `--watch` rebuilds on change; `--production` minifies.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

function testEntries(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  external: ['vscode', 'onnxruntime-node', 'tokenizers', 'playwright-core', 'mocha'],
  logLevel: 'warning',
};

const builds = [
  { ...nodeCommon, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  {
    ...nodeCommon,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  },
  { ...nodeCommon, entryPoints: ['bench/bench.ts'], outfile: 'dist/bench.js' },
  { ...nodeCommon, entryPoints: ['bench/attention-cost.ts'], outfile: 'dist/attention-cost.js' },
  // The converter's worker, beside the extension and the engine tests (src/core/convert/convert-in-worker.ts).
  ...['dist', 'out/test/engine'].map((dir) => ({ ...nodeCommon, entryPoints: ['src/core/convert/convert-worker.ts'], outfile: `${dir}/convert-worker.js` })),
  // The model worker, beside every bundle that runs models (src/core/engine/worker.ts).
  ...['dist', 'out/test/engine', 'out/test/smoke'].map((dir) => ({
    ...nodeCommon,
    entryPoints: ['src/core/engine/ort-worker.ts'],
    outfile: `${dir}/ort-worker.js`,
  })),
  {
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    entryPoints: ['src/webview/main.ts'],
    outfile: 'dist/webview/main.js',
    logLevel: 'warning',
  },
  {
    ...nodeCommon,
    entryPoints: [...testEntries('test/engine'), ...testEntries('test/cli'), ...testEntries('test/smoke'), ...testEntries('test/integration'), ...testEntries('test/ui')],
    outdir: 'out/test',
    outbase: 'test',
  },
  {
    // Pure unit tests run outside VS Code: the extension modules they test get the stand-in's events.
    ...nodeCommon,
    entryPoints: testEntries('test/unit'),
    outdir: 'out/test/unit',
    outbase: 'test/unit',
    alias: { vscode: './test/common/vscode-stand-in.ts' },
    // The lint-layers test runs ESLint from node_modules, as `npm run lint` does.
    external: [...nodeCommon.external.filter((e) => e !== 'vscode'), 'eslint'],
  },
].filter((b) => b.entryPoints.every((e) => fs.existsSync(e)) && b.entryPoints.length > 0);

async function main() {
  if (watch) {
    for (const b of builds) (await esbuild.context(b)).watch();
    console.log('esbuild: watching');
    return;
  }
  await Promise.all(builds.map((b) => esbuild.build(b)));
  fs.chmodSync('dist/cli.js', 0o755); // the package.json `bin`
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
