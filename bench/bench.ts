// `npm run bench`: inspection time, extra peak memory (against the engine's own estimate) and time
// to first progress per length and mode (each in a fresh child process), the PyTorch-eager
// baseline on the same weights, the machine's sgemm throughput and the share of the sgemm-bound
// time of the causal work the model run reaches. Prints a table and writes bench/README.md.
//   node dist/bench.js [--lengths 1000,4000,8000,16000,32000] [--modes softmax,ssmax,ssmax-posthoc]
//                      [--runs 5] [--threads N] [--no-torch] [--no-readme] [--model DIR]
//                      [--profile-threads 1,2] [--no-wait]
// --no-wait: start each length at once instead of waiting up to 3 minutes for a quiet second.
// --model DIR benches another model folder (e.g. a converted 135 M model; no PyTorch baseline, and
// bench/README.md is not written). Each length also gets profiled runs of the engine in the child
// process (bench/profile.ts): graph calls per inspection and the time outside session.run; with
// --profile-threads (e.g. 1,2,2spin) the profiled runs alternate those intra-op thread counts,
// side by side ('spin': idle threads spin, which the worker's sessions do not).
//   node dist/bench.js --huge [MB] [--max-tokens N]: a window of a generated MB-sized code file
//                      (default 50) against the same window cut out as its own file.
//   node dist/bench.js --incremental [tokens] [mode] [runs]: an end and a middle edit re-inspected
//                      incrementally against a full run.
//   node dist/bench.js --convert HF_DIR...: each checkpoint converted in a fresh process (seconds, extra
//   peak memory), then opened and inspected at 1,000 tokens in another
//   node dist/bench.js --memory [--lengths ...] [--modes softmax,ssmax] [--model DIR]: the memory plan
//                      against the measured extra peak, each case in a fresh process.
//   node dist/bench.js --live [tokens] [runs]: CPU seconds of a Live Mode edit at the end, foreground
//                      and background, under the partner policy and under every-mode runs.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tokenAt, topKeys } from '../src/core/reading/analysis';
import { DocumentSession } from '../src/core/engine/document-session';
import { SiblingRuns } from '../src/core/engine/sibling-runs';
import type { InspectionMemory } from '../src/core/inspection-types';
import { partnerOf } from '../src/shared/compare';
import { ModelRunner } from '../src/core/engine/runner';
import type { InspectRequest } from '../src/core/engine/runner';
import type { Inspection, ModelInfo } from '../src/core/inspection-types';
import type { ModelDims } from '../src/core/model/graphs';
import { attentionGraphs } from '../src/core/model/graphs';
import type { Mode } from '../src/shared/vocabulary';
import { MODES, isMode, isRelevance } from '../src/shared/vocabulary';
import { readManifest } from '../src/core/model/manifest';
import { ModelWorker } from '../src/core/engine/worker';
import { Tokenizer } from '../src/core/model/tokenizer';
import { matMulModel, matMulWeightModel } from './onnx-proto';
import { convertHfFolder } from '../src/core/convert/convert-model';
import type { Kind, RunProfile } from './profile';
import { KINDS, Sessions, kindFlops, profileRun } from './profile';
import { planMode } from '../src/core/model/manifest';
import { BLOCK_FLOATS, LINEAR_ROWS, inspectionBytes } from '../src/core/engine/memory-plan';
import type { Feed } from '../src/core/engine/layered-run';

const ROOT = path.join(__dirname, '..');
let MODEL_DIR = path.join(ROOT, 'models');

interface ProfileSummary {
  /** Intra-op threads (0: onnxruntime's default), 'spin' when idle threads spin (the worker's sessions do not). */
  threads: string;
  /** Median over the profiled runs of this thread count. */
  totalMs: number;
  overheadMs: number;
  calls: number;
  kinds: Record<Kind, { calls: number; runMs: number; callMs: number }>;
}

interface LengthResult {
  tokens: number;
  mode: Mode;
  openMs: number;
  coldMs: number;
  warmMedianMs: number;
  warmRuns: number;
  modelMedianMs: number;
  tokenizeMs: number;
  extraPeakMB: number;
  coldExtraMB: number;
  /** The engine's estimate of the extra peak (memory-plan.ts), for the same length. */
  estimateMB: number;
  /** From the call to the first progress report, warm run. */
  firstProgressMs: number;
  /** Only at 4,000 tokens. */
  warmMinMs: number;
  /** Share of the CPUs other processes used in the second before this length started. */
  busy?: number;
  hoverMedianUs?: number;
  payloadMB?: number;
  /** Profiled runs, one entry per thread count (bench/profile.ts). */
  profile?: ProfileSummary[];
}

interface TorchResult {
  tokens: number;
  variant: string;
  coldMs: number;
  medianMs: number;
  peakRssMB: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Real source code from the repository, cut to exactly `tokens` tokens. */
async function sourceText(tokenizer: Tokenizer, tokens: number): Promise<string> {
  const files: string[] = [];
  const walk = (dir: string, ext: RegExp): void => {
    for (const f of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, f.name);
      if (f.isDirectory()) walk(full, ext);
      else if (ext.test(f.name)) files.push(full);
    }
  };
  walk(path.join(ROOT, 'samples'), /\.(ts|js|py|rs|h)$/);
  walk(path.join(ROOT, 'src'), /\.ts$/);
  walk(path.join(ROOT, 'training'), /\.py$/);
  const sources = files.map((f) => fs.readFileSync(f, 'utf8'));
  let text = '';
  for (let i = 0; (await tokenizer.encode(text)).ids.length < tokens + 50; i++) text += sources[i % sources.length];
  const enc = await tokenizer.encode(text);
  // Cutting at a token end may re-split the last piece; step back until the count is exact.
  for (let end = tokens; end > 0; end--) {
    const cut = text.slice(0, enc.ends[end - 1]);
    const n = (await tokenizer.encode(cut)).ids.length;
    if (n === tokens) return cut;
    if (n < tokens) break;
  }
  return text.slice(0, enc.ends[tokens - 1]);
}

