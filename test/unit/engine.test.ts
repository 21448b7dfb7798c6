// The inspection engine: modes, windowing, cache, cancellation, bad input and bad model folders.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { headFocus } from '../../src/core/analysis';
import { InspectionEngine } from '../../src/core/inspection-engine';
import type { InspectRequest } from '../../src/core/inspection-engine';
import { SessionPool } from '../../src/core/model-session';
import { Tokenizer } from '../../src/core/tokenizer';
import { MODEL_DIR, SHORT_CODE, allStarts, close, longCode } from './fixtures';

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** A copy of the shipped model folder (graphs linked, not copied) to break on purpose. */
function modelCopy(edit: (dir: string, manifest: Record<string, unknown>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-model-'));
  for (const f of fs.readdirSync(MODEL_DIR)) {
    if (f.endsWith('.onnx')) fs.symlinkSync(path.join(MODEL_DIR, f), path.join(dir, f));
    else fs.copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
  }
  const file = path.join(dir, 'models.json');
  const original = fs.readFileSync(file, 'utf8');
  const manifest = JSON.parse(original) as Record<string, unknown>;
  edit(dir, manifest);
  // Edits either change the parsed manifest or the files themselves; keep the latter as they are.
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === original) fs.writeFileSync(file, JSON.stringify(manifest));
  return dir;
}

