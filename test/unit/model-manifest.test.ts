// models.json "layerParameters": read when present, estimated for older folders.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { modesOf, planMode, readManifest, ropeScaleFor } from '../../src/core/model/manifest';
import { keptBytes } from '../../src/core/engine/memory-plan';
import { runWork } from '../../src/core/engine/layered-run';
import { MODEL_DIR } from '../common/fixtures';

/** The shipped folder with an edited models.json; everything else linked. */
function withManifest(edit: (m: Record<string, unknown>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-manifest-'));
  for (const f of fs.readdirSync(MODEL_DIR)) if (f !== 'models.json') fs.symlinkSync(path.join(MODEL_DIR, f), path.join(dir, f));
  const m = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'models.json'), 'utf8')) as Record<string, unknown>;
  edit(m);
  fs.writeFileSync(path.join(dir, 'models.json'), JSON.stringify(m));
  return dir;
}

function layerParametersOf(edit: (m: Record<string, unknown>) => void): number {
  const dir = withManifest(edit);
  try {
    return readManifest(dir).dims.layerParameters;
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
}

describe('model manifest: parameters of one layer', () => {
  it('reads layerParameters of the shipped model: ln1, qkv, proj, ln2 and the MLP of width 192', () => {
    const { info, dims } = readManifest(MODEL_DIR);
    const C = 192;
    assert.equal(dims.layerParameters, 2 * C + 3 * C * C + C * C + 2 * C + (C * 4 * C + 4 * C) + (4 * C * C + C));
    // Tied embeddings: the layers, one vocabulary matrix and the final LayerNorm make up the whole.
    assert.equal(info.parameters, info.layers * dims.layerParameters + info.vocabSize * info.width + 2 * info.width);
    // The per-token linear work the progress bar counts: every layer, not 56% of each.
    assert.equal(runWork(dims, 10).perLayerLinear, 10 * 444_096);
  });

  it('without the field: one vocabulary matrix off (exact for tied embeddings, high for untied ones)', () => {
    const { parameters, layers } = readManifest(MODEL_DIR).info;
    const tied = layerParametersOf((m) => delete m.layerParameters);
    assert.equal(tied, Math.round((parameters - 4096 * 192) / layers)); // the real 444,096 plus ln_f / layers
    assert.ok(tied > 444_096 && tied < 444_096 + 384);
    // An untied model of the same layers: its extra output matrix is counted a 1/layers share to each
    // layer, an overestimate (the safe side for the memory plan).
    const untied = layerParametersOf((m) => {
      delete m.layerParameters;
      m.parameters = parameters + 4096 * 192;
    });
    assert.equal(untied, Math.round(tied + (4096 * 192) / layers));
    // A manifest whose parameters cannot even hold the embeddings: at least q, k, v and o.
    const floor = layerParametersOf((m) => {
      delete m.layerParameters;
      m.parameters = 4096 * 192;
    });
    assert.equal(floor, 4 * 192 * 192);
  });

  it('a layerParameters that is not a positive integer, or exceeds the model, is named', () => {
    const { parameters, layers } = readManifest(MODEL_DIR).info;
    for (const [value, message] of [
      [0, /"layerParameters" must be a positive integer, got 0/],
      [1.5, /"layerParameters" must be a positive integer, got 1\.5/],
      [1_000_000, new RegExp(`"layerParameters" \\(1000000\\) x "layers" \\(${layers}\\) exceeds "parameters" \\(${parameters}\\)`)],
    ] as const) {
      assert.throws(() => layerParametersOf((m) => (m.layerParameters = value)), message);
    }
  });
});

describe('model manifest: the RoPE rule per length', () => {
  const perLength = {
    rule: 'per-length',
    bands: [
      { upTo: 1024, factor: 10 },
      { upTo: 4096, factor: 20 },
      { upTo: null, factor: 50 },
    ],
  };
  function manifestWith(rule: unknown): ReturnType<typeof readManifest> {
    const dir = withManifest((m) => ((m.rope as Record<string, unknown>).beyondTrainContext = rule));
    try {
      return readManifest(dir);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  }

  it('keeps the training base up to the training context and takes the first band that holds T beyond it', () => {
    const m = manifestWith(perLength);
    const ctx = m.info.trainContext;
    assert.equal(ctx, 512);
    const cases: [number, number][] = [[1, 1], [ctx, 1], [ctx + 1, 10], [1024, 10], [1025, 20], [4096, 20], [4097, 50], [1_000_000, 50]];
    for (const [T, factor] of cases) assert.equal(ropeScaleFor(m, T), factor, `T = ${T}`);
    assert.deepEqual(planMode(m, 'ssmax', 3000).ropeScale, 20, 'every mode runs the rule of the window length');
    assert.deepEqual(planMode(m, 'softmax', 3000).ropeScale, 20);
  });

  it('a fixed rule is one factor beyond the training context', () => {
    const m = manifestWith({ rule: 'fixed', factor: 50 });
    assert.deepEqual([ropeScaleFor(m, 512), ropeScaleFor(m, 513), ropeScaleFor(m, 100_000)], [1, 50, 50]);
  });

  it('the shipped folder ships a per-length rule, chosen by training/eval.py', () => {
    const rule = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'models.json'), 'utf8')).rope.beyondTrainContext;
    assert.equal(rule.rule, 'per-length');
    const m = readManifest(MODEL_DIR);
    assert.ok(m.ropeBands!.length > 1 && m.ropeBands![m.ropeBands!.length - 1].upTo === Infinity);
  });

  it('names a malformed rule', () => {
    const bad: [unknown, RegExp][] = [
      [{ rule: 'per-length', bands: [] }, /bands must be a non-empty list/],
      [{ rule: 'per-length', bands: [{ upTo: 1024, factor: 10 }] }, /only the last band is open/],
      [{ rule: 'per-length', bands: [{ upTo: null, factor: 10 }, { upTo: null, factor: 20 }] }, /only the last band is open/],
      [{ rule: 'per-length', bands: [{ upTo: 2048, factor: 10 }, { upTo: 1024, factor: 20 }, { upTo: null, factor: 50 }] }, /bands\[1\]\.upTo must be above 2048, got 1024/],
      [{ rule: 'per-length', bands: [{ upTo: 400, factor: 10 }, { upTo: null, factor: 50 }] }, /bands\[0\]\.upTo must be above 512, got 400/],
      [{ rule: 'per-length', bands: [{ upTo: 1024, factor: -1 }, { upTo: null, factor: 50 }] }, /bands\[0\]\.factor/],
      [{ rule: 'ntk', factor: 2 }, /rule "ntk" is unknown \(known: "fixed", "per-length"\)/],
    ];
    for (const [rule, message] of bad) assert.throws(() => manifestWith(rule), message);
  });
});