function topKMB(LH: number, T: number, K: number): number {
  return (LH * T * K * 8) / 2 ** 20;
}

function procStatusMB(field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error(`bench: no ${field} in /proc/self/status`);
  return Number(m[1]) / 1024;
}

/** RSS after a full GC, with the kernel's peak-RSS mark reset to it (Linux: clear_refs 5). */
function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  fs.writeFileSync('/proc/self/clear_refs', '5');
  return procStatusMB('VmRSS');
}

function peakRss(): number {
  return procStatusMB('VmHWM');
}

/** One length and mode, in this (fresh) process. */
async function child(tokens: number, mode: Mode, runs: number, threads = 0, profileThreads: string[] = [String(threads)]): Promise<LengthResult> {
  const tokenizer = Tokenizer.fromFile(readManifest(MODEL_DIR).tokenizerPath);
  const text = await sourceText(tokenizer, tokens);
  const t0 = performance.now();
  const engine = await ModelRunner.open(MODEL_DIR, () => undefined, { threads: threads || undefined });
  const session = new DocumentSession(engine);
  const openMs = performance.now() - t0;
  const req = (i: number): InspectRequest => ({ text, mode, cacheKey: `run${i}`, maxTokens: tokens, queryOffsets: [Math.floor(text.length / 2)] });
  const rss0 = settledRss();
  const cold = await session.inspect(req(0));
  if (cold.tokens.length !== tokens) throw new Error(`bench: wanted ${tokens} tokens, the text has ${cold.tokens.length}`);
  const coldExtraMB = peakRss() - rss0;
  const warm: Inspection[] = [];
  let warmSession = session;
  let extraPeakMB = 0;
  let firstProgressMs = NaN;
  for (let i = 1; i <= runs; i++) {
    const before = settledRss();
    const start = performance.now();
    let reported = false;
    // A session of its own: in the same session the run would resume from the last one and compute nothing.
    warmSession = new DocumentSession(engine);
    warm.push(
      await warmSession.inspect(req(i), undefined, () => {
        if (reported) return;
        reported = true;
        if (i === 1) firstProgressMs = performance.now() - start;
      }),
    );
    extraPeakMB = Math.max(extraPeakMB, peakRss() - before);
  }
  const result: LengthResult = {
    tokens,
    mode,
    openMs,
    coldMs: cold.timings.totalMs,
    warmMedianMs: median(warm.map((w) => w.timings.totalMs)),
    warmMinMs: Math.min(...warm.map((w) => w.timings.totalMs)),
    warmRuns: runs,
    modelMedianMs: median(warm.map((w) => w.timings.inferenceMs)),
    tokenizeMs: median(warm.map((w) => w.timings.tokenizeMs)),
    extraPeakMB,
    coldExtraMB,
    estimateMB: warm[warm.length - 1].memory?.plannedMB ?? NaN,
    firstProgressMs,
  };
  if (tokens === 4000) {
    const times: number[] = [];
    const last = req(runs);
    for (let i = 0; i < 2000; i++) {
      const offset = (i * 7919) % text.length;
      const s = performance.now();
      const insp = warmSession.cached({ ...last, centerOffset: offset }) as Inspection;
      topKeys(insp, i % engine.model.layers, i % engine.model.heads, tokenAt(insp, offset), 5);
      times.push(performance.now() - s);
    }
    result.hoverMedianUs = median(times) * 1000;
    result.payloadMB = inspectionBytes(warm[warm.length - 1]) / 2 ** 20;
  }
  await engine.dispose();
  // The profile and the sgemm bounds count attention heads' work; a screening twin's tiles are another computation.
  if (!isRelevance(mode)) result.profile = await profiled(text, tokenizer, mode, runs, profileThreads);
  return result;
}

/** Profiled runs of the engine in this process (after the worker's runs, so they do not overlap), thread counts alternating. */
async function profiled(text: string, tokenizer: Tokenizer, mode: Mode, runs: number, threadCounts: string[]): Promise<ProfileSummary[]> {
  const manifest = readManifest(MODEL_DIR);
  const ids = (await tokenizer.encode(text)).ids;
  const plan = planMode(manifest, mode, ids.length);
  const spec = { graphs: plan.graphs, dims: manifest.dims, ids, s: plan.s, ropeScale: plan.ropeScale, queryScaling: plan.queryScaling, blockFloats: BLOCK_FLOATS, linearRows: LINEAR_ROWS };
  const sessions = new Sessions();
  const by = new Map<string, RunProfile[]>(threadCounts.map((t) => [t, []]));
  const count = (t: string): number => parseInt(t, 10) || 0;
  try {
    const g = attentionGraphs(plan.graphs);
    const graphs = [g.embed, ...g.qkv, g.attention, g.attentionSplit, ...g.out, g.head];
    for (const t of threadCounts) for (const g of graphs) await sessions.get(g, count(t), t.endsWith('spin')); // sessions made before any timed run
    for (let i = 0; i < runs; i++) for (const t of threadCounts) (by.get(t) as RunProfile[]).push(await profileRun(spec, sessions, count(t), t.endsWith('spin')));
  } finally {
    await sessions.release();
  }
  return threadCounts.map((t) => {
    const ps = by.get(t) as RunProfile[];
    const kinds = Object.fromEntries(
      KINDS.map((k) => [k, { calls: ps[0].kinds[k].calls, runMs: median(ps.map((p) => p.kinds[k].runMs)), callMs: median(ps.map((p) => p.kinds[k].callMs)) }]),
    ) as ProfileSummary['kinds'];
    return { threads: t, totalMs: median(ps.map((p) => p.totalMs)), overheadMs: median(ps.map((p) => p.overheadMs)), calls: ps[0].calls, kinds };
  });
}

