// `attention-lens inspect FILE ...`: the same engine as the extension, headless.
// `attention-lens convert HF_DIR OUT_DIR`: turns a Hugging Face checkpoint folder into a model
// folder (src/core/convert), in this process.
// Any error (bad arguments, unreadable or binary file, bad offset, model problem) ends the run
// with one line on stderr and exit code 2.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from 'node:util';
import type { ConvertProgress, ConvertResult } from './core/convert/convert-model';
import { convertHfFolder } from './core/convert/convert-model';
import { convertedModel, defaultCacheRoot, isHfFolder } from './core/convert/model-store';
import { DocumentSession } from './core/engine/document-session';
import { ModelRunner, exactNeedle } from './core/engine/runner';
import type { NeedleCurve, TokenSpan } from './core/reading/needle';
import { bestNeedleHead, tokenSpan } from './core/reading/needle';
import type { ExportFormat } from './core/export/formats';
import { exportInspection } from './core/export/formats';
import type { Inspection, ModelInfo } from './core/inspection-types';
import { focusOf } from './core/reading/selection';
import { relevanceSummaries } from './core/export/json';
import { COLOR_SCALES, STRENGTH_STEPS, colouredValues, stepScale, stepShares } from './shared/color-scale';
import type { HeadSelection, Mode } from './shared/vocabulary';
import { MODES, headLabel, isMode, isRelevance, selectionLabel } from './shared/vocabulary';
import { sameQuantity } from './shared/compare';

/** The shipped model folder: the default model and the attention graphs every converted model copies. */
const SHIPPED_MODELS = path.join(__dirname, '..', 'models');

const USAGE = `usage: attention-lens inspect FILE [options]
       attention-lens convert HF_DIR OUT_DIR [--id NAME]

Runs the model over FILE and reports per-head attention.

options:
  --mode MODE        ${MODES.join(' | ')} (default softmax; screening where the
                     model folder has the variant: relevance per key, not weights)
  --query OFFSET     UTF-16 offset whose full attention rows (screening: relevance rows) are wanted (repeatable)
  --center OFFSET    centre of the inspected window when FILE is over the token limit
                     (default: the first --query, else 0)
  --needle START:END UTF-16 offsets of a span (a value, a name): how much attention reaches
                     its tokens from every later token, exact, per head (summary, --json, --svg)
  --json             write the attention-lens/inspect@1 JSON to stdout
  --html OUT         write a self-contained HTML report to OUT
  --png OUT          write the pooled attention heatmap to OUT
  --svg OUT          write an SVG figure to OUT: the map, focus by position and the needle
  --compare MODE     with --svg: a second mode of the same window (difference map, second curves)
  --color-steps      print the share of the overlay's tokens in each colour step, per colour
                     scale (attentionLens.colorScale), for the head of --layer/--head
  --layer L --head H the head for --png, --html, --svg and --color-steps, counted from 1 (L1 H1 is the first);
                     or --head mean | max over every head (default mean)
  --size PX          --png image size (default 512)
  --model DIR        model folder (default: models/ next to the CLI), or a Hugging Face folder:
                     converted on first use into $XDG_CACHE_HOME/attention-lens (default
                     ~/.cache/attention-lens) and reused while its files are unchanged
  --max-tokens N     token limit (default 16 x the model's training context, at least 32768)
  --memory-budget MB memory one inspection may take; a longer FILE is inspected in a window
                     that fits (default: half the free memory, at most 4096)
  -h, --help         this text
Without --json, --html or --png, prints a summary per head.

convert writes a model folder for --model (or the setting attentionLens.modelPath) from a
Hugging Face checkpoint folder (config.json, tokenizer.json, model.safetensors or its shards; F32,
F16 or BF16), in a few seconds for a small model. Supported: gpt2, llama (Llama 1-3.x), mistral,
qwen2, qwen3 and gemma3_text. Nothing is written to OUT_DIR unless the conversion succeeds.
  --id NAME          model id in models.json (default: HF_DIR's folder name)`;

