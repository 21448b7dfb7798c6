// The estimate behind the warning before a long run with a large model.
import * as assert from 'node:assert/strict';
import type { ModelInfo } from '../../src/core/inspection-types';
import { MEASURED_FLOPS_PER_SECOND, SHIPPED_PARAMETERS, expectedSeconds, inspectionFlops, isLargeModel } from '../../src/core/engine/run-estimate';
import { readManifest } from '../../src/core/model/manifest';
import { MODEL_DIR } from '../common/fixtures';

// SmolLM2-135M's shape, as training/convert.py writes it into models.json.
const SMOL: ModelInfo = {
  id: 'smol', architecture: 'llama', layers: 30, heads: 9, kvHeads: 3, width: 576, headDim: 64, parameters: 134_515_008,
  trainContext: 8192, maxContext: null, vocabSize: 49152, topK: 16, pooledSize: 256,
};

describe('run estimate', () => {
  it('the shipped model is not large; a 135 M model is', () => {
    const shipped = readManifest(MODEL_DIR).info;
    assert.equal(shipped.parameters, SHIPPED_PARAMETERS);
    assert.equal(isLargeModel(shipped), false);
    assert.equal(isLargeModel(SMOL), true);
  });

  it('weights cost 2 FLOPs per parameter and token; attention grows with the square of the tokens', () => {
    assert.equal(inspectionFlops(SMOL, 1), 2 * SMOL.parameters + 2 * 30 * 9 * 64);
    const attention = (T: number): number => inspectionFlops(SMOL, T) - 2 * SMOL.parameters * T;
    assert.equal(attention(4000) / attention(1000), 16);
    assert.equal(expectedSeconds(SMOL, 1000), inspectionFlops(SMOL, 1000) / MEASURED_FLOPS_PER_SECOND);
  });
});
