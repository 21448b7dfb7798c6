// The inspection engine: modes, windowing, cache, cancellation, bad input and bad model folders.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { headFocus } from '../../src/core/reading/analysis';
import { DocumentSession } from '../../src/core/engine/document-session';
import { ModelRunner } from '../../src/core/engine/runner';
import type { InspectRequest } from '../../src/core/engine/runner';
import { ModelWorker } from '../../src/core/engine/worker';
import { readManifest } from '../../src/core/model/manifest';
import { MODEL_DIR, SHORT_CODE, allStarts, close, longCode } from '../common/fixtures';

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** A copy of the shipped model folder (graphs linked, not copied) to break on purpose. */
function modelCopy(edit: (dir: string, manifest: Record<string, unknown>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-model-'));
  const copy = (from: string, to: string): void => {
    for (const f of fs.readdirSync(from, { withFileTypes: true })) {
      if (f.isDirectory()) {
        fs.mkdirSync(path.join(to, f.name));
        copy(path.join(from, f.name), path.join(to, f.name));
      } else if (f.name.endsWith('.onnx')) fs.symlinkSync(path.join(from, f.name), path.join(to, f.name));
      else fs.copyFileSync(path.join(from, f.name), path.join(to, f.name));
    }
  };
  copy(MODEL_DIR, dir);
  const file = path.join(dir, 'models.json');
  const original = fs.readFileSync(file, 'utf8');
  const manifest = JSON.parse(original) as Record<string, unknown>;
  edit(dir, manifest);
  // Edits either change the parsed manifest or the files themselves; keep the latter as they are.
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === original) fs.writeFileSync(file, JSON.stringify(manifest));
  return dir;
}

