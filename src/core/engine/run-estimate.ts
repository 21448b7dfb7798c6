// Expected cost of one inspection, for the warning before a long run with a large model.
import type { ModelInfo } from '../inspection-types';

/** A model over 10 times the shipped one's parameters (its models.json `parameters`) gets the warning. */
const LARGE_MODEL_FACTOR = 10;

/**
 * Floating-point operations per second of a full inspection, measured with a random-weight 135 M
 * Llama (SmolLM2-135M's shape) over 1,000 and 4,000 tokens on the development machine (2 CPU
 * cores, shared with other work): 9 and 12.5 GFLOP/s by this count (bench/README.md, the 135 M runs).
 * A laptop is usually faster.
 */
export const MEASURED_FLOPS_PER_SECOND = 12e9;

export function isLargeModel(model: ModelInfo, shippedParameters: number): boolean {
  return model.parameters > LARGE_MODEL_FACTOR * shippedParameters;
}

/** Weights: 2 FLOPs per parameter and token; attention: scores and weighted sum over the causal half. */
export function inspectionFlops(model: ModelInfo, T: number): number {
  return 2 * model.parameters * T + (4 * model.layers * model.heads * model.headDim * T * T) / 2;
}

export function expectedSeconds(model: ModelInfo, T: number): number {
  return inspectionFlops(model, T) / MEASURED_FLOPS_PER_SECOND;
}

/** The warning's text: the model against the shipped one, and what `tokens` tokens of `document` cost. */
export function largeRunNotice(model: ModelInfo, shippedParameters: number, tokens: number, document: string, peakBytes: number): string {
  const seconds = expectedSeconds(model, tokens);
  const MB = 1024 * 1024;
  return (
    `Attention Lens: model ${model.id} has ${(model.parameters / 1e6).toFixed(0)} M parameters (the shipped one ${(shippedParameters / 1e6).toFixed(2)} M). ` +
    `Inspecting ${tokens.toLocaleString('en-US')} tokens of ${document} takes about ${seconds < 90 ? `${Math.ceil(seconds)} s` : `${Math.ceil(seconds / 60)} min`} ` +
    `and up to ${Math.ceil(peakBytes / MB).toLocaleString('en-US')} MB of memory besides the weights' ${Math.ceil((model.parameters * 4) / MB).toLocaleString('en-US')} MB (estimate for a 2-core CPU).`
  );
}