function cpuTimes(): { idle: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
}

/** Waits (up to 3 minutes) for a second in which other processes use under 10% of the CPUs; returns the last share seen. */
async function waitForIdle(wait = !process.argv.includes('--no-wait')): Promise<number> {
  const deadline = wait ? Date.now() + 180_000 : 0;
  for (;;) {
    const a = cpuTimes();
    await new Promise((r) => setTimeout(r, 1000));
    const b = cpuTimes();
    const busy = 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
    if (busy < 0.1 || Date.now() > deadline) return busy;
  }
}

/** GFLOP/s of a float32 MatMul through the same onnxruntime session path. */
async function sgemm(n: number, runs: number, weights = false): Promise<number> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'al-bench-')), 'sgemm.onnx');
  const a = Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13 - 0.5);
  fs.writeFileSync(file, weights ? matMulWeightModel(n, n, n, a) : matMulModel(n, n, n));
  const pool = new ModelWorker();
  try {
    const A = { type: 'float32' as const, data: a, dims: [n, n] };
    const feeds: Record<string, Feed> = weights ? { A } : { A, B: A };
    await pool.runGraph(file, feeds);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      await pool.runGraph(file, feeds);
      times.push(performance.now() - s);
    }
    return (2 * n ** 3) / (median(times) / 1000) / 1e9;
  } finally {
    await pool.dispose();
    fs.rmSync(path.dirname(file), { recursive: true });
  }
}

/**
 * Matrix FLOPs the causal work of T tokens needs: every weight applied to each token (layers and
 * the output layer, for surprisal) and, per layer and head, q.k and w.v over the causal half only.
 * What the graphs compute beyond that (summaries, padding to the bin) counts against us.
 */
function causalFlops(dims: ModelDims, T: number): number {
  const { linear, attention } = causalFlopsOf(dims, T);
  return linear + attention;
}

/** The causal work's FLOPs apart: products with the weights (constants onnxruntime prepacks) and q.k, w.v (both operands inputs). */
function causalFlopsOf(dims: ModelDims, T: number): { linear: number; attention: number } {
  const linear = 2 * T * (dims.layers * dims.layerParameters + dims.vocabSize * dims.width);
  const attention = dims.layers * dims.heads * 2 * 2 * ((T * (T + 1)) / 2) * dims.headDim;
  return { linear, attention };
}

/** ms of the mixed bound: the weight products at the prepacked rate, q.k and w.v at the input rate. */
function mixedBoundMs(dims: ModelDims, T: number, gflopsInput: number, gflopsWeights: number): number {
  const { linear, attention } = causalFlopsOf(dims, T);
  return (linear / (gflopsWeights * 1e9) + attention / (gflopsInput * 1e9)) * 1000;
}

/** PyTorch eager holds every layer's T x T weights; beyond 8 GB it is not run on this machine. */
function eagerFits(info: ModelInfo, T: number): boolean {
  return info.layers * info.heads * T * T * 4 * 1.5 < 8 * 2 ** 30;
}

function torchBaseline(variant: 'softmax' | 'ssmax', lengths: number[], runs: number): { results: TorchResult[]; note?: string } {
  const script = path.join(ROOT, 'training', 'bench_torch.py');
  if (!fs.existsSync(script)) return { results: [], note: 'training/bench_torch.py is missing' };
  const r = spawnSync('/usr/bin/python3', [script, '--variant', variant, '--lengths', lengths.join(','), '--runs', String(runs)], {
    encoding: 'utf8',
    timeout: 30 * 60_000,
  });
  if (r.status !== 0) return { results: [], note: `bench_torch.py ${variant} failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}` };
  const parsed = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { results: TorchResult[]; torch?: string; threads?: number };
  return { results: parsed.results, note: `torch ${parsed.torch ?? '?'}, ${parsed.threads ?? '?'} threads` };
}

