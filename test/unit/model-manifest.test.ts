// models.json "layerParameters": read when present, estimated for older folders.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readManifest } from '../../src/core/model/manifest';
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
    const tied = layerParametersOf((m) => delete m.layerParameters);
    assert.equal(tied, Math.round((2_563_200 - 4096 * 192) / 4)); // 444,192: the real 444,096 plus ln_f / 4
    // An untied model of the same layers: its extra output matrix is counted a quarter to each of
    // the 4 layers, an overestimate (the safe side for the memory plan).
    const untied = layerParametersOf((m) => {
      delete m.layerParameters;
      m.parameters = 2_563_200 + 4096 * 192;
    });
    assert.equal(untied, tied + (4096 * 192) / 4);
    // A manifest whose parameters cannot even hold the embeddings: at least q, k, v and o.
    const floor = layerParametersOf((m) => {
      delete m.layerParameters;
      m.parameters = 4096 * 192;
    });
    assert.equal(floor, 4 * 192 * 192);
  });

  it('a layerParameters that is not a positive integer, or exceeds the model, is named', () => {
    for (const [value, message] of [
      [0, /"layerParameters" must be a positive integer, got 0/],
      [1.5, /"layerParameters" must be a positive integer, got 1\.5/],
      [1_000_000, /"layerParameters" \(1000000\) x "layers" \(4\) exceeds "parameters" \(2563200\)/],
    ] as const) {
      assert.throws(() => layerParametersOf((m) => (m.layerParameters = value)), message);
    }
  });
});
