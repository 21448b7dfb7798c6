// `attention-lens inspect FILE ...`: the same engine as the extension, headless.
// Any error (bad arguments, unreadable or binary file, bad offset, model problem) ends the run
// with one line on stderr and exit code 2.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InspectionEngine } from './core/inspection-engine';
import type { Inspection, Mode, ModelInfo } from './core/inspection-types';
import { MODES, isMode } from './core/inspection-types';
import { toInspectJson } from './core/export-json';
import { renderHtmlReport } from './core/export-html';
import { renderHeatmapPng } from './core/export-png';

const USAGE = `usage: attention-lens inspect FILE [options]

Runs the model over FILE and reports per-head attention.

options:
  --mode MODE        ${MODES.join(' | ')} (default softmax)
  --query OFFSET     UTF-16 offset whose full attention rows are wanted (repeatable)
  --focus OFFSET     centre of the inspected window when FILE is over the token limit
                     (default: the first --query, else 0)
  --json             write the attention-lens/inspect@1 JSON to stdout
  --html OUT         write a self-contained HTML report to OUT
  --png OUT          write the pooled attention heatmap of one head to OUT
  --layer L --head H the head for --png and --html (default 0 0)
  --size PX          --png image size (default 512)
  --model DIR        model folder (default: models/ next to the CLI)
  --max-tokens N     token limit (default 8 x the model's training context)
  -h, --help         this text
Without --json, --html or --png, prints a summary per head.`;

interface Args {
  file: string;
  mode: Mode;
  queries: number[];
  focus?: number;
  output: { kind: 'json' } | { kind: 'html' | 'png'; path: string } | { kind: 'summary' };
  modelDir: string;
  maxTokens?: number;
  layer?: number;
  head?: number;
  size: number;
}

function integer(flag: string, value: string, min: number): number {
  if (!/^-?\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new Error(`${flag} needs an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function parseArgs(argv: string[]): Args | 'help' {
  if (argv.includes('-h') || argv.includes('--help')) return 'help';
  const [command, ...rest] = argv;
  if (command === undefined) throw new Error('missing command; try: attention-lens inspect FILE (or --help)');
  if (command !== 'inspect') throw new Error(`unknown command ${JSON.stringify(command)}; the only command is inspect (see --help)`);
  const args: Partial<Args> & { queries: number[] } = { queries: [], mode: 'softmax', size: 512, modelDir: path.join(__dirname, '..', 'models') };
  const outputs: Args['output'][] = [];
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--mode': {
        const m = value();
        if (!isMode(m)) throw new Error(`unknown mode ${JSON.stringify(m)}; modes: ${MODES.join(', ')}`);
        args.mode = m;
        break;
      }
      case '--query':
        args.queries.push(integer(flag, value(), 0));
        break;
      case '--focus':
        args.focus = integer(flag, value(), 0);
        break;
      case '--json':
        outputs.push({ kind: 'json' });
        break;
      case '--html':
      case '--png':
        outputs.push({ kind: flag === '--html' ? 'html' : 'png', path: value() });
        break;
      case '--model':
        args.modelDir = value();
        break;
      case '--max-tokens':
        args.maxTokens = integer(flag, value(), 1);
        break;
      case '--layer':
        args.layer = integer(flag, value(), 0);
        break;
      case '--head':
        args.head = integer(flag, value(), 0);
        break;
      case '--size':
        args.size = integer(flag, value(), 1);
        break;
      default:
        if (flag.startsWith('-')) throw new Error(`unknown option ${flag} (see --help)`);
        if (args.file !== undefined) throw new Error(`one FILE only; got ${JSON.stringify(args.file)} and ${JSON.stringify(flag)}`);
        args.file = flag;
    }
  }
  if (args.file === undefined) throw new Error('missing FILE; usage: attention-lens inspect FILE [options]');
  if (outputs.length > 1) throw new Error('choose one of --json, --html OUT, --png OUT');
  return { ...args, file: args.file, output: outputs[0] ?? { kind: 'summary' } } as Args;
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

function checkHead(model: ModelInfo, layer: number, head: number): void {
  if (layer >= model.layers) throw new Error(`--layer ${layer} is out of range: the model has layers 0..${model.layers - 1}`);
  if (head >= model.heads) throw new Error(`--head ${head} is out of range: the model has heads 0..${model.heads - 1}`);
}

function summary(insp: Inspection, file: string): string {
  const lines = [
    `${file}: ${insp.tokens.length} tokens${insp.windowed ? ` of ${insp.documentTokens} (window: offsets ${insp.range.start}..${insp.range.end})` : ''}, ` +
      `model ${insp.model.id}, mode ${insp.mode}, ${insp.timings.totalMs.toFixed(0)} ms (model ${insp.timings.inferenceMs.toFixed(0)} ms)`,
    'layer head  meanFocus  meanEntropy  meanDistance',
    ...insp.heads.map(
      (h) =>
        `${String(h.layer).padStart(5)} ${String(h.head).padStart(4)}  ${h.meanFocus.toFixed(3).padStart(9)}  ` +
        `${h.meanEntropy.toFixed(3).padStart(11)}  ${h.meanDistance.toFixed(1).padStart(12)}`,
    ),
  ];
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args === 'help') {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const text = readDocument(args.file);
  if (args.focus !== undefined && args.focus > text.length) throw new Error(`--focus ${args.focus} is beyond the end of ${args.file} (length ${text.length})`);
  for (const q of args.queries) {
    if (q > text.length) throw new Error(`--query ${q} is beyond the end of ${args.file} (length ${text.length})`);
  }
  const engine = await InspectionEngine.open(args.modelDir);
  try {
    if (!engine.modes.includes(args.mode)) throw new Error(`mode ${args.mode} is not available for model ${engine.model.id}; modes: ${engine.modes.join(', ')}`);
    const layer = args.layer ?? 0;
    const head = args.head ?? 0;
    checkHead(engine.model, layer, head);
    const insp = await engine.inspect({ text, mode: args.mode, queryOffsets: args.queries, focusOffset: args.focus, maxTokens: args.maxTokens });
    const out = args.output;
    if (out.kind === 'json') {
      process.stdout.write(JSON.stringify(toInspectJson(insp)) + '\n');
    } else if (out.kind === 'html') {
      const html = renderHtmlReport(insp, { title: path.basename(args.file), layer: args.layer, head: args.head });
      writeOutput(out.path, html);
    } else if (out.kind === 'png') {
      writeOutput(out.path, renderHeatmapPng(insp, layer, head, args.size));
    } else {
      process.stdout.write(summary(insp, args.file));
    }
  } finally {
    await engine.dispose();
  }
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