function cpuModel(): string {
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Model name:'));
    return line ? line.replace('Model name:', '').trim() : os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

interface HugeResult {
  fileMB: number;
  windowTokens: number;
  documentTokens: number;
  documentTokensEstimated: boolean;
  /** From inspect() to the inspection, and the extra peak over the RSS before it (a fresh process). */
  hugeMs: number;
  hugeTokenizeMs: number;
  hugeExtraMB: number;
  /** The same for the window's text as its own document (another fresh process). */
  cutMs: number;
  cutTokenizeMs: number;
  cutExtraMB: number;
  /** The engine's estimate of the extra peak (memory-plan.ts) for the window. */
  estimateMB: number;
  /** The cut-out document tokenized to the same tokens as the window. */
  sameTokens: boolean;
}

interface HugeRun {
  start: number;
  end: number;
  starts: number[];
  ms: number;
  tokenizeMs: number;
  extraMB: number;
  documentTokens: number;
  documentTokensEstimated: boolean;
  estimateMB: number;
}

/** Code-like lines up to `mb` MB: the samples' lines, numbered now and then so that lines differ. */
function hugeCode(mb: number): string {
  const lines = fs
    .readdirSync(path.join(ROOT, 'samples'))
    .filter((f) => /\.(ts|js|py|rs|h)$/.test(f))
    .sort()
    .flatMap((f) => fs.readFileSync(path.join(ROOT, 'samples', f), 'utf8').split('\n'));
  const parts: string[] = [];
  let chars = 0;
  for (let i = 0; chars < mb * 2 ** 20; i++) {
    const line = i % 11 === 0 ? `${lines[i % lines.length]} // ${i}` : lines[i % lines.length];
    parts.push(line);
    chars += line.length + 1;
  }
  return parts.join('\n');
}

/**
 * In this (fresh) process: a window of maxTokens in the middle of a generated MB-sized file, or
 * (cut given) the text of that window as its own document. The model worker is started first, so
 * that neither pays for it; the request has a cache key, as the extension's do.
 */
async function hugeChild(mb: number, maxTokens: number, cut?: { start: number; end: number }): Promise<HugeRun> {
  const file = hugeCode(mb);
  const text = cut ? file.slice(cut.start, cut.end) : file;
  const engine = await ModelRunner.open(MODEL_DIR);
  await new DocumentSession(engine).inspect({ text: 'x = 1\n', mode: 'softmax' });
  const rss0 = settledRss();
  const t0 = performance.now();
  const insp = await new DocumentSession(engine).inspect({ text, mode: 'softmax', maxTokens, centerOffset: Math.floor(text.length / 2), cacheKey: 'huge' });
  const ms = performance.now() - t0;
  const extraMB = peakRss() - rss0;
  await engine.dispose();
  return {
    ...insp.range,
    starts: insp.tokens.map((t) => t.start),
    ms,
    tokenizeMs: insp.timings.tokenizeMs,
    extraMB,
    documentTokens: insp.documentTokens,
    documentTokensEstimated: insp.documentTokensEstimated ?? false,
    estimateMB: insp.memory?.plannedMB ?? NaN,
  };
}

function hugeRun(args: string[]): HugeRun {
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--huge-child', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`bench: huge child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as HugeRun;
}

/** The window of a generated file, then the same window cut out as its own file, each in a fresh process. */
function huge(mb: number, maxTokens: number): HugeResult {
  const h = hugeRun([String(mb), String(maxTokens)]);
  const c = hugeRun([String(mb), String(maxTokens), String(h.start), String(h.end)]);
  return {
    fileMB: mb,
    windowTokens: h.starts.length,
    documentTokens: h.documentTokens,
    documentTokensEstimated: h.documentTokensEstimated,
    hugeMs: h.ms,
    hugeTokenizeMs: h.tokenizeMs,
    hugeExtraMB: h.extraMB,
    cutMs: c.ms,
    cutTokenizeMs: c.tokenizeMs,
    cutExtraMB: c.extraMB,
    estimateMB: h.estimateMB,
    sameTokens: c.starts.length === h.starts.length && c.starts.every((st, i) => st + h.start === h.starts[i]),
  };
}

function hugeReport(r: HugeResult, load: number): string {
  return (
    `| file | window tokens | document tokens | first inspection ms (tokenize) | extra peak MB | estimate MB | cut-out window ms (tokenize) | cut-out extra peak MB | time ratio |\n` +
    `|---|---|---|---|---|---|---|---|---|\n` +
    `| ${fmt(r.fileMB, 1)} MB | ${r.windowTokens} | ${r.documentTokensEstimated ? 'about ' : ''}${r.documentTokens} | ${fmt(r.hugeMs)} (${fmt(r.hugeTokenizeMs)}) | ${fmt(r.hugeExtraMB)} | ${fmt(r.estimateMB)} | ` +
    `${fmt(r.cutMs)} (${fmt(r.cutTokenizeMs)}) | ${fmt(r.cutExtraMB)} | ${fmt(r.hugeMs / r.cutMs, 2)}x |\n\n` +
    `Same tokens as the cut-out window: ${r.sameTokens ? 'yes' : 'no (its edges tokenize differently on their own)'}. Load average before: ${load.toFixed(2)} on ${os.cpus().length} CPUs. ` +
    `Target: extra peak <= 1,024 MB for 50 MB, time <= 2x the cut-out window.\n`
  );
}

interface MemoryCase {
  model: string;
  tokens: number;
  mode: Mode;
  extraMB: number;
  plan: InspectionMemory;
}

/**
 * In this (fresh) process: the model's graphs loaded by a tiny inspection in the mode (its
 * sessions are the baseline, as weights loaded), then one inspection of T tokens as the editor
 * asks for it (keys kept, one query row); its peak RSS above the settled RSS before it.
 */
async function memoryChild(T: number, mode: Mode): Promise<MemoryCase> {
  const runner = await ModelRunner.open(MODEL_DIR);
  const tokenizer = Tokenizer.fromFile(readManifest(MODEL_DIR).tokenizerPath);
  const text = await sourceText(tokenizer, T);
  // A tiny run loads the graphs (all but attention-split, a small weights-free one that loads during
  // the measured run and counts there): a larger one would leave freed memory that the C allocator
  // keeps and the measured run reuses, hiding part of its peak.
  await new DocumentSession(runner).inspect({ text: 'x = 1\n', mode, queryOffsets: [0], cacheKey: 'tiny' });
  const rss0 = settledRss();
  const insp = await new DocumentSession(runner).inspect({ text, mode, queryOffsets: [Math.floor(text.length / 2)], cacheKey: 'measured' });
  const extraMB = peakRss() - rss0;
  await runner.dispose();
  if (!insp.memory) throw new Error('bench: the inspection carries no memory plan');
  return { model: runner.model.id, tokens: insp.tokens.length, mode, extraMB, plan: insp.memory };
}

/** One conversion in this (fresh) process: seconds and the peak above the process before it. */
async function convertChild(hfDir: string, out: string): Promise<{ seconds: number; extraMB: number; parameters: number; modelType: string }> {
  const rss0 = settledRss();
  const r = await convertHfFolder(hfDir, out, { attentionGraphs: path.join(__dirname, '..', 'models') });
  return { seconds: r.seconds, extraMB: peakRss() - rss0, parameters: r.parameters, modelType: r.modelType };
}

/** Opening a model folder and one inspection of `tokens` tokens in this (fresh) process: times and memory. */
async function openAndInspectChild(modelDir: string, tokens: number): Promise<{ openS: number; weightsMB: number; inspectS: number; extraMB: number }> {
  const rss0 = settledRss();
  const t0 = performance.now();
  const runner = await ModelRunner.open(modelDir);
  await new DocumentSession(runner).inspect({ text: 'x = 1\n', mode: 'softmax', cacheKey: 'tiny' }); // loads every graph
  const openS = (performance.now() - t0) / 1000;
  const rss1 = settledRss();
  const text = await sourceText(Tokenizer.fromFile(readManifest(modelDir).tokenizerPath), tokens);
  const t1 = performance.now();
  await new DocumentSession(runner).inspect({ text, mode: 'softmax', cacheKey: 'measured' });
  const inspectS = (performance.now() - t1) / 1000;
  const extraMB = peakRss() - rss1;
  await runner.dispose();
  return { openS, weightsMB: rss1 - rss0, inspectS, extraMB };
}

/** `--convert HF_DIR...`: each checkpoint converted in a fresh process, then opened and inspected at 1,000 tokens in another. */
function convertTable(dirs: string[]): string {
  const lines = [
    '| checkpoint | type | parameters | convert s | convert extra peak MB | open s | process growth on open MB | inspect 1,000 tokens s | inspect extra peak MB |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const dir of dirs) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'al-bench-convert-'));
    fs.rmdirSync(out);
    try {
      const child = (...a: string[]): string => {
        const r = spawnSync(process.execPath, ['--expose-gc', __filename, ...a], { encoding: 'utf8', maxBuffer: 64 << 20 });
        if (r.status !== 0) throw new Error(`bench: ${a[0]} ${dir} failed: ${r.stderr}`);
        return r.stdout;
      };
      const c = JSON.parse(child('--convert-child', dir, out)) as { seconds: number; extraMB: number; parameters: number; modelType: string };
      const i = JSON.parse(child('--inspect-child', out, '1000')) as { openS: number; weightsMB: number; inspectS: number; extraMB: number };
      const line = `| ${path.basename(dir)} | ${c.modelType} | ${(c.parameters / 1e6).toFixed(1)} M | ${fmt(c.seconds, 1)} | ${fmt(c.extraMB)} | ${fmt(i.openS, 1)} | ${fmt(i.weightsMB)} | ${fmt(i.inspectS, 1)} | ${fmt(i.extraMB)} |`;
      process.stderr.write(`${line}\n`);
      lines.push(line);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }
  return lines.join('\n') + '\n';
}

/** `--memory`: the plan against the measured extra peak, each case in a fresh process. */
function memoryTable(lengths: number[], modes: Mode[]): string {
  const lines = ['| model | tokens | mode | planned MB | measured extra peak MB | measured / planned | plan terms MB: result, kept, working, call, garbage, tokenizer, allocator |', '|---|---:|---|---:|---:|---:|---|'];
  for (const T of lengths) {
    for (const mode of modes) {
      const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--memory-child', String(T), mode, MODEL_DIR], { encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`bench: memory child failed: ${r.stderr}`);
      const c = JSON.parse(r.stdout) as MemoryCase;
      const p = c.plan;
      const line = `| ${c.model} | ${c.tokens} | ${c.mode} | ${fmt(p.plannedMB)} | ${fmt(c.extraMB)} | ${fmt((100 * c.extraMB) / p.plannedMB)} % | ${[p.result, p.kept, p.working, p.call, p.garbage, p.tokenizer, p.allocator].map((v) => fmt(v)).join(', ')} |`;
      process.stderr.write(`${line}\n`);
      lines.push(line);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * `--live [tokens] [runs]`: CPU seconds of the process (model worker included) that one typed line
 * at the end of a T-token file costs in Live Mode, the foreground incremental run and the
 * background runs that follow it until they settle: with the shown mode's partner kept and resumed
 * (today's policy), and with every other mode run in full (the policy before it), side by side.
 */
async function live(tokens: number, runs: number): Promise<void> {
  const logs: string[] = [];
  const runner = await ModelRunner.open(MODEL_DIR, (line) => logs.push(line));
  const text = await sourceText(Tokenizer.fromFile(readManifest(MODEL_DIR).tokenizerPath), tokens);
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const mode: Mode = 'softmax';
  const partner = partnerOf(runner.modes, mode);
  const policies = { partner: partner ? [partner] : [], every: runner.modes.filter((m) => m !== mode) };
  const result: Record<string, { foreground: number[]; total: number[] }> = { partner: { foreground: [], total: [] }, every: { foreground: [], total: [] } };
  try {
    for (let r = 0; r < runs; r++) {
      for (const policy of ['partner', 'every'] as const) {
        let session = new DocumentSession(runner);
        const siblings = new SiblingRuns(() => session.busy);
        const settle = async (shown: Inspection): Promise<void> => {
          siblings.schedule('doc', session, shown, policies[policy], policy === 'partner');
          await siblings.wait('doc', shown, policies[policy], 10 * 60_000);
        };
        const keptRuns = policy === 'partner' ? 2 : 1;
        await settle((await session.runForeground({ text, mode, cacheKey: 'v1', keptRuns })) as Inspection);
        // The edit: the extension starts a new session of the document that resumes from the old one's kept runs.
        session = new DocumentSession(runner, { resumeFrom: session.resumable });
        const c0 = cpu();
        const shown = (await session.runForeground({ text: `${text}\n# ${r}\n`, mode, cacheKey: 'v2', keptRuns })) as Inspection;
        const c1 = cpu();
        if (shown.reusedTokens === 0) throw new Error(`bench: the edit did not resume: ${logs.slice(-2).join(' / ')}`);
        await settle(shown);
        const c2 = cpu();
        siblings.dispose();
        result[policy].foreground.push(c1 - c0);
        result[policy].total.push(c2 - c0);
      }
    }
    for (const policy of ['partner', 'every'] as const) {
      const fg = median(result[policy].foreground);
      const total = median(result[policy].total);
      console.log(
        `${policy === 'partner' ? 'partner kept and resumed' : 'every other mode, full runs'}: ${tokens} tokens, one line typed at the end: foreground ${fg.toFixed(3)} CPU s, foreground + background ${total.toFixed(3)} CPU s = ${(total / fg).toFixed(1)}x the foreground (medians of ${runs}; load ${os.loadavg()[0].toFixed(2)})`,
      );
    }
  } finally {
    await runner.dispose();
  }
}

function fmt(v: number | undefined, digits = 0): string {
  return v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, def: string): string => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : def);
  if (argv[0] === '--child') {
    const mode = argv[2];
    if (!isMode(mode)) throw new Error(`bench: unknown mode ${mode}`);
    MODEL_DIR = argv[5] ?? MODEL_DIR;
    const profileThreads = (argv[6] ?? argv[4] ?? '0').split(',');
    process.stdout.write(JSON.stringify(await child(Number(argv[1]), mode, Number(argv[3]), Number(argv[4] ?? 0), profileThreads)) + '\n');
    return;
  }
  if (argv[0] === '--memory-child') {
    const mode = argv[2];
    if (!isMode(mode)) throw new Error(`bench: unknown mode ${mode}`);
    MODEL_DIR = argv[3] ?? MODEL_DIR;
    process.stdout.write(JSON.stringify(await memoryChild(Number(argv[1]), mode)) + '\n');
    return;
  }
  if (argv[0] === '--memory') {
    if (argv.includes('--model')) MODEL_DIR = path.resolve(opt('--model', MODEL_DIR));
    const lengths = opt('--lengths', '1000,4000,8000,16000,32000').split(',').map(Number);
    const modes = opt('--modes', 'softmax,ssmax').split(',').filter(isMode);
    process.stdout.write(memoryTable(lengths, modes));
    return;
  }
  if (argv[0] === '--convert-child') {
    process.stdout.write(JSON.stringify(await convertChild(argv[1], argv[2])) + '\n');
    return;
  }
  if (argv[0] === '--inspect-child') {
    process.stdout.write(JSON.stringify(await openAndInspectChild(argv[1], Number(argv[2]))) + '\n');
    return;
  }
  if (argv[0] === '--convert') {
    process.stdout.write(convertTable(argv.slice(1)));
    return;
  }
  if (argv[0] === '--live') {
    await live(Number(argv[1] ?? 5500), Number(argv[2] ?? 3));
    return;
  }
  if (argv[0] === '--huge-child') {
    const cut = argv[3] === undefined ? undefined : { start: Number(argv[3]), end: Number(argv[4]) };
    process.stdout.write(JSON.stringify(await hugeChild(Number(argv[1]), Number(argv[2]), cut)) + '\n');
    return;
  }
  if (argv[0] === '--huge') {
    const mb = argv[1] && !argv[1].startsWith('--') ? Number(argv[1]) : 50;
    const load = os.loadavg()[0];
    const r = huge(mb, Number(opt('--max-tokens', '32768')));
    process.stdout.write(hugeReport(r, load));
    return;
  }
  if (argv[0] === '--incremental') {
    await incremental(Number(argv[1] ?? 4000), isMode(argv[2]) ? argv[2] : 'softmax', Number(argv[3] ?? 3));
    return;
  }
  const customModel = argv.includes('--model');
  if (customModel) MODEL_DIR = path.resolve(opt('--model', MODEL_DIR));
  const loadBefore = os.loadavg()[0];
  const lengths = opt('--lengths', '1000,4000,8000,16000,32000').split(',').map(Number);
  const modes = opt('--modes', MODES.join(',')).split(',').filter(isMode);
  const runs = Number(opt('--runs', '5'));
  // onnxruntime threads per graph call; 0: its default (the physical cores).
  const threads = Number(opt('--threads', '0'));
  const profileThreads = opt('--profile-threads', String(threads));
  const manifest = readManifest(MODEL_DIR);
  const info = manifest.info;

  const rows: LengthResult[] = [];
  const torch = new Map<string, TorchResult>();
  const torchNotes = new Set<string>();
  const withTorch = !argv.includes('--no-torch') && !customModel;
  for (const T of lengths) {
    for (const mode of modes) {
      // Fewer runs where one run takes seconds; at least 2 for a median of warm runs.
      const n = runs < 2 ? runs : T >= 16000 ? 2 : T >= 8000 ? Math.max(2, Math.floor(runs / 2)) : runs;
      const busy = await waitForIdle();
      const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--child', String(T), mode, String(n), String(threads), MODEL_DIR, profileThreads], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`bench: ${T} tokens ${mode} failed: ${r.stderr.trim()}`);
      const row = { ...(JSON.parse(r.stdout) as LengthResult), busy };
      rows.push(row);
      process.stderr.write(`bench: ${T} tokens ${mode}: warm ${fmt(row.warmMedianMs)} ms, cold ${fmt(row.coldMs)} ms, +${fmt(row.extraPeakMB)} MB, others ${fmt(100 * busy)}% busy\n`);
      if (withTorch && (mode === 'softmax' || mode === 'ssmax') && !eagerFits(info, T)) {
        torchNotes.add(`eager is not run from ${T} tokens: its ${info.layers * info.heads} weight matrices of T x T would need over 8 GB`);
      } else if (withTorch && (mode === 'softmax' || mode === 'ssmax')) {
        await waitForIdle();
        const t = torchBaseline(mode, [T], n);
        if (t.note) torchNotes.add(t.note);
        for (const x of t.results) torch.set(`${x.tokens}|${mode}`, x);
        process.stderr.write(`bench: ${T} tokens ${mode}, PyTorch eager: ${t.results.length ? fmt(t.results[0].medianMs) + ' ms' : t.note}\n`);
      }
    }
  }

  process.stderr.write('bench: sgemm probe\n');
  await waitForIdle();
  // Two probes: B an input (packed on every call, the rate the targets were set against) and B a
  // constant (prepacked, as the model's weights are: a stricter bound, reported beside it).
  const gflopsInput = await sgemm(1024, 7);
  const gflopsWeights = await sgemm(1024, 7, true);
  const gflops = Math.max(gflopsInput, gflopsWeights);

  const header =
    '| tokens | mode | warm median ms | warm min ms | model ms | calls | outside run ms | cold ms | first progress ms | extra peak MB | estimate MB | cold extra MB | PyTorch eager ms | speed-up | sgemm-bound ms | share of sgemm-bound | share, prepacked bound | share, mixed bound | others busy |\n' +
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) => {
    const bound = (causalFlops(manifest.dims, r.tokens) / (gflopsInput * 1e9)) * 1000;
    const strict = (causalFlops(manifest.dims, r.tokens) / (gflops * 1e9)) * 1000;
    const mixed = mixedBoundMs(manifest.dims, r.tokens, gflopsInput, gflopsWeights);
    const t = torch.get(`${r.tokens}|${r.mode}`);
    const p = r.profile?.[0];
    const share = (ms: number): string => (isRelevance(r.mode) ? 'n/a' : `${fmt((100 * ms) / r.modelMedianMs)}%`);
    return (
      `| ${r.tokens} | ${r.mode} | ${fmt(r.warmMedianMs)} | ${fmt(r.warmMinMs)} | ${fmt(r.modelMedianMs)} | ${p ? p.calls : 'n/a'} | ${p ? `${fmt(p.overheadMs)} (${fmt((100 * p.overheadMs) / p.totalMs)}%)` : 'n/a'} | ${fmt(r.coldMs)} | ${fmt(r.firstProgressMs)} | ${fmt(r.extraPeakMB)} | ${fmt(r.estimateMB)} | ${fmt(r.coldExtraMB)} | ` +
      `${t ? fmt(t.medianMs) : 'n/a'} | ${t ? fmt(t.medianMs / r.warmMedianMs, 1) + 'x' : 'n/a'} | ${isRelevance(r.mode) ? 'n/a' : fmt(bound)} | ${share(bound)} | ${share(strict)} | ${share(mixed)} | ${fmt(100 * (r.busy ?? NaN))}% |`
    );
  });
  const hover = rows.find((r) => r.hoverMedianUs !== undefined);
  const first1000 = rows.find((r) => r.tokens === 1000);
  const torchPeaks = [...torch.values()].map((t) => `${t.tokens} ${t.variant}: ${fmt(t.peakRssMB)} MB`).join(', ');
  const summary = [
    `model: ${info.id}, ${info.layers} layers x ${info.heads} heads, width ${info.width}, ${fmt(info.parameters / 1e6, 2)} M parameters, vocabulary ${info.vocabSize}`,
    `sgemm (1024^3 float32 MatMul through onnxruntime, same session options): ${fmt(gflopsInput, 1)} GFLOP/s with B an input, ${fmt(gflopsWeights, 1)} GFLOP/s with B a constant (prepacked); sgemm-bound ms uses the first, the prepacked bound the faster, the mixed bound the prepacked rate for the weight products and the input rate for q.k and w.v`,
    hover ? `hover lookup from cache at 4,000 tokens (cached() + tokenAt + topKeys): median ${fmt(hover.hoverMedianUs, 1)} µs` : '',
    hover ? `one Inspection at 4,000 tokens in memory (typed arrays + tokens, inspectionBytes): ${fmt(hover.payloadMB, 2)} MB, of which top-k index/weight ${fmt(topKMB(info.layers * info.heads, 4000, info.topK), 2)} MB` : '',
    first1000 ? `first inspection after open at 1,000 tokens (${first1000.mode}): open ${fmt(first1000.openMs)} ms + cold ${fmt(first1000.coldMs)} ms` : '',
    torchPeaks ? `PyTorch eager extra peak RSS: ${torchPeaks}` : '',
    ...[...torchNotes].map((n) => `PyTorch: ${n}`),
  ].filter((l) => l.length > 0);
  const table = `${header}\n${lines.join('\n')}`;
  const profileTable = profileLines(rows, manifest.dims, gflops);
  process.stdout.write(`${table}\n\n${summary.join('\n')}\n\n${profileTable}\n`);

  if (!argv.includes('--no-readme') && !customModel) {
    // The machine is shared; the 1-minute load average says how much else was running.
    const machine =
      `${cpuModel()}, ${os.cpus().length} cores, ${fmt(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ` +
      `onnxruntime-node ${onnxVersion()}; load average ${fmt(loadBefore, 2)} at the start, ${fmt(os.loadavg()[0], 2)} at the end`;
    writeReadme(`${table}\n\n${summary.map((x) => `- ${x}`).join('\n')}\n\nProfiled runs (bench/profile.ts):\n\n${profileTable}`, machine, runs);
  }
}

/**
 * `--incremental [tokens] [mode] [runs]`: Live Mode's re-inspection after one typed line at the end
 * and in the middle (resume.ts) against a full run of the same edited text; medians, model ms.
 */
async function incremental(tokens: number, mode: Mode, runs: number): Promise<void> {
  const runner = await ModelRunner.open(MODEL_DIR);
  try {
    const text = await sourceText(Tokenizer.fromFile(readManifest(MODEL_DIR).tokenizerPath), tokens);
    const times: Record<'full' | 'end' | 'middle', number[]> = { full: [], end: [], middle: [] };
    let reused = { end: 0, middle: 0 };
    for (let r = 0; r < runs; r++) {
      const edits = { end: `${text}\n// ${r}\n`, middle: `${text.slice(0, text.length >> 1)}\n// ${r}\n${text.slice(text.length >> 1)}` };
      for (const where of ['end', 'middle'] as const) {
        const session = new DocumentSession(runner);
        await session.runForeground({ text, mode });
        const inc = await session.runForeground({ text: edits[where], mode });
        const full = await new DocumentSession(runner).inspect({ text: edits[where], mode, keepKeys: false });
        if (!inc || inc.reusedTokens === 0) throw new Error(`bench: the ${where} edit did not resume`);
        reused = { ...reused, [where]: inc.reusedTokens };
        times[where].push(inc.timings.inferenceMs);
        times.full.push(full.timings.inferenceMs);
      }
    }
    const full = median(times.full);
    const load = os.loadavg()[0].toFixed(2);
    for (const where of ['end', 'middle'] as const) {
      const ms = median(times[where]);
      console.log(`${where} edit, ${tokens} tokens, ${mode}: ${ms.toFixed(0)} ms vs full ${full.toFixed(0)} ms = ${((100 * ms) / full).toFixed(1)}% (${reused[where]} tokens reused; load ${load})`);
    }
  } finally {
    await runner.dispose();
  }
}

/**
 * Per length, mode and thread count, the engine's profiled runs (bench/profile.ts): per graph kind,
 * calls, ms inside session.run and its GFLOP/s (matrix FLOPs as the sgemm bound counts them), and
 * the ms outside session.run (tensors, copies, summaries, dispatch).
 */
function profileLines(rows: LengthResult[], dims: ModelDims, gflops: number): string {
  const head =
    '| tokens | mode | threads | profiled ms | calls | outside run ms | share, prepacked bound | ' +
    KINDS.map((k) => `${k} calls / run ms / GFLOP/s`).join(' | ') +
    ' |\n|---:|---|---:|---:|---:|---:|---:|' +
    KINDS.map(() => '---:').join('|') +
    '|';
  const lines = rows.flatMap((r) =>
    (r.profile ?? []).map((p) => {
      const flops = kindFlops(dims, r.tokens);
      const bound = (causalFlops(dims, r.tokens) / (gflops * 1e9)) * 1000;
      const cells = KINDS.map((k) => {
        const s = p.kinds[k];
        return `${s.calls} / ${fmt(s.runMs)} / ${flops[k] ? fmt(flops[k] / (s.runMs / 1000) / 1e9, 1) : '-'}`;
      });
      return `| ${r.tokens} | ${r.mode} | ${p.threads === '0' ? 'default' : p.threads} | ${fmt(p.totalMs)} | ${p.calls} | ${fmt(p.overheadMs)} (${fmt((100 * p.overheadMs) / p.totalMs)}%) | ${fmt((100 * bound) / p.totalMs)}% | ${cells.join(' | ')} |`;
    }),
  );
  return `${head}\n${lines.join('\n')}`;
}

function onnxVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function writeReadme(tables: string, machine: string, runs: number): void {
  const date = new Date().toISOString().slice(0, 10);
  const text = `# Benchmark

\`npm run bench\` (builds, then \`node dist/bench.js\`). Each length and mode runs in a fresh Node
process: one cold inspection (session creation included), then ${runs} warm ones (fewer from 8,000
tokens, 2 from 16,000) on different cache keys so that the cache never answers. The text is the
repository's own source code cut to exactly that many tokens, with one query row requested (as the
editor does). The model runs layer by layer, attention in causal query blocks (models/README.md).

- **warm median ms**: whole inspection (tokenize + model + shaping), median of the warm runs;
  **warm min ms**: the least disturbed run. **model ms**: the model worker's run alone.
  **cold ms**: the first inspection, with session creation.
- **calls**: graph calls of one inspection; **outside run ms**: the median profiled run's time
  outside session.run (tensors, copies, the summaries' JS, dispatch) and its share of that run
  (bench/profile.ts: the engine's runLayered in the child process, every call timed; the last
  table splits it per graph kind and per intra-op thread setting).
- **first progress ms**: from the call to the first progress report, first warm run.
- **extra peak MB**: for each warm inspection, the kernel's peak-RSS mark (VmHWM, reset through
  /proc/self/clear_refs after a full GC) minus the RSS just before it; the largest over the warm
  runs (the result, kept in the cache, is part of it). **estimate MB**: the engine's own estimate
  before the run (src/core/engine/memory-plan.ts), which decides the window under a memory budget.
  **cold extra MB**: the same for the first inspection, which also loads the graphs.
- **PyTorch eager**: \`training/bench_torch.py\`, the training model in eval mode returning every
  layer's attention weights (what BertViz users run), same weights and lengths, median of warm
  runs; speed-up = its median / our warm median. Not run where its T x T weights would pass 8 GB.
- **sgemm-bound ms**: the matrix FLOPs the causal work of that length needs (every weight applied
  to each token, the output layer, and per layer and head q.k and w.v over the causal half only)
  at the sgemm rate measured below; **share of sgemm-bound**: that time over the model ms (100% =
  as fast as the matrix products alone at this machine's sgemm rate).
- **others busy**: the share of the 2 cores other processes used in the second before the length
  started; each length waits up to 3 minutes for it to drop below 10%.

Machine: ${machine}. Date: ${date}.

${tables}

Targets: 1,000 / 4,000 / 8,000 / 16,000 / 32,000 tokens <= 80 ms / 0.6 s / 1.5 s / 5 s / 20 s;
>= 50% of the sgemm-bound time from 4,000 tokens; >= 3x PyTorch eager at 1,000 and 4,000; extra peak
<= 400 MB at 4,000 and <= 1.5 GB at 32,000. As ratios measured in one run (absolute times vary
between shared machines): the shipped pair >= 50% of the sgemm bound at 1,000 tokens and >= 65% from
4,000, >= 3x PyTorch eager from 4,000; a 135 M-shaped model (\`--model DIR\`, README "Use your own
model") >= 50% at 1,000 and 4,000 tokens.
`;
  const file = path.join(ROOT, 'bench', 'README.md');
  const notes = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('<!-- notes -->')[1] : undefined;
  fs.writeFileSync(file, notes === undefined ? text : `${text}\n<!-- notes -->${notes}`);
  process.stderr.write(`bench: wrote ${file}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