interface Args {
  file: string;
  mode: Mode;
  queries: number[];
  center?: number;
  needle?: { start: number; end: number };
  output: { kind: 'json' } | { kind: 'html' | 'png' | 'svg'; path: string } | { kind: 'summary' } | { kind: 'color-steps' };
  compare?: Mode;
  modelDir: string;
  maxTokens?: number;
  memoryBudgetMB?: number;
  selection: HeadSelection;
  size: number;
}

function integer(flag: string, value: string, min: number): number {
  if (!/^-?\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new Error(`${flag} needs an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

const INSPECT_OPTIONS = {
  mode: { type: 'string', default: 'softmax' },
  query: { type: 'string', multiple: true, default: [] },
  center: { type: 'string' },
  needle: { type: 'string' },
  json: { type: 'boolean' },
  html: { type: 'string' },
  png: { type: 'string' },
  svg: { type: 'string' },
  compare: { type: 'string' },
  'color-steps': { type: 'boolean' },
  layer: { type: 'string' },
  head: { type: 'string' },
  size: { type: 'string', default: '512' },
  model: { type: 'string' },
  'max-tokens': { type: 'string' },
  'memory-budget': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

const CONVERT_OPTIONS = {
  id: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, its errors reworded as one line that names the flag. */
function parse<O extends Options>(argv: string[], options: O) {
  for (;;) {
    try {
      return parseArgs({ args: argv, allowPositionals: true, options });
    } catch (err) {
      const code = (err as { code?: string }).code;
      const flag = /'(-[-\w]+)/.exec((err as Error).message)?.[1] ?? '';
      if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new Error(`unknown option ${flag} (see --help)`);
      const i = argv.indexOf(flag);
      const next = argv[i + 1];
      if (code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || i < 0 || next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value`);
      // A value starting with a dash (e.g. a negative number) is still the flag's value; the checks below name it.
      argv = [...argv.slice(0, i), `${flag}=${next}`, ...argv.slice(i + 2)];
    }
  }
}

function parseCommandLine(argv: string[], defaultModelDir: string): Args | 'help' {
  const { values: v, positionals } = parse(argv, INSPECT_OPTIONS);
  if (v.help) return 'help';
  const [command, ...files] = positionals;
  if (command === undefined) throw new Error('missing command; try: attention-lens inspect FILE (or --help)');
  if (command !== 'inspect') throw new Error(`unknown command ${JSON.stringify(command)}; the commands are inspect and convert (see --help)`);
  if (files.length === 0) throw new Error('missing FILE; usage: attention-lens inspect FILE [options]');
  if (files.length > 1) throw new Error(`one FILE only; got ${JSON.stringify(files[0])} and ${JSON.stringify(files[1])}`);
  if (!isMode(v.mode)) throw new Error(`unknown mode ${JSON.stringify(v.mode)}; modes: ${MODES.join(', ')}`);
  const outputs: Args['output'][] = [
    ...(v.json ? [{ kind: 'json' as const }] : []),
    ...(v.html !== undefined ? [{ kind: 'html' as const, path: v.html }] : []),
    ...(v.png !== undefined ? [{ kind: 'png' as const, path: v.png }] : []),
    ...(v.svg !== undefined ? [{ kind: 'svg' as const, path: v.svg }] : []),
    ...(v['color-steps'] ? [{ kind: 'color-steps' as const }] : []),
  ];
  if (outputs.length > 1) throw new Error('choose one of --json, --html OUT, --png OUT, --svg OUT, --color-steps');
  if (v.compare !== undefined) {
    if (!isMode(v.compare)) throw new Error(`unknown --compare mode ${JSON.stringify(v.compare)}; modes: ${MODES.join(', ')}`);
    if (v.svg === undefined) throw new Error('--compare goes with --svg OUT');
    if (v.compare === v.mode) throw new Error(`--compare ${v.compare} is the --mode itself; name another mode`);
  }
  const selection = selectionOf(v.layer, v.head);
  if (isMode(v.compare) && !sameQuantity(v.mode, v.compare) && selection.kind === 'head') {
    throw new Error(`--compare between ${v.mode} and ${v.compare}: screening's tiles do not pair with heads; use --head mean or --head max`);
  }
  return {
    file: files[0],
    mode: v.mode,
    queries: v.query.map((q) => integer('--query', q, 0)),
    center: v.center === undefined ? undefined : integer('--center', v.center, 0),
    compare: v.compare as Mode | undefined,
    needle: v.needle === undefined ? undefined : needleRange(v.needle),
    output: outputs[0] ?? { kind: 'summary' },
    modelDir: v.model ?? defaultModelDir,
    maxTokens: v['max-tokens'] === undefined ? undefined : integer('--max-tokens', v['max-tokens'], 1),
    memoryBudgetMB: v['memory-budget'] === undefined ? undefined : integer('--memory-budget', v['memory-budget'], 1),
    selection,
    size: integer('--size', v.size, 1),
  };
}