describe('model runner and document session', function () {
  this.timeout(60_000);
  const logs: string[] = [];
  let engine: ModelRunner;
  let session: DocumentSession;
  before(async () => {
    engine = await ModelRunner.open(MODEL_DIR, (line) => logs.push(line));
    session = new DocumentSession(engine);
  });
  after(() => engine.dispose());
  const runs = (): number => logs.filter((l) => l.startsWith('inspection:')).length;

  describe('modes', () => {
    it('offers the six modes for the shipped model and reads its shape from models.json', () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'models.json'), 'utf8')) as Record<string, number>;
      assert.deepEqual([...engine.modes], ['softmax', 'ssmax', 'ssmax-posthoc', 'ministral3-scaling', 'logn-scaling', 'screening']);
      for (const k of ['layers', 'heads', 'trainContext', 'vocabSize', 'topK', 'pooledSize'] as const) assert.equal(engine.model[k], manifest[k]);
    });

    it('post-hoc SSMax in layer 0: softer before the training length, equal at it, sharper beyond', async () => {
      const text = longCode(1600);
      const soft = await session.inspect({ text, mode: 'softmax' });
      const post = await session.inspect({ text, mode: 'ssmax-posthoc' });
      const n = engine.model.trainContext;
      assert.ok(soft.tokens.length > n + 20, 'text longer than the training context');
      for (let h = 0; h < engine.model.heads; h++) {
        const a = headFocus(soft, 0, h);
        const b = headFocus(post, 0, h);
        // Layer 0 sees the same logits in both; s * ln(i + 1) is < 1 before i = n - 1, 1 at it, > 1 after.
        for (let i = 1; i < a.length; i++) {
          if (i < n - 1) assert.ok(b[i] <= a[i] + 1e-6, `head ${h} query ${i}: post-hoc ${b[i]} > softmax ${a[i]}`);
          else if (i === n - 1) close(b[i], a[i], 1e-5, `head ${h} query ${i}`);
          else assert.ok(b[i] >= a[i] - 1e-6, `head ${h} query ${i}: post-hoc ${b[i]} < softmax ${a[i]}`);
        }
      }
    });

    it('ssmax runs the SSMax-trained graph with its learned s (differs from both others)', async () => {
      const text = SHORT_CODE;
      const [soft, ss, post] = await Promise.all(
        (['softmax', 'ssmax', 'ssmax-posthoc'] as const).map((mode) => session.inspect({ text, mode })),
      );
      assert.equal(ss.mode, 'ssmax');
      assert.notDeepEqual(Array.from(ss.focus), Array.from(soft.focus));
      assert.notDeepEqual(Array.from(ss.focus), Array.from(post.focus));
    });

    it('a model folder without the SSMax and screening variants offers softmax and the post-hoc modes only', async () => {
      const dir = modelCopy((_, m) => {
        delete (m.variants as Record<string, unknown>).ssmax;
        delete (m.variants as Record<string, unknown>).screening;
      });
      const e = await ModelRunner.open(dir);
      try {
        assert.deepEqual([...e.modes], ['softmax', 'ssmax-posthoc', 'ministral3-scaling', 'logn-scaling']);
        await assert.rejects(new DocumentSession(e).inspect({ text: 'x = 1', mode: 'ssmax' }), /mode ssmax is not available .*softmax, ssmax-posthoc, ministral3-scaling, logn-scaling/);
        assert.equal((await new DocumentSession(e).inspect({ text: 'x = 1', mode: 'ssmax-posthoc' })).mode, 'ssmax-posthoc');
      } finally {
        await e.dispose();
        fs.rmSync(dir, { recursive: true });
      }
    });
    it('post-hoc SSMax feeds models.json "posthocS" (written by training/export.py)', async () => {
      const text = longCode(1200);
      const shipped = await session.inspect({ text, mode: 'ssmax-posthoc' });
      const dir = modelCopy((_, m) => {
        m.posthocS = 0.4;
      });
      const e = await ModelRunner.open(dir);
      try {
        const other = await new DocumentSession(e).inspect({ text, mode: 'ssmax-posthoc' });
        // Layer 0 sees the same logits; a larger s sharpens every query past the first.
        const a = headFocus(shipped, 0, 0);
        const b = headFocus(other, 0, 0);
        assert.ok(b[a.length - 1] > a[a.length - 1], `s = 0.4 focuses more than the shipped s (${b[a.length - 1]} vs ${a[a.length - 1]})`);
      } finally {
        await e.dispose();
        fs.rmSync(dir, { recursive: true });
      }
      const bad = modelCopy((_, m) => {
        m.posthocS = -1;
      });
      try {
        await assert.rejects(ModelRunner.open(bad), /"posthocS" must be a number > 0/);
      } finally {
        fs.rmSync(bad, { recursive: true });
      }
    });
  });

  describe('results', () => {
    it('covers the whole document with tokens that tile it, in document offsets', async () => {
      const insp = await session.inspect({ text: SHORT_CODE, mode: 'softmax' });
      assert.equal(insp.windowed, false);
      assert.deepEqual(insp.range, { start: 0, end: SHORT_CODE.length });
      assert.equal(insp.documentTokens, insp.tokens.length);
      assert.equal(insp.tokens.map((t) => t.text).join(''), SHORT_CODE);
      const T = insp.tokens.length;
      const LH = engine.model.layers * engine.model.heads;
      assert.equal(insp.focus.length, LH * T);
      assert.equal(insp.topIndex.length, LH * T * engine.model.topK);
      assert.equal(insp.surprisal.length, T);
      assert.equal(insp.surprisal[0], 0);
      assert.equal(insp.heads.length, LH);
      assert.ok(insp.timings.inferenceMs > 0 && insp.timings.totalMs >= insp.timings.inferenceMs);
    });

    it('maps each query offset to the token that holds it, document end to the last token', async () => {
      const text = 'let café = "☕ 😀";\n';
      const offsets = [0, text.indexOf('é'), text.indexOf('😀') + 1, text.length - 1, text.length];
      const insp = await session.inspect({ text, mode: 'softmax', queryOffsets: offsets });
      assert.deepEqual(insp.queries.map((q) => q.offset), offsets);
      for (const q of insp.queries) {
        const t = insp.tokens[q.token];
        if (q.offset < text.length) assert.ok(t.start <= q.offset && q.offset < t.end, `offset ${q.offset} in token ${q.token}`);
        else assert.equal(q.token, insp.tokens.length - 1);
        assert.equal(q.rows.length, engine.model.layers * engine.model.heads * insp.tokens.length);
      }
    });

    it('a one-character document works', async () => {
      const insp = await session.inspect({ text: 'x', mode: 'ssmax', queryOffsets: [0] });
      assert.equal(insp.tokens.length, 1);
      close(insp.focus[0], 1, 1e-6, 'a single key takes all the weight');
      assert.deepEqual(Array.from(insp.topIndex.subarray(0, 3)), [0, -1, -1]);
    });

    it('surprisal is 0 for the first token and positive nats after it (values: test/smoke parity)', async () => {
      const insp = await session.inspect({ text: SHORT_CODE.slice(0, 200), mode: 'softmax' });
      assert.equal(insp.surprisal[0], 0);
      assert.ok(insp.surprisal.subarray(1).every((v) => v > 0 && v < 20), 'every later token has a finite positive surprisal');
    });
  });

  describe('windowing', () => {
    const text = longCode(3000);

    it('inspects maxTokens tokens around the focus offset and says which range', async () => {
      const centerOffset = 1500;
      const insp = await session.inspect({ text, mode: 'softmax', maxTokens: 100, centerOffset, queryOffsets: [centerOffset] });
      assert.equal(insp.windowed, true);
      assert.equal(insp.tokens.length, 100);
      assert.ok(insp.documentTokens > 100);
      assert.equal(insp.range.start, insp.tokens[0].start);
      assert.equal(insp.range.end, insp.tokens[99].end);
      assert.ok(insp.range.start < centerOffset && centerOffset < insp.range.end);
      assert.equal(text.slice(insp.range.start, insp.range.end), insp.tokens.map((t) => t.text).join(''));
      const q = insp.queries[0].token;
      assert.ok(Math.abs(q - 50) <= 1, `focus token near the window centre, at ${q}`);
    });

    it('clamps the window to the document edges', async () => {
      const start = await session.inspect({ text, mode: 'softmax', maxTokens: 100, centerOffset: 0 });
      assert.equal(start.range.start, 0);
      const end = await session.inspect({ text, mode: 'softmax', maxTokens: 100, centerOffset: text.length });
      assert.equal(end.range.end, text.length);
      assert.equal(end.tokens.length, 100);
    });

    it('reuses a window while the focus stays in its middle half, moves it beyond', async () => {
      const a = await session.inspect({ text, mode: 'ssmax', maxTokens: 100, centerOffset: 1500 });
      const mid = a.tokens[55].start;
      assert.equal(await session.inspect({ text, mode: 'ssmax', maxTokens: 100, centerOffset: mid }), a);
      const edge = a.tokens[95].start;
      const b = await session.inspect({ text, mode: 'ssmax', maxTokens: 100, centerOffset: edge });
      assert.notEqual(b, a);
      assert.ok(b.range.start > a.range.start);
    });

    it('another mode or query set keeps the window already in view', async () => {
      const a = await session.inspect({ text, mode: 'softmax', maxTokens: 100, centerOffset: 2000 });
      const inside = a.tokens[40].start;
      const b = await session.inspect({ text, mode: 'ssmax-posthoc', maxTokens: 100, centerOffset: inside, queryOffsets: [inside] });
      assert.deepEqual(b.range, a.range);
      assert.equal(b.queries[0].token, 40);
    });

    it('any limit and focus: the window holds min(limit, document) tokens around the focus (property)', async () => {
      const doc = longCode(1200);
      const n = (await session.inspect({ text: doc, mode: 'softmax', maxTokens: 100_000 })).tokens.length;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: doc.length }), async (maxTokens, centerOffset) => {
          const insp = await session.inspect({ text: doc, mode: 'softmax', maxTokens, centerOffset });
          assert.equal(insp.tokens.length, Math.min(maxTokens, n));
          assert.equal(insp.windowed, maxTokens < n);
          assert.equal(insp.documentTokens, n);
          assert.ok(insp.range.start <= centerOffset && centerOffset <= insp.range.end, `center ${centerOffset} in ${insp.range.start}..${insp.range.end}`);
          assert.equal(doc.slice(insp.range.start, insp.range.end), insp.tokens.map((t) => t.text).join(''));
        }),
        { numRuns: 25 },
      );
    });

    it('the default limit covers at least 16 x the training context and 32,768 tokens', async () => {
      assert.equal(engine.defaultMaxTokens, Math.max(16 * engine.model.trainContext, 32_768));
    });

    it('rejects a query offset outside the window with the window in the message', async () => {
      await assert.rejects(
        session.inspect({ text, mode: 'softmax', maxTokens: 100, centerOffset: 0, queryOffsets: [0, 2900] }),
        /query offset 2900 is outside the inspected window \(offsets 0\.\.\d+\)/,
      );
    });
  });

  describe('cache', () => {
    it('returns the cached inspection for the same text, mode and queries; cached() finds it synchronously', async () => {
      const req: InspectRequest = { text: SHORT_CODE + '\n// cache', mode: 'softmax', queryOffsets: [5] };
      assert.equal(session.cached(req), undefined);
      const before = runs();
      const a = await session.inspect(req);
      const b = await session.inspect({ ...req });
      assert.equal(a, b);
      assert.equal(runs(), before + 1, 'one model run');
      assert.equal(session.cached(req), a);
      assert.equal(session.cached({ ...req, mode: 'ssmax' }), undefined);
      assert.equal(session.cached({ ...req, queryOffsets: [6] }), undefined);
      assert.equal(session.cached({ ...req, text: req.text + ' ' }), undefined);
    });

    it('keys on cacheKey when given (uri + version), not on the text', async () => {
      const a = await session.inspect({ text: 'a = 1', mode: 'softmax', cacheKey: 'file:///x.py#1' });
      assert.equal(session.cached({ text: 'ignored', mode: 'softmax', cacheKey: 'file:///x.py#1' }), a);
      const b = await session.inspect({ text: 'a = 2', mode: 'softmax', cacheKey: 'file:///x.py#2' });
      assert.notEqual(a, b);
    });

    it('concurrent identical requests share one run', async () => {
      const req: InspectRequest = { text: SHORT_CODE + '\n// shared', mode: 'ssmax' };
      const before = runs();
      const [a, b] = await Promise.all([session.inspect(req), session.inspect(req)]);
      assert.equal(a, b);
      assert.equal(runs(), before + 1);
    });

    it('evicts the least recently used entry beyond cacheSize', async () => {
      const s = new DocumentSession(engine, { cacheSize: 2 });
      try {
        const reqs = ['a = 1', 'b = 2', 'c = 3'].map((text): InspectRequest => ({ text, mode: 'softmax' }));
        await s.inspect(reqs[0]);
        await s.inspect(reqs[1]);
        s.cached(reqs[0]); // touch: now b is the oldest
        await s.inspect(reqs[2]);
        assert.ok(s.cached(reqs[0]));
        assert.equal(s.cached(reqs[1]), undefined);
        assert.ok(s.cached(reqs[2]));
      } finally {
        s.dispose();
      }
    });
  });

  describe('cancellation', () => {
    it('an already aborted signal throws AbortError without running', async () => {
      const before = runs();
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(session.inspect({ text: 'q = 1', mode: 'softmax' }, ac.signal), isAbort);
      assert.equal(runs(), before);
    });

    it('a request superseded while waiting behind another run is abandoned and never runs', async () => {
      const before = runs();
      const first = session.inspect({ text: longCode(2500), mode: 'ssmax-posthoc' });
      const ac = new AbortController();
      const stale = session.inspect({ text: longCode(2400), mode: 'ssmax-posthoc' }, ac.signal);
      ac.abort();
      await assert.rejects(stale, isAbort);
      await first;
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(runs(), before + 1, 'only the first request ran');
      assert.equal(session.cached({ text: longCode(2400), mode: 'ssmax-posthoc' }), undefined);
    });

    it('aborting one of two waiters on the same run leaves the other its result', async () => {
      const req: InspectRequest = { text: SHORT_CODE + '\n// two waiters', mode: 'softmax' };
      const ac = new AbortController();
      const a = session.inspect(req, ac.signal);
      const b = session.inspect(req);
      ac.abort();
      await assert.rejects(a, isAbort);
      assert.equal((await b).mode, 'softmax');
    });
  });

  describe('sessions', () => {
    it('a sibling is the same window in another mode; cachedSibling finds it once computed', async () => {
      const s = new DocumentSession(engine);
      const text = longCode(3000);
      const a = await s.inspect({ text, mode: 'softmax', maxTokens: 100, centerOffset: 2000, cacheKey: 'doc@1' });
      assert.equal(s.cachedSibling(a, 'softmax'), a);
      assert.equal(s.cachedSibling(a, 'ssmax'), undefined);
      const b = await s.sibling(a, 'ssmax');
      assert.ok(b);
      assert.equal(b.mode, 'ssmax');
      assert.deepEqual(b.range, a.range);
      assert.equal(s.cachedSibling(a, 'ssmax'), b);
      s.dispose();
    });

    it('a foreground run supersedes the previous one, which resolves to undefined', async () => {
      const s = new DocumentSession(engine);
      const first = s.runForeground({ text: longCode(2600), mode: 'softmax', cacheKey: 'fg@1' });
      assert.equal(s.busy, true);
      const second = s.runForeground({ text: longCode(2700), mode: 'softmax', cacheKey: 'fg@2' });
      assert.equal(await first, undefined);
      assert.equal((await second)?.mode, 'softmax');
      assert.equal(s.busy, false);
      s.cancel();
      s.dispose();
    });
  });

  describe('bad input', () => {
    const cases: [string, InspectRequest, RegExp][] = [
      ['empty text', { text: '', mode: 'softmax' }, /document is empty/],
      ['NUL characters', { text: 'ab\u0000cd', mode: 'softmax' }, /looks binary/],
      ['unknown mode', { text: 'x', mode: 'sparsemax' as 'softmax' }, /unknown mode "sparsemax"; modes: softmax, ssmax, ssmax-posthoc, ministral3-scaling, logn-scaling/],
      ['negative query offset', { text: 'abc', mode: 'softmax', queryOffsets: [-1] }, /query offset -1 is outside the document \(0\.\.3\)/],
      ['query offset past the end', { text: 'abc', mode: 'softmax', queryOffsets: [4] }, /query offset 4 is outside the document/],
      ['fractional offset', { text: 'abc', mode: 'softmax', centerOffset: 1.5 }, /center offset 1.5 is outside the document/],
      ['zero max tokens', { text: 'abc', mode: 'softmax', maxTokens: 0 }, /max tokens must be a positive integer/],
    ];
    for (const [name, req, message] of cases) {
      it(`rejects ${name} with a clear message`, async () => {
        await assert.rejects(session.inspect(req), message);
      });
    }
  });

  describe('model folder errors', () => {
    const broken: [string, (dir: string, m: Record<string, unknown>) => void, RegExp][] = [
      ['a missing models.json', (dir) => fs.rmSync(path.join(dir, 'models.json')), /models\.json is missing/],
      ['corrupt models.json', (dir) => fs.writeFileSync(path.join(dir, 'models.json'), '{"id": '), /models\.json is not valid JSON/],
      ['a bad layer count', (_, m) => (m.layers = 0), /"layers" must be a positive integer/],
      ['a missing graph file', (dir) => fs.rmSync(path.join(dir, 'ssmax', 'layer2.out.onnx')), /ssmax\/layer2\.out\.onnx \(models\.json "variants\.ssmax\.dir"\) is missing/],
      ['a missing attention graph', (dir) => fs.rmSync(path.join(dir, 'attention.onnx')), /attention\.onnx \(models\.json "attention graph"\) is missing/],
      ['a graph folder outside the folder', (_, m) => ((m.variants as Record<string, { dir: string }>).softmax.dir = '../softmax'), /points outside the folder/],
      ['the previous contract', (_, m) => (m.contract = 2), /"contract" is 2; this version reads contract 3 \(models\/README\.md\)\. Export or convert the model again\./],
      ['a bad RoPE rule', (_, m) => ((m.rope as { beyondTrainContext: { rule: string } }).beyondTrainContext.rule = 'ntk'), /rope\.beyondTrainContext\.rule "ntk" is unknown/],
      ['heads not a multiple of kvHeads', (_, m) => (m.kvHeads = 3), /"heads" \(4\) must be a multiple of "kvHeads" \(3\)/],
      ['a wrong s shape', (_, m) => ((m.variants as Record<string, { s: number[][] }>).ssmax.s = [[0.2]]), new RegExp(`variants\\.ssmax\\.s must be ${readManifest(MODEL_DIR).info.layers} x ${readManifest(MODEL_DIR).info.heads} numbers`)],
      ['a missing tokenizer', (dir) => fs.rmSync(path.join(dir, 'tokenizer.json')), /tokenizer\.json \(models\.json "tokenizer"\) is missing/],
      ['a corrupt tokenizer', (dir) => fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": {}}'), /tokenizer\.json is not a tokenizer\.json that Hugging Face tokenizers can load/],
    ];
    for (const [name, edit, message] of broken) {
      it(`open() names ${name}`, async () => {
        const dir = modelCopy(edit);
        try {
          await assert.rejects(ModelRunner.open(dir), message);
        } finally {
          fs.rmSync(dir, { recursive: true });
        }
      });
    }

    it('a missing folder is named', async () => {
      await assert.rejects(ModelRunner.open('/nonexistent/models'), /model folder \/nonexistent\/models: models\.json is missing/);
    });

    it('a corrupt graph file fails at the first inspection with its path, and the engine stays usable', async () => {
      const dir = modelCopy((d) => {
        fs.rmSync(path.join(d, 'ssmax', 'layer1.qkv.onnx'));
        fs.writeFileSync(path.join(d, 'ssmax', 'layer1.qkv.onnx'), 'not a protobuf');
      });
      const e = await ModelRunner.open(dir);
      try {
        await assert.rejects(new DocumentSession(e).inspect({ text: 'x = 1', mode: 'ssmax' }), /cannot load model graph: .*ssmax\/layer1\.qkv\.onnx/);
        assert.equal((await new DocumentSession(e).inspect({ text: 'x = 1', mode: 'softmax' })).mode, 'softmax');
      } finally {
        await e.dispose();
        fs.rmSync(dir, { recursive: true });
      }
    });

    it('a graph call missing an input lists what is missing; a failed call logs input dtypes and dims', async () => {
      const lines: string[] = [];
      const worker = new ModelWorker({}, (l) => lines.push(l));
      const graph = path.join(MODEL_DIR, 'softmax', 'layer0.qkv.onnx');
      const x = { type: 'float32' as const, data: new Float32Array(2 * 192), dims: [2, 192] };
      const positions = { type: 'int64' as const, data: BigInt64Array.of(0n, 1n), dims: [2] };
      try {
        await assert.rejects(worker.runGraph(graph, { x }), /missing: positions, ssmax_s, rope_scale/);
        await assert.rejects(
          worker.runGraph(graph, { x, positions, ssmax_s: { type: 'float32', data: new Float32Array(3), dims: [3] }, rope_scale: { type: 'float32', data: Float32Array.of(1), dims: [] } }),
          /layer0\.qkv\.onnx with inputs x: float32\[2, 192\]; positions: int64\[2\]; ssmax_s: float32\[3\]; rope_scale: float32\[\]/,
        );
        assert.ok(lines.some((l) => l.includes('ssmax_s: float32[3]')), 'the failure is logged with shapes');
      } finally {
        await worker.dispose();
      }
    });
  });

  describe('full rows and zoomed regions from the kept keys', () => {
    it('rows() equals the rows of queryOffsets, and is undefined once a later run replaced the keys', async () => {
      const text = SHORT_CODE.slice(0, 400);
      const insp = await session.inspect({ text, mode: 'ssmax', cacheKey: 'rows-a' });
      const offsets = [0, 37, 201];
      const rows = await engine.rows(insp, offsets);
      const withQueries = await session.inspect({ text, mode: 'ssmax', queryOffsets: offsets, cacheKey: 'rows-b', keepKeys: false });
      assert.ok(rows);
      rows.forEach((r, i) => {
        assert.equal(r.token, withQueries.queries[i].token);
        r.rows.forEach((v, j) => close(v, withQueries.queries[i].rows[j], 1e-6, `row ${i} entry ${j}`));
      });
      await session.inspect({ text: text + ' ', mode: 'softmax', cacheKey: 'rows-c' });
      assert.equal(await engine.rows(insp, [0]), undefined, 'a later foreground run replaced the kept keys');
    });

    it('a background sibling run leaves the foreground run’s keys in the worker', async () => {
      const s = new DocumentSession(engine);
      const text = SHORT_CODE.slice(0, 300);
      const fg = await s.runForeground({ text, mode: 'softmax', cacheKey: 'keep@1' });
      assert.ok(fg);
      const other = await s.sibling(fg, 'ssmax');
      assert.equal(other?.mode, 'ssmax');
      assert.ok(await engine.rows(fg, [0]), 'the foreground run still answers rows()');
      s.dispose();
    });

    it('a region at full resolution holds the rows; a coarse one holds the max of each cell; aggregates reduce over heads', async () => {
      const text = SHORT_CODE.slice(0, 400);
      const insp = await session.inspect({ text, mode: 'softmax', cacheKey: 'region' });
      const T = insp.tokens.length;
      const q0 = 20;
      const q1 = 60;
      const offsets = insp.tokens.slice(q0, q1).map((t) => t.start);
      const rows = await engine.rows(insp, offsets);
      assert.ok(rows);
      const { layers: L, heads: H } = engine.model;
      const weight = (q: number, layer: number, head: number, key: number): number => rows[q - q0].rows[(layer * H + head) * T + key];
      const full = await engine.region(insp, { q0, q1, k0: 0, k1: q1 }, { kind: 'head', layer: 1, head: 2 }, 1000);
      assert.ok(full);
      assert.deepEqual([full.qBin, full.kBin, full.rows, full.cols], [1, 1, q1 - q0, q1]);
      for (let q = q0; q < q1; q++) for (let k = 0; k < q1; k++) close(full.data[(q - q0) * q1 + k], weight(q, 1, 2, k), 1e-6, `cell ${q},${k}`);
      const coarse = await engine.region(insp, { q0, q1, k0: 10, k1: 50 }, { kind: 'aggregate', how: 'max' }, 7);
      assert.ok(coarse);
      assert.deepEqual([coarse.qBin, coarse.kBin, coarse.rows, coarse.cols], [6, 6, 7, 7]);
      for (let r = 0; r < coarse.rows; r++) {
        for (let c = 0; c < coarse.cols; c++) {
          let m = 0;
          for (let q = q0 + r * 6; q < Math.min(q1, q0 + (r + 1) * 6); q++) {
            for (let k = 10 + c * 6; k < Math.min(50, 10 + (c + 1) * 6); k++) for (let lh = 0; lh < L * H; lh++) m = Math.max(m, weight(q, Math.floor(lh / H), lh % H, k));
          }
          close(coarse.data[r * 7 + c], m, 1e-6, `coarse cell ${r},${c}`);
        }
      }
      await assert.rejects(engine.region(insp, { q0: 0, q1: T + 1, k0: 0, k1: 4 }, { kind: 'aggregate', how: 'mean' }, 8), /outside 0\.\./);
    });
  });

  it('rows for every query match on repeat runs (deterministic)', async () => {
    const text = SHORT_CODE.slice(0, 120);
    const e = await ModelRunner.open(MODEL_DIR);
    try {
      const first = await new DocumentSession(e).inspect({ text, mode: 'ssmax' });
      const again = await session.inspect({ text, mode: 'ssmax', queryOffsets: allStarts(first.tokens) });
      assert.deepEqual(Array.from(first.focus), Array.from(again.focus));
    } finally {
      await e.dispose();
    }
  });

  it('dispose releases the sessions; later runs fail clearly', async () => {
    const e = await ModelRunner.open(MODEL_DIR);
    await new DocumentSession(e).inspect({ text: 'x', mode: 'softmax' });
    await e.dispose();
    await assert.rejects(new DocumentSession(e).inspect({ text: 'y', mode: 'softmax' }), /disposed/);
  });
});
