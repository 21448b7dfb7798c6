// The estimate behind the warning before a long run with a large model.
import * as assert from 'node:assert/strict';
import type { ModelInfo } from '../../src/core/inspection-types';
import { MEASURED_FLOPS_PER_SECOND, expectedSeconds, inspectionFlops, isLargeModel, largeRunNotice } from '../../src/core/engine/run-estimate';
import { readManifest } from '../../src/core/model/manifest';
import { MODEL_DIR } from '../common/fixtures';

// SmolLM2-135M's shape, as training/convert.py writes it into models.json.
const SMOL: ModelInfo = {
  id: 'smol', architecture: 'llama', layers: 30, heads: 9, kvHeads: 3, width: 576, headDim: 64, parameters: 134_515_008,
  trainContext: 8192, maxContext: null, vocabSize: 49152, topK: 16, pooledSize: 256,
};

describe('run estimate', () => {
  it("the shipped model is not large; a 135 M model is; the line is 10 x the shipped model's parameters", () => {
    const shipped = readManifest(MODEL_DIR).info;
    assert.equal(isLargeModel(shipped, shipped.parameters), false);
    assert.equal(isLargeModel(SMOL, shipped.parameters), true);
    assert.equal(isLargeModel({ ...SMOL, parameters: 10 * shipped.parameters }, shipped.parameters), false);
    assert.equal(isLargeModel({ ...SMOL, parameters: 10 * shipped.parameters + 1 }, shipped.parameters), true);
  });

  it("the warning names the shipped model's parameters from its models.json, the expected time and the memory", () => {
    const shipped = readManifest(MODEL_DIR).info.parameters;
    assert.equal(shipped, 3_451_392, 'the shipped 6x4 pair');
    const notice = largeRunNotice(SMOL, shipped, 1_000, 'big.py', 821 * 1024 * 1024);
    assert.match(notice, /model smol has 135 M parameters \(the shipped one 3\.45 M\)/);
    assert.match(notice, new RegExp(`Inspecting 1,000 tokens of big\\.py takes about ${Math.ceil(expectedSeconds(SMOL, 1_000))} s`));
    assert.match(notice, /up to 821 MB of memory besides the weights' 514 MB/);
    assert.match(largeRunNotice(SMOL, shipped, 32_768, 'big.py', 0), /takes about \d+ min/);
  });

  it('weights cost 2 FLOPs per parameter and token; attention grows with the square of the tokens', () => {
    assert.equal(inspectionFlops(SMOL, 1), 2 * SMOL.parameters + 2 * 30 * 9 * 64);
    const attention = (T: number): number => inspectionFlops(SMOL, T) - 2 * SMOL.parameters * T;
    assert.equal(attention(4000) / attention(1000), 16);
    assert.equal(expectedSeconds(SMOL, 1000), inspectionFlops(SMOL, 1000) / MEASURED_FLOPS_PER_SECOND);
  });
});