/** --needle START:END, document offsets, START < END. */
function needleRange(value: string): { start: number; end: number } {
  const m = /^(\d+):(\d+)$/.exec(value);
  if (!m) throw new Error(`--needle needs START:END, two offsets, got ${JSON.stringify(value)}`);
  const start = integer('--needle', m[1], 0);
  const end = integer('--needle', m[2], 0);
  if (end <= start) throw new Error(`--needle ${value}: END must be after START`);
  return { start, end };
}

/** --layer/--head, counted from 1, or --head mean|max. */
function selectionOf(layer: string | undefined, head: string | undefined): HeadSelection {
  if (head === 'mean' || head === 'max') {
    if (layer !== undefined) throw new Error(`--layer goes with a numbered --head, not --head ${head}`);
    return { kind: 'aggregate', how: head };
  }
  if (layer === undefined && head === undefined) return { kind: 'aggregate', how: 'mean' };
  return { kind: 'head', layer: integer('--layer', layer ?? '1', 1) - 1, head: integer('--head', head ?? '1', 1) - 1 };
}

function readDocument(file: string): string {
  let bytes: Buffer;
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw new Error(`${file} is a directory, not a file`);
    bytes = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === undefined) throw err;
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (bytes.length === 0) throw new Error(`${file} is empty: nothing to inspect`);
  if (bytes.includes(0)) throw new Error(`${file} looks binary (it holds NUL bytes): not inspected`);
  // Offsets are VS Code's: a leading byte order mark is not part of the document.
  return bytes.toString('utf8').replace(/^\uFEFF/, '');
}

function checkSelection(model: ModelInfo, sel: HeadSelection): void {
  if (sel.kind === 'aggregate') return;
  const { layers, heads } = model;
  if (sel.layer >= layers) throw new Error(`--layer ${sel.layer + 1} is out of range: the model has layers 1..${layers}`);
  if (sel.head >= heads) throw new Error(`--head ${sel.head + 1} is out of range: the model has heads 1..${heads}`);
}

function needleSummary(insp: Inspection, span: TokenSpan, curve: NeedleCurve): string {
  const heads = insp.model.heads;
  const best = bestNeedleHead(curve);
  const mean = (m: Float32Array): number => (m.length === 0 ? 0 : m.reduce((a, b) => a + b, 0) / m.length);
  const text = insp.tokens
    .slice(span.start, span.end)
    .map((t) => t.text)
    .join('');
  return (
    `needle ${JSON.stringify(text)} (tokens ${span.start}..${span.end - 1}), exact, from ${insp.tokens.length - span.end} later tokens: ` +
    `best head ${headLabel(Math.floor(best / heads), best % heads)} (mean ${isRelevance(insp.mode) ? 'relevance' : 'mass'} ${mean(curve.perHead[best]).toFixed(4)}), ` +
    `mean over heads ${mean(curve.mean).toFixed(4)}, max over heads up to ${Math.max(...curve.max).toFixed(4)}\n`
  );
}

