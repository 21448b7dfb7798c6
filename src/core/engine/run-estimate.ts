// Expected cost of one inspection, for the warning before a long run with a large model.
import type { ModelInfo } from '../inspection-types';

/** Parameters of the shipped model; a model over 10 times as large gets the warning. */
export const SHIPPED_PARAMETERS = 3_451_392;
const LARGE_MODEL_FACTOR = 10;

/**
 * Floating-point operations per second of a full inspection, measured with a random-weight 135 M
 * Llama (SmolLM2-135M's shape) over 1,000 and 4,000 tokens on the development machine (2 CPU
 * cores, shared with other work): 9 and 12.5 GFLOP/s by this count; README "Use your own model".
 * A laptop is usually faster.
 */
export const MEASURED_FLOPS_PER_SECOND = 12e9;

export function isLargeModel(model: ModelInfo): boolean {
  return model.parameters > LARGE_MODEL_FACTOR * SHIPPED_PARAMETERS;
}

/** Weights: 2 FLOPs per parameter and token; attention: scores and weighted sum over the causal half. */
export function inspectionFlops(model: ModelInfo, T: number): number {
  return 2 * model.parameters * T + (4 * model.layers * model.heads * model.headDim * T * T) / 2;
}

export function expectedSeconds(model: ModelInfo, T: number): number {
  return inspectionFlops(model, T) / MEASURED_FLOPS_PER_SECOND;
}