describe('inspection engine', function () {
  this.timeout(60_000);
  const logs: string[] = [];
  let engine: InspectionEngine;
  before(async () => {
    engine = await InspectionEngine.open(MODEL_DIR, (line) => logs.push(line));
  });
  after(() => engine.dispose());
  const runs = (): number => logs.filter((l) => l.startsWith('inspection:')).length;

  describe('modes', () => {
    it('offers the three modes for the shipped model and reads its shape from models.json', () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'models.json'), 'utf8')) as Record<string, number>;
      assert.deepEqual([...engine.modes], ['softmax', 'ssmax', 'ssmax-posthoc']);
      for (const k of ['layers', 'heads', 'trainContext', 'vocabSize', 'topK', 'pooledSize'] as const) assert.equal(engine.model[k], manifest[k]);
    });

    it('post-hoc SSMax in layer 0: softer before the training length, equal at it, sharper beyond', async () => {
      const text = longCode(1600);
      const soft = await engine.inspect({ text, mode: 'softmax' });
      const post = await engine.inspect({ text, mode: 'ssmax-posthoc' });
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
        (['softmax', 'ssmax', 'ssmax-posthoc'] as const).map((mode) => engine.inspect({ text, mode })),
      );
      assert.equal(ss.mode, 'ssmax');
      assert.notDeepEqual(Array.from(ss.focus), Array.from(soft.focus));
      assert.notDeepEqual(Array.from(ss.focus), Array.from(post.focus));
    });

    it('a model folder without the SSMax variant offers softmax and ssmax-posthoc only', async () => {
      const dir = modelCopy((_, m) => {
        delete (m.variants as Record<string, unknown>).ssmax;
      });
      const e = await InspectionEngine.open(dir);
      try {
        assert.deepEqual([...e.modes], ['softmax', 'ssmax-posthoc']);
        await assert.rejects(e.inspect({ text: 'x = 1', mode: 'ssmax' }), /mode ssmax is not available .*softmax, ssmax-posthoc/);
        assert.equal((await e.inspect({ text: 'x = 1', mode: 'ssmax-posthoc' })).mode, 'ssmax-posthoc');
      } finally {
        await e.dispose();
        fs.rmSync(dir, { recursive: true });
      }
    });
  });

  describe('results', () => {
    it('covers the whole document with tokens that tile it, in document offsets', async () => {
      const insp = await engine.inspect({ text: SHORT_CODE, mode: 'softmax' });
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
      const insp = await engine.inspect({ text, mode: 'softmax', queryOffsets: offsets });
      assert.deepEqual(insp.queries.map((q) => q.offset), offsets);
      for (const q of insp.queries) {
        const t = insp.tokens[q.token];
        if (q.offset < text.length) assert.ok(t.start <= q.offset && q.offset < t.end, `offset ${q.offset} in token ${q.token}`);
        else assert.equal(q.token, insp.tokens.length - 1);
        assert.equal(q.rows.length, engine.model.layers * engine.model.heads * insp.tokens.length);
      }
    });

    it('a one-character document works', async () => {
      const insp = await engine.inspect({ text: 'x', mode: 'ssmax', queryOffsets: [0] });
      assert.equal(insp.tokens.length, 1);
      close(insp.focus[0], 1, 1e-6, 'a single key takes all the weight');
      assert.deepEqual(Array.from(insp.topIndex.subarray(0, 3)), [0, -1, -1]);
    });

    it('surprisal is -log p of the next token, from the logits', async () => {
      const tok = Tokenizer.fromFile(path.join(MODEL_DIR, 'tokenizer.json'));
      const text = SHORT_CODE.slice(0, 200);
      const ids = (await tok.encode(text)).ids;
      const T = ids.length;
      const pool = new SessionPool();
      try {
        const L = engine.model.layers;
        const H = engine.model.heads;
        const out = await pool.run(path.join(MODEL_DIR, 'softmax.onnx'), {
          input_ids: { type: 'int64', data: BigInt64Array.from(ids, BigInt), dims: [1, T] },
          query_index: { type: 'int64', data: BigInt64Array.from({ length: T }, (_, i) => BigInt(i)), dims: [T] },
          ssmax_s: { type: 'float32', data: new Float32Array(L * H), dims: [L, H] },
        });
        const logits = out.logits.data as Float32Array;
        const V = out.logits.dims[1];
        const insp = await engine.inspect({ text, mode: 'softmax' });
        for (let t = 1; t < T; t++) {
          const row = logits.subarray((t - 1) * V, t * V);
          const m = Math.max(...row);
          const lse = m + Math.log(row.reduce((a, z) => a + Math.exp(z - m), 0));
          close(insp.surprisal[t], lse - row[ids[t]], 1e-3, `surprisal ${t}`);
        }
      } finally {
        await pool.dispose();
      }
    });
  });

  describe('windowing', () => {
    const text = longCode(3000);

    it('inspects maxTokens tokens around the focus offset and says which range', async () => {
      const focusOffset = 1500;
      const insp = await engine.inspect({ text, mode: 'softmax', maxTokens: 100, focusOffset, queryOffsets: [focusOffset] });
      assert.equal(insp.windowed, true);
      assert.equal(insp.tokens.length, 100);
      assert.ok(insp.documentTokens > 100);
      assert.equal(insp.range.start, insp.tokens[0].start);
      assert.equal(insp.range.end, insp.tokens[99].end);
      assert.ok(insp.range.start < focusOffset && focusOffset < insp.range.end);
      assert.equal(text.slice(insp.range.start, insp.range.end), insp.tokens.map((t) => t.text).join(''));
      const q = insp.queries[0].token;
      assert.ok(Math.abs(q - 50) <= 1, `focus token near the window centre, at ${q}`);
    });

    it('clamps the window to the document edges', async () => {
      const start = await engine.inspect({ text, mode: 'softmax', maxTokens: 100, focusOffset: 0 });
      assert.equal(start.range.start, 0);
      const end = await engine.inspect({ text, mode: 'softmax', maxTokens: 100, focusOffset: text.length });
      assert.equal(end.range.end, text.length);
      assert.equal(end.tokens.length, 100);
    });

    it('reuses a window while the focus stays in its middle half, moves it beyond', async () => {
      const a = await engine.inspect({ text, mode: 'ssmax', maxTokens: 100, focusOffset: 1500 });
      const mid = a.tokens[55].start;
      assert.equal(await engine.inspect({ text, mode: 'ssmax', maxTokens: 100, focusOffset: mid }), a);
      const edge = a.tokens[95].start;
      const b = await engine.inspect({ text, mode: 'ssmax', maxTokens: 100, focusOffset: edge });
      assert.notEqual(b, a);
      assert.ok(b.range.start > a.range.start);
    });

    it('another mode or query set keeps the window already in view', async () => {
      const a = await engine.inspect({ text, mode: 'softmax', maxTokens: 100, focusOffset: 2000 });
      const inside = a.tokens[40].start;
      const b = await engine.inspect({ text, mode: 'ssmax-posthoc', maxTokens: 100, focusOffset: inside, queryOffsets: [inside] });
      assert.deepEqual(b.range, a.range);
      assert.equal(b.queries[0].token, 40);
    });

    it('any limit and focus: the window holds min(limit, document) tokens around the focus (property)', async () => {
      const doc = longCode(1200);
      const n = (await engine.inspect({ text: doc, mode: 'softmax', maxTokens: 100_000 })).tokens.length;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: doc.length }), async (maxTokens, focusOffset) => {
          const insp = await engine.inspect({ text: doc, mode: 'softmax', maxTokens, focusOffset });
          assert.equal(insp.tokens.length, Math.min(maxTokens, n));
          assert.equal(insp.windowed, maxTokens < n);
          assert.equal(insp.documentTokens, n);
          assert.ok(insp.range.start <= focusOffset && focusOffset <= insp.range.end, `focus ${focusOffset} in ${insp.range.start}..${insp.range.end}`);
          assert.equal(doc.slice(insp.range.start, insp.range.end), insp.tokens.map((t) => t.text).join(''));
        }),
        { numRuns: 25 },
      );
    });

    it('the default limit is 8 x the training context', async () => {
      assert.equal(engine.defaultMaxTokens, 8 * engine.model.trainContext);
    });

    it('rejects a query offset outside the window with the window in the message', async () => {
      await assert.rejects(
        engine.inspect({ text, mode: 'softmax', maxTokens: 100, focusOffset: 0, queryOffsets: [0, 2900] }),
        /query offset 2900 is outside the inspected window \(offsets 0\.\.\d+\)/,
      );
    });
  });

  describe('cache', () => {
    it('returns the cached inspection for the same text, mode and queries; cached() finds it synchronously', async () => {
      const req: InspectRequest = { text: SHORT_CODE + '\n// cache', mode: 'softmax', queryOffsets: [5] };
      assert.equal(engine.cached(req), undefined);
      const before = runs();
      const a = await engine.inspect(req);
      const b = await engine.inspect({ ...req });
      assert.equal(a, b);
      assert.equal(runs(), before + 1, 'one model run');
      assert.equal(engine.cached(req), a);
      assert.equal(engine.cached({ ...req, mode: 'ssmax' }), undefined);
      assert.equal(engine.cached({ ...req, queryOffsets: [6] }), undefined);
      assert.equal(engine.cached({ ...req, text: req.text + ' ' }), undefined);
    });

    it('keys on cacheKey when given (uri + version), not on the text', async () => {
      const a = await engine.inspect({ text: 'a = 1', mode: 'softmax', cacheKey: 'file:///x.py#1' });
      assert.equal(engine.cached({ text: 'ignored', mode: 'softmax', cacheKey: 'file:///x.py#1' }), a);
      const b = await engine.inspect({ text: 'a = 2', mode: 'softmax', cacheKey: 'file:///x.py#2' });
      assert.notEqual(a, b);
    });

    it('concurrent identical requests share one run', async () => {
      const req: InspectRequest = { text: SHORT_CODE + '\n// shared', mode: 'ssmax' };
      const before = runs();
      const [a, b] = await Promise.all([engine.inspect(req), engine.inspect(req)]);
      assert.equal(a, b);
      assert.equal(runs(), before + 1);
    });

    it('evicts the least recently used entry beyond cacheSize', async () => {
      const e = await InspectionEngine.open(MODEL_DIR, undefined, { cacheSize: 2 });
      try {
        const reqs = ['a = 1', 'b = 2', 'c = 3'].map((text): InspectRequest => ({ text, mode: 'softmax' }));
        await e.inspect(reqs[0]);
        await e.inspect(reqs[1]);
        e.cached(reqs[0]); // touch: now b is the oldest
        await e.inspect(reqs[2]);
        assert.ok(e.cached(reqs[0]));
        assert.equal(e.cached(reqs[1]), undefined);
        assert.ok(e.cached(reqs[2]));
      } finally {
        await e.dispose();
      }
    });
  });

  describe('cancellation', () => {
    it('an already aborted signal throws AbortError without running', async () => {
      const before = runs();
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(engine.inspect({ text: 'q = 1', mode: 'softmax' }, ac.signal), isAbort);
      assert.equal(runs(), before);
    });

    it('a request superseded while waiting behind another run is abandoned and never runs', async () => {
      const before = runs();
      const first = engine.inspect({ text: longCode(2500), mode: 'ssmax-posthoc' });
      const ac = new AbortController();
      const stale = engine.inspect({ text: longCode(2400), mode: 'ssmax-posthoc' }, ac.signal);
      ac.abort();
      await assert.rejects(stale, isAbort);
      await first;
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(runs(), before + 1, 'only the first request ran');
      assert.equal(engine.cached({ text: longCode(2400), mode: 'ssmax-posthoc' }), undefined);
    });

    it('aborting one of two waiters on the same run leaves the other its result', async () => {
      const req: InspectRequest = { text: SHORT_CODE + '\n// two waiters', mode: 'softmax' };
      const ac = new AbortController();
      const a = engine.inspect(req, ac.signal);
      const b = engine.inspect(req);
      ac.abort();
      await assert.rejects(a, isAbort);
      assert.equal((await b).mode, 'softmax');
    });
  });

  describe('bad input', () => {
    const cases: [string, InspectRequest, RegExp][] = [
      ['empty text', { text: '', mode: 'softmax' }, /document is empty/],
      ['NUL characters', { text: 'ab\u0000cd', mode: 'softmax' }, /looks binary/],
      ['unknown mode', { text: 'x', mode: 'sparsemax' as 'softmax' }, /unknown mode "sparsemax"; modes: softmax, ssmax, ssmax-posthoc/],
      ['negative query offset', { text: 'abc', mode: 'softmax', queryOffsets: [-1] }, /query offset -1 is outside the document \(0\.\.3\)/],
      ['query offset past the end', { text: 'abc', mode: 'softmax', queryOffsets: [4] }, /query offset 4 is outside the document/],
      ['fractional offset', { text: 'abc', mode: 'softmax', focusOffset: 1.5 }, /focus offset 1.5 is outside the document/],
      ['zero max tokens', { text: 'abc', mode: 'softmax', maxTokens: 0 }, /max tokens must be a positive integer/],
    ];
    for (const [name, req, message] of cases) {
      it(`rejects ${name} with a clear message`, async () => {
        await assert.rejects(engine.inspect(req), message);
      });
    }
  });

  describe('model folder errors', () => {
    const broken: [string, (dir: string, m: Record<string, unknown>) => void, RegExp][] = [
      ['a missing models.json', (dir) => fs.rmSync(path.join(dir, 'models.json')), /models\.json is missing/],
      ['corrupt models.json', (dir) => fs.writeFileSync(path.join(dir, 'models.json'), '{"id": '), /models\.json is not valid JSON/],
      ['a bad layer count', (_, m) => (m.layers = 0), /"layers" must be a positive integer/],
      ['a missing graph file', (dir) => fs.rmSync(path.join(dir, 'ssmax.onnx')), /ssmax\.onnx \(models\.json "variants\.ssmax\.file"\) is missing/],
      ['a graph path outside the folder', (_, m) => ((m.variants as Record<string, { file: string }>).softmax.file = '../softmax.onnx'), /points outside the folder/],
      ['a wrong s shape', (_, m) => ((m.variants as Record<string, { s: number[][] }>).ssmax.s = [[0.2]]), /variants\.ssmax\.s must be 4 x 4 numbers/],
      ['a missing tokenizer', (dir) => fs.rmSync(path.join(dir, 'tokenizer.json')), /tokenizer\.json \(models\.json "tokenizer"\) is missing/],
      ['a corrupt tokenizer', (dir) => fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": {}}'), /tokenizer\.json is not a tokenizer\.json that Hugging Face tokenizers can load/],
    ];
    for (const [name, edit, message] of broken) {
      it(`open() names ${name}`, async () => {
        const dir = modelCopy(edit);
        try {
          await assert.rejects(InspectionEngine.open(dir), message);
        } finally {
          fs.rmSync(dir, { recursive: true });
        }
      });
    }

    it('a missing folder is named', async () => {
      await assert.rejects(InspectionEngine.open('/nonexistent/models'), /model folder \/nonexistent\/models: models\.json is missing/);
    });

    it('a corrupt graph file fails at the first inspection with its path, and the engine stays usable', async () => {
      const dir = modelCopy((d) => {
        fs.rmSync(path.join(d, 'ssmax.onnx'));
        fs.writeFileSync(path.join(d, 'ssmax.onnx'), 'not a protobuf');
      });
      const e = await InspectionEngine.open(dir);
      try {
        await assert.rejects(e.inspect({ text: 'x = 1', mode: 'ssmax' }), /cannot load model graph .*ssmax\.onnx/);
        assert.equal((await e.inspect({ text: 'x = 1', mode: 'softmax' })).mode, 'softmax');
      } finally {
        await e.dispose();
        fs.rmSync(dir, { recursive: true });
      }
    });

    it('a run missing a graph input lists what is missing; a failed run logs input dtypes and dims', async () => {
      const lines: string[] = [];
      const pool = new SessionPool({}, (l) => lines.push(l));
      const graph = path.join(MODEL_DIR, 'softmax.onnx');
      try {
        await assert.rejects(
          pool.run(graph, { input_ids: { type: 'int64', data: BigInt64Array.of(1n), dims: [1, 1] } }),
          /missing: query_index, ssmax_s/,
        );
        await assert.rejects(
          pool.run(graph, {
            input_ids: { type: 'int64', data: BigInt64Array.of(1n, 2n), dims: [1, 2] },
            query_index: { type: 'int64', data: BigInt64Array.of(0n), dims: [1] },
            ssmax_s: { type: 'float32', data: new Float32Array(3), dims: [1, 3] },
          }),
          /model run failed \(input_ids: int64\[1, 2\]; query_index: int64\[1\]; ssmax_s: float32\[1, 3\]\)/,
        );
        assert.ok(lines.some((l) => l.includes('ssmax_s: float32[1, 3]')), 'the failure is logged with shapes');
      } finally {
        await pool.dispose();
      }
    });
  });

  it('rows for every query match on repeat runs (deterministic)', async () => {
    const text = SHORT_CODE.slice(0, 120);
    const e = await InspectionEngine.open(MODEL_DIR);
    try {
      const first = await e.inspect({ text, mode: 'ssmax' });
      const again = await engine.inspect({ text, mode: 'ssmax', queryOffsets: allStarts(first.tokens) });
      assert.deepEqual(Array.from(first.focus), Array.from(again.focus));
    } finally {
      await e.dispose();
    }
  });

  it('dispose releases the sessions; later runs fail clearly', async () => {
    const e = await InspectionEngine.open(MODEL_DIR);
    await e.inspect({ text: 'x', mode: 'softmax' });
    await e.dispose();
    await assert.rejects(e.inspect({ text: 'y', mode: 'softmax' }), /disposed/);
  });
});