function summary(insp: Inspection, file: string): string {
  const title =
    `${file}: ${insp.tokens.length} tokens${insp.windowed ? ` of ${insp.documentTokensEstimated ? 'about ' : ''}${insp.documentTokens} (window: offsets ${insp.range.start}..${insp.range.end}, limited by ${insp.windowReason ?? 'the token limit'})` : ''}, ` +
    `model ${insp.model.id}, mode ${insp.mode}, ${insp.timings.totalMs.toFixed(0)} ms (model ${insp.timings.inferenceMs.toFixed(0)} ms)`;
  const relevance = relevanceSummaries(insp);
  // The head column is as wide as its longest label ("L11 H11"), so the columns stay aligned.
  const labels = insp.heads.map((h) => headLabel(h.layer, h.head));
  const width = Math.max(5, ...labels.map((l) => l.length));
  const table = (columns: string[], rows: number[][], digits: number[]): string[] => [
    ['head'.padStart(width), ...columns].join('  '),
    ...rows.map((row, i) => [labels[i].padStart(width), ...row.map((v, c) => v.toFixed(digits[c]).padStart(columns[c].length))].join('  ')),
  ];
  if (relevance) {
    // Relevance, not weight: the largest relevance of a query, the share of causal keys passing, the row's sum.
    const rows = insp.heads.map((h, lh) => [h.meanFocus, relevance[lh].passFraction, relevance[lh].meanTotalRelevance, h.meanDistance]);
    return [`${title}; relevance per key in [0, 1], not normalised`, ...table(['maxRelevance', 'passFraction', 'meanTotalRelevance', 'meanDistance'], rows, [3, 3, 3, 1])].join('\n') + '\n';
  }
  const rows = insp.heads.map((h) => [h.meanFocus, h.meanEntropy, h.meanDistance]);
  return [title, ...table(['meanFocus', 'meanEntropy', 'meanDistance'], rows, [3, 3, 1])].join('\n') + '\n';
}

