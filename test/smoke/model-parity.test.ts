// onnxruntime (through src/core/model-session.ts) against PyTorch (training/reference.py, plain
// full-weight path) on fixed inputs: the smoke model trained by training/smoke.sh, and the shipped
// models in models/. Every graph output, every mode, within 1e-4.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SessionPool } from '../../src/core/model-session';
import type { Output } from '../../src/core/model-session';

const root = path.join(__dirname, '..', '..', '..');
const smokeDir = path.join(root, 'training', 'runs', 'smoke');

type Nested = number | Nested[];
interface RefCase {
  mode: 'softmax' | 'ssmax' | 'ssmax-posthoc';
  ids: number[];
  queries: number[];
  s: number[][];
  logits: number[][];
  surprisal: number[];
  focus: Nested;
  entropy: Nested;
  distance: Nested;
  rows: Nested;
  topk_weight: Nested;
  pooled: Nested;
}

function flat(x: Nested): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x];
}

/** Largest |a - b| / max(1, |b|): absolute for weights, relative for distances in the hundreds. */
function maxError(actual: (i: number) => number, expected: number[]): number {
  let worst = 0;
  expected.forEach((e, i) => {
    worst = Math.max(worst, Math.abs(actual(i) - e) / Math.max(1, Math.abs(e)));
  });
  return worst;
}

function compareCase(c: RefCase, out: Record<string, Output>): Record<string, number> {
  const f = (name: string) => out[name].data as Float32Array;
  const T = c.ids.length;
  const errors: Record<string, number> = {};
  for (const name of ['focus', 'entropy', 'distance', 'rows'] as const) {
    errors[name] = maxError((i) => f(name)[i], flat(c[name]));
  }
  const K = out.topk_weight.dims[3];
  const refK = Math.min(K, T); // the reference lists only real keys
  errors.topk_weight = maxError((i) => f('topk_weight')[Math.floor(i / refK) * K + (i % refK)], flat(c.topk_weight));
  const P = out.pooled.dims[2];
  const bins = ((c.pooled as Nested[][])[0][0] as Nested[]).length;
  errors.pooled = maxError((i) => {
    const b = i % bins;
    const a = Math.floor(i / bins) % bins;
    const lh = Math.floor(i / bins / bins);
    return f('pooled')[lh * P * P + a * P + b];
  }, flat(c.pooled));
  errors.surprisal = maxError((i) => f('surprisal')[i], c.surprisal);
  errors.logits = maxError((i) => f('logits')[i], flat(c.logits));
  return errors;
}

function parity(label: string, modelDir: string, referenceFile: string): void {
  describe(`ONNX vs PyTorch: ${label}`, function () {
    this.timeout(120_000);
    const pool = new SessionPool({ threads: 2 });
    after(() => pool.dispose());

    it('has reference outputs from training/smoke.sh', () => {
      assert.ok(fs.existsSync(referenceFile), `${referenceFile} missing: training/smoke.sh did not write it`);
    });
    if (!fs.existsSync(referenceFile)) return;
    const ref = JSON.parse(fs.readFileSync(referenceFile, 'utf8')) as { cases: RefCase[] };
    const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, 'models.json'), 'utf8')) as {
      variants: Record<string, { file: string }>;
    };
    for (const c of ref.cases) {
      it(`${c.mode}, ${c.ids.length} tokens: every output within 1e-4`, async () => {
        const variant = c.mode === 'ssmax' ? 'ssmax' : 'softmax';
        const graph = path.join(modelDir, manifest.variants[variant].file);
        const out = await pool.run(graph, {
          input_ids: { type: 'int64', data: BigInt64Array.from(c.ids.map(BigInt)), dims: [1, c.ids.length] },
          query_index: { type: 'int64', data: BigInt64Array.from(c.queries.map(BigInt)), dims: [c.queries.length] },
          ssmax_s: { type: 'float32', data: Float32Array.from(c.s.flat()), dims: [c.s.length, c.s[0].length] },
        });
        const errors = compareCase(c, out);
        for (const [name, err] of Object.entries(errors)) {
          assert.ok(err <= 1e-4, `${name}: error ${err.toExponential(2)} > 1e-4 (all: ${JSON.stringify(errors)})`);
        }
      });
    }
  });
}

parity('smoke model', path.join(smokeDir, 'model'), path.join(smokeDir, 'reference.json'));
parity('shipped models', path.join(root, 'models'), path.join(smokeDir, 'shipped-reference.json'));

describe('shipped models: SSMax changes the attention', () => {
  it('the learned s differ from the initial 1/ln(256), and the modes give different focus', () => {
    const ref = JSON.parse(fs.readFileSync(path.join(smokeDir, 'shipped-reference.json'), 'utf8')) as { cases: RefCase[] };
    const s = ref.cases.find((c) => c.mode === 'ssmax')?.s.flat() ?? [];
    assert.equal(s.length > 0, true);
    assert.ok(s.some((v) => Math.abs(v - 1 / Math.log(256)) > 0.01), `learned s: ${s}`);
    const long = ref.cases.filter((c) => c.ids.length === 100);
    const soft = flat(long.find((c) => c.mode === 'softmax')!.focus);
    const post = flat(long.find((c) => c.mode === 'ssmax-posthoc')!.focus);
    assert.ok(soft.some((v, i) => Math.abs(v - post[i]) > 1e-3), 'ssmax-posthoc must differ from softmax away from 256 tokens');
  });
});
