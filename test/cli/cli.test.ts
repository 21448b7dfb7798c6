// The built CLI (dist/cli.js) as a user runs it: outputs, and every error path as one stderr line with exit code 2.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InspectJson } from '../../src/core/export/json';
import { HEAD_ROLES, ROLE_THRESHOLDS } from '../../src/core/reading/head-roles';
import { readManifest } from '../../src/core/model/manifest';
import { CLI, MODEL_DIR, ROOT, SHORT_CODE } from '../common/fixtures';
import { screeningModel } from '../common/screening-model';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; a first argument { env } adds to its environment. */
function cli(...args: (string | { env: NodeJS.ProcessEnv })[]): Result {
  const options = typeof args[0] === 'object' ? (args.shift() as { env: NodeJS.ProcessEnv }) : { env: {} };
  const r = spawnSync(process.execPath, [CLI, ...(args as string[])], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...options.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertFails(r: Result, message: RegExp, prefix = /^attention-lens: /): void {
  assert.equal(r.code, 2, `exit code 2, got ${r.code}; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0], prefix);
  assert.match(lines[0], message);
}

/** Entropy (nats) of one attention row. */
function entropy(row: number[]): number {
  return -row.reduce((sum, a) => (a > 0 ? sum + a * Math.log(a) : sum), 0);
}

describe('CLI', function () {
  this.timeout(60_000);
  let dir: string;
  let code: string;
  before(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run node esbuild.js first`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-cli-'));
    code = path.join(dir, 'lru-cache.js');
    fs.writeFileSync(code, SHORT_CODE);
  });
  after(() => fs.rmSync(dir, { recursive: true }));

  describe('outputs', () => {
    it('--help prints usage and exits 0', () => {
      const r = cli('--help');
      assert.equal(r.code, 0);
      assert.match(r.stdout, /usage: attention-lens inspect FILE/);
      assert.match(r.stdout, /--mode MODE +softmax \| ssmax \| ssmax-posthoc/);
    });

    it('--color-steps prints the share of tokens per colour step for every scale; rank splits them into sixths', () => {
      const r = cli('inspect', code, '--color-steps', '--mode', 'ssmax');
      assert.equal(r.code, 0, r.stderr);
      const [head, columns, ...rows] = r.stdout.trim().split('\n');
      assert.match(head, /\d+ coloured tokens of \d+, mode ssmax, all heads: mean focus/);
      assert.match(columns, /step 1 +step 2 +step 3 +step 4 +step 5 +step 6/);
      assert.deepEqual(rows.map((row) => row.split(/\s+/)[0]), ['rank', 'linear', 'sqrt', 'log']);
      for (const row of rows) {
        const shares = row.split(/\s+/).slice(1).map((p) => Number(p.replace('%', '')));
        assert.equal(shares.length, 6, row);
        assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 100) < 0.5, `${row}: the shares sum to 100%`);
        // Each rank step holds a sixth of the tokens, give or take ties and rounding.
        if (row.startsWith('rank')) for (const x of shares) assert.ok(Math.abs(x - 100 / 6) <= 2.5, row);
      }
    });

    it('without an output flag prints one summary row per head', () => {
      const r = cli('inspect', code, '--mode', 'ssmax-posthoc');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /mode ssmax-posthoc/);
      const { layers, heads } = readManifest(MODEL_DIR).info;
      assert.equal(r.stdout.trim().split('\n').length, 2 + layers * heads);
    });

    it('--json writes the inspect@1 object to stdout, rows for each --query', () => {
      const q = SHORT_CODE.indexOf('constructor');
      const r = cli('inspect', code, '--mode', 'ssmax', '--query', String(q), '--query', '0', '--json');
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse(r.stdout) as InspectJson;
      assert.equal(json.schema, 'attention-lens/inspect@1');
      assert.equal(json.mode, 'ssmax');
      assert.deepEqual(json.range, { start: 0, end: SHORT_CODE.length });
      assert.deepEqual(json.queries.map((x) => x.offset), [q, 0]);
      const t = json.tokens[json.queries[0].token];
      assert.ok(t.start <= q && q < t.end);
      assert.equal(json.queries[0].rows[0][0].length, json.tokens.length);
    });

    it('--json names every head\'s role with a score in [0, 1] that reaches its threshold', () => {
      // Within the training context, where the model runs with its training RoPE base.
      const short = path.join(dir, 'lru-cache-start.js');
      fs.writeFileSync(short, SHORT_CODE.slice(0, 700));
      const json = JSON.parse(cli('inspect', short, '--json').stdout) as InspectJson;
      assert.ok(json.tokens.length <= json.model.trainContext, `${json.tokens.length} tokens`);
      assert.equal(json.heads.length, json.model.layers * json.model.heads);
      for (const h of json.heads) {
        const what = `layer ${h.layer} head ${h.head}: ${h.role} ${h.roleScore}`;
        assert.ok(HEAD_ROLES.includes(h.role), what);
        assert.ok(h.roleScore >= 0 && h.roleScore <= 1, what);
        if (h.role !== 'broad') assert.ok(h.roleScore >= ROLE_THRESHOLDS[h.role], what);
      }
      // On the shipped model: the most spread head is broad, the nearest-looking one is local or previous-token.
      const byEntropy = [...json.heads].sort((a, b) => b.meanEntropy - a.meanEntropy);
      assert.equal(byEntropy[0].role, 'broad');
      assert.ok(byEntropy[0].roleScore > 0.5, `normalised entropy ${byEntropy[0].roleScore}`);
      const byDistance = [...json.heads].sort((a, b) => a.meanDistance - b.meanDistance);
      assert.ok(['local', 'previous-token'].includes(byDistance[0].role), `nearest head: ${byDistance[0].role}`);
    });

    it('--max-tokens and --center inspect a window and say so', () => {
      const r = cli('inspect', code, '--max-tokens', '50', '--center', '400', '--json');
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse(r.stdout) as InspectJson;
      assert.equal(json.tokens.length, 50);
      assert.equal(json.windowed, true);
      assert.ok(json.range.start > 0 && json.range.start < 400 && json.range.end > 400);
    });

    it('--html and --png write their files', () => {
      const html = path.join(dir, 'r.html');
      const png = path.join(dir, 'h.png');
      assert.equal(cli('inspect', code, '--html', html, '--layer', '2', '--head', '4').code, 0);
      assert.match(fs.readFileSync(html, 'utf8'), /^<!DOCTYPE html>/);
      assert.match(fs.readFileSync(html, 'utf8'), /Attention map, L2 H4/);
      const r = cli('inspect', code, '--png', png, '--size', '64');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /wrote .*h\.png/);
      const buf = fs.readFileSync(png);
      assert.equal(buf.toString('ascii', 1, 4), 'PNG');
      assert.equal(buf.readUInt32BE(16), 64);
    });

    it('a leading byte order mark is not part of the document (VS Code offsets)', () => {
      const bom = path.join(dir, 'bom.py');
      fs.writeFileSync(bom, '\uFEFFx = 1\n');
      const json = JSON.parse(cli('inspect', bom, '--json').stdout) as InspectJson;
      assert.deepEqual(json.range, { start: 0, end: 6 });
    });
  });

  describe('needle and fading metrics in the JSON', () => {
    it('--needle START:END --json: exact mass per head from every later token, equal to the full rows; the best head; model.modes', () => {
      const start = SHORT_CODE.indexOf('capacity');
      const end = start + 'capacity'.length;
      const later = SHORT_CODE.indexOf('capacity', end + 200);
      const r = cli('inspect', code, '--mode', 'ssmax', '--needle', `${start}:${end}`, '--query', String(later), '--json');
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse(r.stdout) as InspectJson;
      const needle = json.needle!;
      assert.deepEqual(json.model.modes, ['softmax', 'ssmax', 'ssmax-posthoc', 'ministral3-scaling', 'logn-scaling', 'screening']);
      assert.deepEqual(needle.range, { start, end });
      assert.equal(needle.exact, true);
      assert.equal(needle.text.trim(), 'capacity');
      assert.equal(needle.first, needle.tokens.end);
      const T = json.tokens.length;
      assert.equal(needle.mass.length, json.model.layers);
      assert.equal(needle.mass[0].length, json.model.heads);
      assert.equal(needle.mass[0][0].length, T - needle.tokens.end);
      // Against the full rows of the later query, every head.
      const q = json.queries[0];
      for (let l = 0; l < json.model.layers; l++) {
        for (let h = 0; h < json.model.heads; h++) {
          let full = 0;
          for (let j = needle.tokens.start; j < needle.tokens.end; j++) full += q.rows[l][h][j];
          const got = needle.mass[l][h][q.token - needle.first];
          assert.ok(Math.abs(got - full) < 2e-5, `L${l + 1} H${h + 1}: ${got} vs ${full}`);
        }
      }
      const means = needle.mass.flatMap((layer) => layer.map((m) => m.reduce((a, b) => a + b, 0) / m.length));
      const best = needle.bestHead.layer * json.model.heads + needle.bestHead.head;
      assert.equal(Math.max(...means), means[best]);
      assert.ok(Math.abs(needle.bestHead.meanMass - means[best]) < 1e-6);
    });

    it('--svg OUT --compare MODE --needle writes one figure: map, difference map, curves of both modes, the needle', () => {
      const out = path.join(dir, 'figure.svg');
      const start = SHORT_CODE.indexOf('capacity');
      const r = cli('inspect', code, '--mode', 'softmax', '--compare', 'logn-scaling', '--needle', `${start}:${start + 8}`, '--svg', out);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /wrote .*figure\.svg/);
      const svg = fs.readFileSync(out, 'utf8');
      for (const id of ['map', 'difference', 'focus', 'needle']) assert.ok(svg.includes(`<g id="${id}">`), id);
      assert.ok(svg.includes('class="series logn-scaling"') && svg.includes('class="series softmax"'));
    });

    it('--json gives every head its fading metrics: sink mass and entropy ratio in [0, 1], support size, distance shares summing to 1', () => {
      for (const mode of ['ministral3-scaling', 'logn-scaling']) {
        const r = cli('inspect', code, '--mode', mode, '--json');
        assert.equal(r.code, 0, r.stderr);
        const json = JSON.parse(r.stdout) as InspectJson;
        assert.equal(json.mode, mode);
        for (const h of json.heads) {
          assert.ok(h.sinkMass >= 0 && h.sinkMass <= 1 + 1e-6, `sink ${h.sinkMass}`);
          assert.equal(h.sinkHead, h.sinkMass > 0.3);
          assert.ok(h.entropyRatio >= 0 && h.entropyRatio <= 1 + 1e-5, `ratio ${h.entropyRatio}`);
          // Measured on one token per pooling bin, exact: any size up to the tokens seen, never "more than k".
          assert.ok(Number.isInteger(h.supportSize) && h.supportSize >= 1 && h.supportSize <= json.tokens.length, `support ${h.supportSize}`);
          assert.equal(h.supportQueries, Math.ceil(json.tokens.length / Math.ceil(json.tokens.length / json.model.pooledSize)));
          assert.deepEqual(Object.keys(h.distanceMass), ['0', '1-7', '8-63', '64-511', '512-4095', '4096+']);
          const sum = Object.values(h.distanceMass).reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - 1) < 1e-5, `distance shares sum to ${sum}`);
        }
      }
    });
  });

  describe('screening (a small random Multiscreen beside the shipped pair)', function () {
    this.timeout(120_000);
    let model: string;
    before(() => {
      ({ model } = screeningModel(fs.mkdtempSync(path.join(dir, 'screening-'))));
    });

    it('--mode screening --json: relevance rows for --query, per head passFraction and meanTotalRelevance, entropy null, support -1', () => {
      const q = SHORT_CODE.indexOf('constructor');
      const r = cli('inspect', code, '--model', model, '--mode', 'screening', '--query', String(q), '--json');
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse(r.stdout) as InspectJson;
      assert.equal(json.mode, 'screening');
      assert.equal(json.quantity, 'relevance');
      assert.equal(json.model.layers, 4);
      assert.equal(json.heads.length, 16);
      const T = json.tokens.length;
      const row = json.queries[0].rows[1][2];
      assert.equal(row.length, T);
      assert.ok(row.every((v) => v >= 0 && v <= 1) && row.slice(json.queries[0].token + 1).every((v) => v === 0), 'relevance in [0, 1], causal');
      assert.ok(Math.max(...row) === json.focus[1][2][json.queries[0].token], 'focus is the largest relevance');
      for (const h of json.heads) {
        assert.ok(h.passFraction !== undefined && h.passFraction >= 0 && h.passFraction <= 1, `passFraction ${h.passFraction}`);
        assert.ok(h.meanTotalRelevance !== undefined && h.meanTotalRelevance >= 0);
        assert.equal(h.meanEntropy, null, 'entropy has no meaning for relevance: NaN, null in JSON');
        assert.equal(h.supportSize, -1, 'support size is undefined for relevance');
      }
      const plain = JSON.parse(cli('inspect', code, '--model', model, '--json').stdout) as InspectJson;
      assert.equal(plain.quantity, 'weight');
      assert.equal(plain.heads[0].passFraction, undefined);
    });

    it('--svg --compare ssmax: both maps as aggregates, no difference map, a legend naming both quantities; a head is refused', () => {
      const out = path.join(dir, 'screening-compare.svg');
      const r = cli('inspect', code, '--model', model, '--mode', 'screening', '--svg', out, '--compare', 'ssmax');
      assert.equal(r.code, 0, r.stderr);
      const svg = fs.readFileSync(out, 'utf8');
      assert.ok(svg.includes('<g id="map">') && svg.includes('<g id="map-2">') && !svg.includes('id="difference"'));
      assert.ok(svg.includes('Screening: relevance per key, absolute, 0 = rejected · SSMax: attention weight, each row sums to 1'));
      assert.match(svg, /SSMax&apos;s \d+ x \d+ heads and Screening&apos;s 4 x 4 tiles do not pair/);
      assert.match(svg, />Screening relevance: all heads: mean</);
      assertFails(cli('inspect', code, '--model', model, '--mode', 'screening', '--svg', out, '--compare', 'ssmax', '--layer', '1', '--head', '2'), /tiles do not pair with heads; use --head mean or --head max/);
    });

    it('--html in screening says relevance and lists each tile\'s pass fraction and mean total relevance; --layer counts the variant\'s layers', () => {
      const out = path.join(dir, 'screening.html');
      const r = cli('inspect', code, '--model', model, '--mode', 'screening', '--html', out, '--layer', '4', '--head', '4');
      assert.equal(r.code, 0, r.stderr);
      const html = fs.readFileSync(out, 'utf8');
      assert.match(html, /<h2>Relevance map, L4 H4<\/h2>/);
      assert.match(html, /<th>pass fraction<\/th><th>mean total relevance<\/th>/);
      assert.equal([...html.matchAll(/<tr(?: class="sel")?><td>L\d H\d<\/td>/g)].length, 16);
      // The variant has 4 layers, the attention pair 6: layer 5 is checked against the variant's.
      assertFails(cli('inspect', code, '--model', model, '--mode', 'screening', '--html', out, '--layer', '5'), /--layer 5 is out of range: the model has layers 1\.\.4/);
    });

    it('--mode screening prints relevance columns; a folder without the variant refuses the mode', () => {
      const r = cli('inspect', code, '--model', model, '--mode', 'screening');
      assert.equal(r.code, 0, r.stderr);
      const [title, header, ...rows] = r.stdout.trim().split('\n');
      assert.match(title, /relevance per key/);
      assert.match(header, /maxRelevance +passFraction +meanTotalRelevance/);
      assert.equal(rows.length, 16);
      const pair = path.join(dir, 'pair-only');
      fs.mkdirSync(pair);
      for (const f of fs.readdirSync(MODEL_DIR)) if (f !== 'models.json') fs.symlinkSync(path.join(MODEL_DIR, f), path.join(pair, f));
      const manifest = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'models.json'), 'utf8')) as { variants: Record<string, unknown> };
      delete manifest.variants.screening;
      fs.writeFileSync(path.join(pair, 'models.json'), JSON.stringify(manifest));
      assertFails(cli('inspect', code, '--model', pair, '--mode', 'screening'), /mode screening is not available/);
    });
  });

  describe('errors: one stderr line, exit code 2', () => {
    const missingModel = path.join(os.tmpdir(), 'al-no-model-here');
    const cases: [string, () => string[], RegExp][] = [
      ['no arguments', () => [], /missing command/],
      ['an unknown command', () => ['explain', code], /unknown command "explain"/],
      ['no FILE', () => ['inspect'], /missing FILE/],
      ['two FILEs', () => ['inspect', code, code], /one FILE only/],
      ['a missing file', () => ['inspect', path.join(dir, 'nope.py')], /cannot read .*nope\.py: no such file/],
      ['a directory', () => ['inspect', dir], /is a directory/],
      ['a binary file', () => ['inspect', path.join(dir, 'blob.bin')], /blob\.bin looks binary/],
      ['an empty file', () => ['inspect', path.join(dir, 'empty.txt')], /empty\.txt is empty/],
      ['an unknown mode', () => ['inspect', code, '--mode', 'sparsemax'], /unknown mode "sparsemax"; modes: softmax, ssmax, ssmax-posthoc, ministral3-scaling, logn-scaling/],
      ['a mode without a value', () => ['inspect', code, '--mode'], /--mode needs a value/],
      ['an offset beyond the end', () => ['inspect', code, '--query', '999999'], /--query 999999 is beyond the end of .* \(length \d+\)/],
      ['a negative offset', () => ['inspect', code, '--query', '-3'], /--query needs an integer >= 0, got "-3"/],
      ['a non-numeric offset', () => ['inspect', code, '--query', 'ten'], /--query needs an integer >= 0, got "ten"/],
      ['a center beyond the end', () => ['inspect', code, '--center', '999999'], /--center 999999 is beyond the end/],
      ['an unknown option', () => ['inspect', code, '--verbose'], /unknown option --verbose/],
      ['two outputs', () => ['inspect', code, '--json', '--png', 'x.png'], /choose one of --json, --html OUT, --png OUT/],
      ['a needle that is not START:END', () => ['inspect', code, '--needle', '12'], /--needle needs START:END, two offsets, got "12"/],
      ['an empty needle', () => ['inspect', code, '--needle', '12:12'], /--needle 12:12: END must be after START/],
      ['a needle beyond the end', () => ['inspect', code, '--needle', '5:999999'], /--needle 5:999999 is beyond the end of .* \(length \d+\)/],
      ['a needle no token follows', () => ['inspect', code, '--needle', `${SHORT_CODE.length - 1}:${SHORT_CODE.length}`], /no token follows it/],
      ['--compare without --svg', () => ['inspect', code, '--compare', 'ssmax'], /--compare goes with --svg OUT/],
      ['--compare of the mode itself', () => ['inspect', code, '--svg', path.join(dir, 'x.svg'), '--compare', 'softmax'], /--compare softmax is the --mode itself/],
      ['an unknown --compare mode', () => ['inspect', code, '--svg', path.join(dir, 'x.svg'), '--compare', 'nope'], /unknown --compare mode "nope"/],
      ['a zero token limit', () => ['inspect', code, '--max-tokens', '0'], /--max-tokens needs an integer >= 1/],
      ['a layer out of range', () => ['inspect', code, '--png', path.join(dir, 'x.png'), '--layer', '9'], new RegExp(`--layer 9 is out of range: the model has layers 1\\.\\.${readManifest(MODEL_DIR).info.layers}`)],
      ['a head out of range', () => ['inspect', code, '--head', '5'], /--head 5 is out of range/],
      ['a head counted from 0', () => ['inspect', code, '--head', '0'], /--head needs an integer >= 1, got "0"/],
      ['a missing model folder', () => ['inspect', code, '--model', missingModel], /model folder .*al-no-model-here: models\.json is missing/],
      ['an unwritable output', () => ['inspect', code, '--png', path.join(dir, 'no', 'such', 'dir.png')], /cannot write .*dir\.png/],
    ];
    before(() => {
      fs.writeFileSync(path.join(dir, 'blob.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]));
      fs.writeFileSync(path.join(dir, 'empty.txt'), '');
    });
    for (const [name, args, message] of cases) {
      it(`${name}`, () => assertFails(cli(...args()), message));
    }

    it('the default model folder is models/ next to dist/', () => {
      assert.ok(fs.existsSync(path.join(path.dirname(CLI), '..', 'models', 'models.json')));
      assert.equal(path.resolve(path.dirname(CLI), '..', 'models'), path.resolve(MODEL_DIR));
    });
  });

  // convert runs the TypeScript converter (src/core/convert) on a tiny random Llama checkpoint in
  // Hugging Face layout, written by training/write_hf_checkpoint.py (Debian's torch), and on the
  // transformers fixtures of test/fixtures/hf.
  describe('convert', function () {
    this.timeout(120_000);
    const python = '/usr/bin/python3';
    let hf: string;
    let out: string;
    before(() => {
      hf = path.join(dir, 'tiny-hf');
      out = path.join(dir, 'tiny-model');
      const w = spawnSync(python, [path.join(ROOT, 'training', 'write_hf_checkpoint.py'), hf], { encoding: 'utf8' });
      assert.equal(w.status, 0, w.stderr);
    });

    it('writes a model folder that inspect reads in softmax and ssmax-posthoc', () => {
      const r = cli('convert', hf, out, '--id', 'tiny-llama');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /converted llama \(2 layers, 4 heads, 2 kv heads, [\d,]+ parameters\) -> .* in [\d.]+ s; inspect with --model /);
      // Weights live in one external data file; the graphs hold only nodes and small constants.
      assert.ok(fs.statSync(path.join(out, 'softmax', 'weights.bin')).size > 4 * 4096 * 32, 'weights.bin holds the weights');
      assert.ok(fs.statSync(path.join(out, 'softmax', 'layer0.qkv.onnx')).size < 20_000, 'a layer graph without its weights');
      const tokens = (JSON.parse(cli('inspect', code, '--model', out, '--json').stdout) as InspectJson).tokens;
      assert.ok(tokens.length > 200, `${tokens.length} tokens: the file must reach beyond the training context of 64`);
      // A query before the training context (token 10) and one beyond it (token 200).
      const queries = [10, 200].map((t) => String(tokens[t].start));
      const run = (mode: string): InspectJson => {
        const x = cli('inspect', code, '--model', out, '--mode', mode, '--json', '--query', queries[0], '--query', queries[1]);
        assert.equal(x.code, 0, x.stderr);
        return JSON.parse(x.stdout) as InspectJson;
      };
      const soft = run('softmax');
      const post = run('ssmax-posthoc');
      assert.equal(soft.model.id, 'tiny-llama');
      assert.equal(soft.model.trainContext, 64);
      for (const json of [soft, post]) {
        assert.ok(json.surprisal.every((x) => x === null || Number.isFinite(x)));
        assert.ok(json.heads.every((h) => Number.isFinite(h.meanEntropy) && Number.isFinite(h.meanFocus)));
      }
      // Layer 1 sees the same input in both modes; post-hoc SSMax multiplies the logits of query
      // position n by ln(n) / ln(64): flatter before the training context, sharper beyond it.
      for (let h = 0; h < 4; h++) {
        const [softEarly, softLate] = soft.queries.map((q) => entropy(q.rows[0][h]));
        const [postEarly, postLate] = post.queries.map((q) => entropy(q.rows[0][h]));
        assert.ok(postEarly > softEarly, `head ${h + 1}, token 10: ${postEarly} > ${softEarly}`);
        assert.ok(postLate < softLate - 1e-3, `head ${h + 1}, token 200: ${postLate} < ${softLate}`);
      }
    });

    it('the engine\'s surprisal equals the PyTorch reading of the checkpoint (training/hf_adapters.py), in both modes', () => {
      const posthocS = (JSON.parse(fs.readFileSync(path.join(out, 'models.json'), 'utf8')) as { posthocS: number }).posthocS;
      for (const [mode, extra] of [['softmax', []], ['ssmax-posthoc', ['--posthoc-s', String(posthocS)]]] as const) {
        const engine = (JSON.parse(cli('inspect', code, '--model', out, '--mode', mode, '--json').stdout) as InspectJson).surprisal;
        const r = spawnSync(python, [path.join(ROOT, 'training', 'hf_surprisal.py'), hf, code, ...extra], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const torch = JSON.parse(r.stdout) as number[];
        assert.equal(engine.length, torch.length, `${mode}: token count`);
        const worst = Math.max(...engine.map((x, i) => Math.abs((x ?? 0) - torch[i])));
        assert.ok(worst < 1e-4, `${mode}: surprisal differs by up to ${worst}`);
      }
    });

    it('the summary stays aligned past nine heads: "L1 H10" widens the head column, every row as long as the header', () => {
      // The GPT-2 fixture with 16 heads of 4 dimensions instead of 4 of 16: the same weights, read differently.
      const hf16 = path.join(dir, 'gpt2-16-heads');
      fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'hf', 'gpt2'), hf16, { recursive: true });
      const config = JSON.parse(fs.readFileSync(path.join(hf16, 'config.json'), 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(path.join(hf16, 'config.json'), JSON.stringify({ ...config, n_head: 16 }));
      const model16 = path.join(dir, 'gpt2-16-model');
      assert.equal(cli('convert', hf16, model16).code, 0);
      const r = cli('inspect', code, '--model', model16);
      assert.equal(r.code, 0, r.stderr);
      const [, header, ...rows] = r.stdout.trimEnd().split('\n');
      assert.equal(header, '  head  meanFocus  meanEntropy  meanDistance');
      assert.equal(rows.length, 32);
      assert.ok(rows.some((row) => row.startsWith('L1 H10 ')), rows.join('\n'));
      for (const row of rows) assert.equal(row.length, header.length, `aligned: ${JSON.stringify(row)}`);
    });

    it('a converted model has no trained SSMax variant: --mode ssmax fails in one line', () => {
      assertFails(cli('inspect', code, '--model', out, '--mode', 'ssmax'), /ssmax/);
    });

    it('inspect --model HF_DIR converts into the cache once and reuses it', () => {
      const cache = path.join(dir, 'xdg-cache');
      const env = { XDG_CACHE_HOME: cache };
      const first = cli({ env }, 'inspect', code, '--model', hf, '--json');
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /converted llama .* into .*attention-lens.tiny-hf-[0-9a-f]{16} \(reused next time\)/);
      const folders = fs.readdirSync(path.join(cache, 'attention-lens'));
      assert.equal(folders.length, 1, folders.join(', '));
      const again = cli({ env }, 'inspect', code, '--model', hf, '--json');
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stderr, /converted/);
      assert.deepEqual((JSON.parse(again.stdout) as InspectJson).surprisal, (JSON.parse(first.stdout) as InspectJson).surprisal);
      // A changed weight file is a new key: converted again, never the stale folder.
      const copy = path.join(dir, 'tiny-hf-touched');
      fs.cpSync(hf, copy, { recursive: true });
      assert.equal(cli({ env }, 'inspect', code, '--model', copy, '--json').code, 0);
      fs.utimesSync(path.join(copy, 'model.safetensors'), new Date(), new Date(Date.now() + 5000));
      const touched = cli({ env }, 'inspect', code, '--model', copy, '--json');
      assert.match(touched.stderr, /converted llama/);
    });

    /** A copy of the tiny checkpoint, changed by `edit`; converting it must fail with `message` and leave no folder. */
    const badInput = (name: string, edit: (folder: string) => void, message: RegExp): void => {
      const bad = path.join(dir, `bad-${name}`);
      fs.cpSync(hf, bad, { recursive: true });
      edit(bad);
      const target = path.join(dir, `bad-${name}-model`);
      assertFails(cli('convert', bad, target), message);
      assert.ok(!fs.existsSync(target), 'nothing written');
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith(`bad-${name}-model`)), [], 'no partial folder left');
    };
    const writeSafetensors = (file: string, header: Record<string, unknown>, data: Buffer): void => {
      const json = Buffer.from(JSON.stringify(header));
      const size = Buffer.alloc(8);
      size.writeBigUInt64LE(BigInt(json.length));
      fs.writeFileSync(file, Buffer.concat([size, json, data]));
    };
    const editJson = (file: string, edit: (j: Record<string, unknown>) => void): void => {
      const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      edit(j);
      fs.writeFileSync(file, JSON.stringify(j));
    };

    it('bad input: one line naming the problem, exit code 2, nothing written', () => {
      badInput('truncated', (f) => fs.truncateSync(path.join(f, 'model.safetensors'), fs.statSync(path.join(f, 'model.safetensors')).size - 1000), /model\.safetensors is truncated/);
      badInput('header', (f) => fs.writeFileSync(path.join(f, 'model.safetensors'), Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{oops')])), /model\.safetensors has a corrupt header/);
      badInput('type', (f) => editJson(path.join(f, 'config.json'), (j) => (j.model_type = 'mamba')), /model_type "mamba" is not supported; supported: gpt2, llama, mistral, qwen2, qwen3, gemma3_text$/);
      badInput('no-tokenizer', (f) => fs.rmSync(path.join(f, 'tokenizer.json')), /tokenizer\.json is missing/);
      badInput('no-config', (f) => fs.rmSync(path.join(f, 'config.json')), /config\.json is missing: .* is not a Hugging Face model folder/);
      badInput('shape', (f) => editJson(path.join(f, 'config.json'), (j) => (j.intermediate_size = 96)), /has shape \[64, 32\], config\.json implies \[96, 32\]/);
      badInput('shard', (f) => {
        fs.renameSync(path.join(f, 'model.safetensors'), path.join(f, 'model-00001-of-00002.safetensors'));
        fs.writeFileSync(path.join(f, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'model.norm.weight': 'model-00002-of-00002.safetensors', 'model.embed_tokens.weight': 'model-00001-of-00002.safetensors' } }));
      }, /model-00002-of-00002\.safetensors is missing \(named by model\.safetensors\.index\.json\)/);
      badInput('shard-path', (f) => {
        fs.writeFileSync(path.join(f, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'model.norm.weight': '../elsewhere.safetensors' } }));
      }, /names a shard outside its folder: \.\.\/elsewhere\.safetensors/);
      badInput('fp8', (f) => writeSafetensors(path.join(f, 'model.safetensors'), { 'model.embed_tokens.weight': { dtype: 'F8_E4M3', shape: [2, 2], data_offsets: [0, 4] } }, Buffer.alloc(4)), /is F8_E4M3: quantized and FP8 weights are not supported/);
      badInput('pickle', (f) => fs.renameSync(path.join(f, 'model.safetensors'), path.join(f, 'pytorch_model.bin')), /holds pytorch_model\.bin, which this converter no longer reads .* save the model as safetensors/);
    });

    it('a model beyond the memory available is refused before converting, with the numbers', () => {
      const big = path.join(dir, 'big-hf');
      fs.mkdirSync(big);
      for (const f of ['tokenizer.json', 'config.json']) fs.copyFileSync(path.join(hf, f), path.join(big, f));
      // 6.5 G bfloat16 parameters in a sparse file: the check reads the header, never the bytes.
      const shape = [100_000, 65_536];
      const bytes = 2 * shape[0] * shape[1];
      writeSafetensors(path.join(big, 'model.safetensors'), { 'model.embed_tokens.weight': { dtype: 'BF16', shape, data_offsets: [0, bytes] } }, Buffer.alloc(0));
      fs.truncateSync(path.join(big, 'model.safetensors'), fs.statSync(path.join(big, 'model.safetensors')).size + bytes);
      assertFails(
        cli('convert', big, path.join(dir, 'big-model')),
        /needs 25,000 MB for its weights once loaded \(6554 M parameters x 4 bytes as float32\) plus \d+ MB to inspect 1,000 tokens, above the [\d,]+ MB available; not converted/,
      );
      assert.ok(!fs.existsSync(path.join(dir, 'big-model')));
    });

    it('a model whose tokenizer adds BOS: the needle of another mode runs the same window again (BOS included)', () => {
      const ref = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'hf', 'llama3', 'reference.json'), 'utf8')) as { text: string };
      const model = path.join(dir, 'bos-llama3');
      assert.equal(cli('convert', path.join(ROOT, 'test', 'fixtures', 'hf', 'llama3'), model).code, 0);
      const file = path.join(dir, 'bos.py');
      fs.writeFileSync(file, ref.text);
      const svg = path.join(dir, 'bos.svg');
      // ssmax-posthoc's needle comes from the kept keys, softmax's from a run of the window again.
      const r = cli('inspect', file, '--model', model, '--mode', 'ssmax-posthoc', '--compare', 'softmax', '--needle', '4:9', '--svg', svg);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(fs.statSync(svg).size > 1000);
    });

    it('wrong arguments', () => {
      assertFails(cli('convert', hf), /usage: attention-lens convert HF_DIR OUT_DIR/);
      assertFails(cli('convert', hf, out, '--mode', 'softmax'), /unknown option --mode/);
      assertFails(cli('convert', hf, out), /already exists and is not empty; name a new folder/);
    });

    // The engine against transformers itself: test/fixtures/hf holds tiny checkpoints with the
    // surprisal and attention rows that transformers computed (training/make_hf_fixtures.py).
    // The model folder's own tokenizer.json must give the reference's token ids, BOS included
    // where the tokenizer adds it (llama3, gemma3): the engine shows it as token 0, which covers no
    // text, so no offset selects it and its row (one weight of 1 on itself) is not asked for.
    // gemma3 and mistral-sliding have sliding-window layers of 16 keys, past which 48 tokens reach.
    for (const arch of ['gpt2', 'llama', 'qwen2', 'llama-head-dim', 'llama3', 'qwen3', 'gemma3', 'mistral-sliding']) {
      it(`${arch} fixture: the engine's surprisal and attention rows equal transformers' within 1e-3`, () => {
        const ref = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'hf', arch, 'reference.json'), 'utf8')) as {
          text: string; ids: number[]; queries: number[]; surprisal: number[]; attention_rows: number[][][][]; bos?: boolean;
        };
        const model = path.join(dir, `fixture-${arch}`);
        const c = cli('convert', path.join(ROOT, 'test', 'fixtures', 'hf', arch), model);
        assert.equal(c.code, 0, c.stderr);
        const file = path.join(dir, `fixture-${arch}.py`);
        fs.writeFileSync(file, ref.text);
        const tokens = (JSON.parse(cli('inspect', file, '--model', model, '--json').stdout) as InspectJson).tokens;
        assert.equal(tokens.length, ref.ids.length, 'token count');
        if (ref.bos) assert.deepEqual([tokens[0].start, tokens[0].end, tokens[1].start], [0, 0, 0], 'BOS covers no text');
        const asked = ref.queries.map((t, i) => ({ t, i })).filter(({ t }) => !(ref.bos && t === 0));
        const r = cli('inspect', file, '--model', model, '--json', ...asked.flatMap(({ t }) => ['--query', String(tokens[t].start)]));
        assert.equal(r.code, 0, r.stderr);
        const json = JSON.parse(r.stdout) as InspectJson;
        const worst = Math.max(...json.surprisal.map((x, i) => Math.abs((x ?? 0) - ref.surprisal[i])));
        assert.ok(worst < 1e-3, `surprisal differs by up to ${worst}`);
        assert.equal(json.queries.length, asked.length);
        assert.ok(json.queries.every((q) => q.rows.length === ref.attention_rows.length && q.rows.every((l) => l.length === ref.attention_rows[0].length)), 'layers x heads');
        json.queries.forEach((q, qi) => q.rows.forEach((layer, l) => layer.forEach((row, h) => {
          const { t, i } = asked[qi];
          assert.equal(row.length, ref.ids.length, 'a full row');
          const diff = Math.max(...row.map((w, k) => Math.abs(w - ref.attention_rows[l][h][i][k])));
          assert.ok(diff < 1e-3, `layer ${l + 1}, head ${h + 1}, token ${t}: the row differs by up to ${diff}`);
        })));
      });
    }
  });
});