/** The share of the overlay's tokens (whitespace left out, as in the editor) in each colour step, per scale. */
function colorSteps(insp: Inspection, sel: HeadSelection, file: string): string {
  const values = colouredValues(focusOf(insp, sel), insp.tokens.map((t) => t.text));
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`.padStart(7);
  const steps = Array.from({ length: STRENGTH_STEPS }, (_, k) => `step ${k + 1}`.padStart(7));
  const lines = [
    `${file}: ${values.length} coloured tokens of ${insp.tokens.length}, mode ${insp.mode}, ${selectionLabel(sel)} focus, model ${insp.model.id}`,
    `scale   ${steps.join(' ')}   (step 1 faintest)`,
    ...COLOR_SCALES.map((scale) => `${scale.padEnd(6)}  ${stepShares(stepScale(scale, values), values).map(pct).join(' ')}`),
  ];
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'convert') {
    await convert(argv.slice(1));
    return;
  }
  const args = parseCommandLine(argv, SHIPPED_MODELS);
  if (args === 'help') {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const text = readDocument(args.file);
  // The engine checks these too; here the message names the flag and the file.
  if (args.center !== undefined && args.center > text.length) throw new Error(`--center ${args.center} is beyond the end of ${args.file} (length ${text.length})`);
  for (const q of args.queries) {
    if (q > text.length) throw new Error(`--query ${q} is beyond the end of ${args.file} (length ${text.length})`);
  }
  if (args.needle && args.needle.end > text.length) throw new Error(`--needle ${args.needle.start}:${args.needle.end} is beyond the end of ${args.file} (length ${text.length})`);
  const runner = await ModelRunner.open(await modelFolder(args.modelDir), () => undefined, { memoryBudgetBytes: args.memoryBudgetMB === undefined ? undefined : args.memoryBudgetMB * 1024 * 1024 });
  try {
    checkSelection(runner.modelOf(args.mode), args.selection);
    // On a terminal, a long run shows how far it is (stderr, one line rewritten).
    const progress = process.stderr.isTTY ? (done: number): void => void process.stderr.write(`\rattention-lens: ${Math.floor(done * 100)}%`) : undefined;
    const session = new DocumentSession(runner);
    const request = { text, queryOffsets: args.queries, centerOffset: args.center ?? args.needle?.start, maxTokens: args.maxTokens };
    const insp = await session.inspect({ ...request, mode: args.mode }, undefined, progress);
    // The second mode runs on the same window (the session reuses it).
    const other = args.compare ? await session.inspect({ ...request, mode: args.compare }, undefined, progress) : undefined;
    if (progress) process.stderr.write('\r\x1b[K');
    let needle: { range: { start: number; end: number }; span: TokenSpan; curve: NeedleCurve } | undefined;
    if (args.needle) {
      const span = tokenSpan(insp, args.needle.start, args.needle.end);
      if (!span || span.end >= insp.tokens.length) {
        throw new Error(`--needle ${args.needle.start}:${args.needle.end} is outside the inspected window (offsets ${insp.range.start}..${insp.range.end}), or no token follows it`);
      }
      needle = { range: args.needle, span, curve: await exactNeedle(runner, insp, span, { text }) };
    }
    const otherNeedle = other && needle ? await exactNeedle(runner, other, needle.span, { text }) : undefined;
    const out = args.output;
    if (out.kind === 'summary') {
      process.stdout.write(summary(insp, args.file) + (needle ? needleSummary(insp, needle.span, needle.curve) : ''));
      return;
    }
    if (out.kind === 'color-steps') {
      process.stdout.write(colorSteps(insp, args.selection, args.file));
      return;
    }
    const format: ExportFormat = out.kind;
    const bytes = exportInspection(insp, format, {
      selection: args.selection,
      title: path.basename(args.file),
      pngPx: args.size,
      json: { modes: runner.modes, needle },
      svg: { other, needle: needle && { span: needle.span, curves: otherNeedle ? [needle.curve, otherNeedle] : [needle.curve] } },
    });
    if (out.kind === 'json') process.stdout.write(bytes);
    else writeOutput(out.path, bytes);
  } finally {
    await runner.dispose();
  }
}

/** `convert HF_DIR OUT_DIR`: the converter of the extension, in this process, with progress on a terminal. */
async function convert(argv: string[]): Promise<void> {
  const { values: v, positionals } = parse(argv, CONVERT_OPTIONS);
  if (v.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (positionals.length !== 2) throw new Error('usage: attention-lens convert HF_DIR OUT_DIR [--id NAME]');
  const [hfDir, outDir] = positionals;
  const result = await interruptible((signal) => convertHfFolder(hfDir, outDir, { attentionGraphs: SHIPPED_MODELS, id: v.id, signal, onProgress: convertProgress() }));
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  process.stdout.write(`attention-lens: ${describeConverted(result)} -> ${outDir} in ${result.seconds.toFixed(1)} s; inspect with --model ${outDir}\n`);
}

/** Runs a conversion that Ctrl-C or SIGTERM aborts: it stops at its next graph and removes its partial folder. */
async function interruptible<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.on('SIGINT', stop).on('SIGTERM', stop);
  try {
    return await run(abort.signal);
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

/** On a terminal, conversion progress on one rewritten stderr line. */
function convertProgress(): ((p: ConvertProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (p) => void process.stderr.write(`\rattention-lens: converting, ${p.tensors} of ${p.tensorsTotal} tensors, ${Math.round(p.bytes / 2 ** 20)} of ${Math.round(p.bytesTotal / 2 ** 20)} MB`);
}

function describeConverted(r: ConvertResult): string {
  const sliding = r.slidingLayers ? `, ${r.slidingLayers} sliding-window layers` : '';
  return `converted ${r.modelType} (${r.layers} layers, ${r.heads} heads, ${r.kvHeads} kv heads${sliding}, ${r.parameters.toLocaleString('en-US')} parameters)`;
}

/** --model DIR: a model folder as it is, or a Hugging Face folder converted on first use into the cache. */
async function modelFolder(dir: string): Promise<string> {
  if (!isHfFolder(dir)) return dir;
  const { dir: converted, converted: result } = await interruptible((signal) => convertedModel(dir, defaultCacheRoot(), { attentionGraphs: SHIPPED_MODELS, signal, onProgress: convertProgress() }));
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  if (result) process.stderr.write(`attention-lens: ${describeConverted(result)} into ${converted} (reused next time)\n`);
  return converted;
}

function writeOutput(file: string, data: string | Buffer): void {
  try {
    fs.writeFileSync(file, data);
  } catch (err) {
    throw new Error(`cannot write ${file}: ${(err as Error).message}`);
  }
  process.stdout.write(`attention-lens: wrote ${file}\n`);
}

// A closed pipe (e.g. `| head`) is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`attention-lens: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exitCode = 2;
});