describe('model manifest: sliding-window layers (layerTypes)', () => {
  const full = { window: null };
  const sliding = (w: unknown): Record<string, unknown> => ({ window: w, ropeBase: 10000 });
  it('reads the windows into dims and the model info; absent or all full: no windows', () => {
    const dir = withManifest((m) => (m.layerTypes = [sliding(16), full, full, sliding(512), full, full]));
    try {
      const m = readManifest(dir);
      assert.deepEqual(m.dims.windows, [16, null, null, 512, null, null]);
      assert.deepEqual(m.info.windows, [16, null, null, 512, null, null]);
      assert.ok(m.softmax.attentionWindow?.endsWith('attention-window.onnx') && m.softmax.windowRows?.endsWith('attention-window-rows.onnx'));
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
    const shipped = readManifest(MODEL_DIR);
    assert.equal(shipped.dims.windows, undefined);
    assert.equal(shipped.softmax.attentionWindow, undefined);
    const allFull = withManifest((m) => (m.layerTypes = Array.from({ length: 6 }, () => full)));
    try {
      assert.equal(readManifest(allFull).dims.windows, undefined);
    } finally {
      fs.rmSync(allFull, { recursive: true });
    }
  });

  it('names a malformed entry in one line', () => {
    const bad: [unknown, RegExp][] = [
      [[full, full], /"layerTypes" must list one entry per layer \(6\)/],
      [{ window: 16 }, /"layerTypes" must list one entry per layer/],
      [[sliding(0), full, full, full, full, full], /layerTypes\[0\]\.window must be null or an integer >= 1, got 0/],
      [[full, sliding(2.5), full, full, full, full], /layerTypes\[1\]\.window must be null or an integer >= 1, got 2\.5/],
      [[full, full, 'sliding', full, full, full], /layerTypes\[2\] must be \{ "window": null \} or/],
      [[full, full, {}, full, full, full], /layerTypes\[2\] must be \{ "window": null \} or/],
      [[full, full, { window: 8, ropeBase: -1 }, full, full, full], /layerTypes\[2\]\.ropeBase" must be a positive number/],
    ];
    for (const [layerTypes, message] of bad) {
      const dir = withManifest((m) => (m.layerTypes = layerTypes));
      try {
        assert.throws(() => readManifest(dir), (err: Error) => message.test(err.message) && !err.message.includes('\n'));
      } finally {
        fs.rmSync(dir, { recursive: true });
      }
    }
  });

  it('a sliding layer needs attention-window.onnx and attention-window-rows.onnx', () => {
    const dir = withManifest((m) => (m.layerTypes = [sliding(16), full, full, full, full, full]));
    try {
      fs.unlinkSync(path.join(dir, 'attention-window-rows.onnx'));
      assert.throws(() => readManifest(dir), /attention-window-rows\.onnx \(models\.json "layerTypes"\) is missing/);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('the progress bar counts min(i + 1, w) keys per query in a sliding layer', () => {
    const dims = { ...readManifest(MODEL_DIR).dims, layers: 2 };
    const pair = runWork(dims, 1).attentionPair;
    const attention = (windows: (number | null)[], T: number, from = 0): number => {
      const w = runWork({ ...dims, windows }, T, from);
      return w.total - w.head - 2 * w.perLayerLinear;
    };
    assert.equal(attention([null, null], 100), 2 * 5050 * pair);
    assert.equal(attention([10, null], 100), (55 + 90 * 10 + 5050) * pair);
    assert.equal(attention([10, 10], 100, 40), 2 * 60 * 10 * pair);
    assert.equal(attention([200, null], 100), 2 * 5050 * pair, 'a window wider than the text is full attention');
  });
});

describe('model manifest: a screening variant (models/README.md, "Screening variants")', () => {
  const variant = (): Record<string, unknown> => ({
    dir: 'screening',
    attention: 'screening',
    dims: { layers: 2, heads: 3, kvHeads: 3, headDim: 8, valueDim: 6, width: 9, layerParameters: 1000, trainContext: 64 },
    window: [
      [1.5, 20, 100],
      [2, 70, 3000],
    ],
    acceptance: [
      [0.5, 0.2, 1],
      [0.9, 0.3, 0.4],
    ],
  });
  /** The shipped folder plus placeholder screening graphs (the reader checks they exist), models.json edited. */
  function withScreening(edit: (v: Record<string, unknown>) => void): string {
    const dir = withManifest((m) => {
      const v = variant();
      edit(v);
      (m.variants as Record<string, unknown>).screening = v;
    });
    // The shipped folder's own screening twin, if any, gives way to the placeholders.
    for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('screening'))) fs.rmSync(path.join(dir, f), { recursive: true });
    fs.mkdirSync(path.join(dir, 'screening'));
    for (const f of ['embed', 'layer0.proj', 'layer0.out', 'layer1.proj', 'layer1.out', 'head']) fs.writeFileSync(path.join(dir, 'screening', `${f}.onnx`), 'x');
    for (const f of ['screening', 'screening-rows']) fs.writeFileSync(path.join(dir, `${f}.onnx`), 'x');
    return dir;
  }

  it('reads its own dims and facts, offers the mode, and sizes by them; w = Infinity beyond its training length where w exceeds it', () => {
    const dir = withScreening(() => undefined);
    try {
      const m = readManifest(dir);
      assert.deepEqual(modesOf(m), ['softmax', 'ssmax', 'ssmax-posthoc', 'ministral3-scaling', 'logn-scaling', 'screening']);
      const plan = planMode(m, 'screening', 64);
      assert.deepEqual([plan.dims.layers, plan.dims.heads, plan.dims.kvHeads, plan.dims.headDim, plan.dims.valueDim, plan.dims.width], [2, 3, 3, 8, 6, 9]);
      assert.deepEqual([plan.info.layers, plan.info.heads, plan.info.trainContext], [2, 3, 64]);
      assert.equal(plan.ropeScale, null);
      assert.deepEqual(Array.from(plan.screening!.window), [1.5, 20, 100, 2, 70, 3000]);
      assert.deepEqual(Array.from(planMode(m, 'screening', 65).screening!.window), [1.5, 20, Infinity, 2, Infinity, Infinity]);
      assert.equal(planMode(m, 'softmax', 65).dims.layers, 6, 'the attention modes keep the model\'s dims');
      assert.ok(keptBytes(plan.dims, 1000) < keptBytes(m.dims, 1000));
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  const bad: [string, (v: Record<string, unknown>) => void, RegExp][] = [
    ['attention', (v) => (v.attention = 'softmax'), /"variants.screening.attention" must be "screening"/],
    ['dims', (v) => delete v.dims, /"variants.screening.dims" must be/],
    ['a dim', (v) => ((v.dims as Record<string, unknown>).valueDim = 0), /"variants.screening.dims.valueDim" must be a positive integer, got 0/],
    ['grouped tiles', (v) => ((v.dims as Record<string, unknown>).kvHeads = 1), /kvHeads" must equal its heads \(3\)/],
    ['window shape', (v) => (v.window = [[1, 2, 3]]), /"variants.screening.window" must be 2 x 3 numbers/],
    ['a window below 1', (v) => ((v.window as number[][])[1][2] = 0.5), /variants.screening.window\[1\]\[2\] must be a number >= 1, got 0.5/],
    ['an acceptance of 0', (v) => ((v.acceptance as number[][])[0][0] = 0), /variants.screening.acceptance\[0\]\[0\] must be a number in \(0, 1\]/],
    ['a missing graph', (v) => (v.dir = 'elsewhere'), /elsewhere\/embed.onnx .* is missing/],
  ];
  for (const [name, edit, message] of bad) {
    it(`names ${name} in one line`, () => {
      const dir = withScreening(edit);
      try {
        assert.throws(
          () => readManifest(dir),
          (err: Error) => message.test(err.message) && !err.message.includes('\n'),
        );
      } finally {
        fs.rmSync(dir, { recursive: true });
      }
    });
  }
});
