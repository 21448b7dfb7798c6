// Incremental re-inspection: where a run of an edited sequence may resume from a kept run. Under
// causal attention a token's keys, values and summaries depend only on the tokens up to it, so
// everything before the first changed token is the kept run's, provided the run is set up the
// same (graphs, s, RoPE scale, query scaling, a screening variant's windows) and pools to the same bin size.
import type { LayeredOutputs, RetainedKeys, RunSpec } from './layered-run';
import { poolingOf } from './layered-run';

/** What the worker keeps of its latest retained run. */
export interface KeptRun {
  spec: RunSpec;
  keys: RetainedKeys;
  /** Copies of the run's summaries (the caller got the originals). */
  outputs: LayeredOutputs;
}

/** Resume at `from` (0 < from <= T; T: the ids are the kept ones), or a full run (from 0) and why. */
export interface ResumePlan {
  from: number;
  reason?: string;
}

/**
 * The first changed token c, rounded down to a pooling bin so that the bin holding it is
 * recomputed whole (a pooled row is the max over its queries), and strictly before c so that
 * surprisal[from], which the row before it predicts, is kept.
 */
export function resumePlan(spec: RunSpec, kept: KeptRun): ResumePlan {
  const why = mismatch(spec, kept.spec);
  if (why) return { from: 0, reason: why };
  const T = spec.ids.length;
  const { binSize } = poolingOf(T, spec.dims.pooledSize);
  if (binSize !== kept.outputs.binSize) return { from: 0, reason: `the pooling bin changed (${kept.outputs.binSize} to ${binSize} tokens)` };
  const old = kept.spec.ids;
  const n = Math.min(T, old.length);
  let c = 0;
  while (c < n && spec.ids[c] === old[c]) c++;
  if (c === T && T === old.length) return { from: T };
  if (c === 0) return { from: 0, reason: 'the first token changed' };
  const from = Math.floor((c - 1) / binSize) * binSize;
  if (from === 0) return { from: 0, reason: 'the edit is in the first pooling bin' };
  if (kept.keys.tokens < from) return { from: 0, reason: 'the kept keys do not cover the unchanged tokens' };
  return { from };
}

function mismatch(spec: RunSpec, kept: RunSpec): string | undefined {
  if (spec.needle) return 'a needle run';
  if (JSON.stringify([spec.graphs, spec.dims]) !== JSON.stringify([kept.graphs, kept.dims])) return 'other graphs';
  if (spec.s.length !== kept.s.length || spec.s.some((v, i) => v !== kept.s[i])) return 'another SSMax s';
  if (spec.ropeScale !== kept.ropeScale) return `the RoPE scale changed (${kept.ropeScale} to ${spec.ropeScale})`;
  if (JSON.stringify(spec.queryScaling) !== JSON.stringify(kept.queryScaling)) return 'another query scaling';
  // A screening variant's windows change where the length crosses its training length (w = Infinity beyond).
  const tiles = (p: RunSpec['screening']): string => (p ? JSON.stringify([Array.from(p.window, String), Array.from(p.acceptance)]) : '');
  if (tiles(spec.screening) !== tiles(kept.screening)) return 'the screening windows changed';
  return undefined;
}

/** Copies of a run's summaries: the originals are transferred to the caller. */
export function copyOutputs(o: LayeredOutputs): LayeredOutputs {
  return {
    ...o,
    focus: o.focus.slice(),
    entropy: o.entropy.slice(),
    distance: o.distance.slice(),
    topIndex: o.topIndex.slice(),
    topWeight: o.topWeight.slice(),
    pooled: o.pooled.slice(),
    surprisal: o.surprisal.slice(),
    sink: o.sink.slice(),
    distanceMass: o.distanceMass.slice(),
    support: o.support.slice(),
    passCount: o.passCount?.slice(),
    totalRelevance: o.totalRelevance?.slice(),
    needle: undefined,
  };
}
