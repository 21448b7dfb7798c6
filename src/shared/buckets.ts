// Equal runs of positions: the one way a long series is cut into at most n nearly equal buckets
// for a curve over position (the needle, the fading chart, Compare's focus by position).

export interface Buckets {
  /** Bucket b covers input points [starts[b], ends[b]). */
  starts: Int32Array;
  ends: Int32Array;
  values: Float32Array;
}

/** [start, end) of min(length, max(1, maxRuns)) nearly equal runs that cover 0..length once. */
export function equalRuns(length: number, maxRuns: number): { starts: Int32Array; ends: Int32Array } {
  const n = Math.min(length, Math.max(1, Math.floor(maxRuns)));
  const starts = new Int32Array(n);
  const ends = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    starts[b] = Math.floor((b * length) / n);
    ends[b] = Math.floor(((b + 1) * length) / n);
  }
  return { starts, ends };
}

/**
 * At most maxPoints buckets of nearly equal size over values, each keeping the max (peaks stay
 * visible: right for a needle curve) or the mean of its points. Fewer points than maxPoints: one each.
 */
export function downsample(values: ArrayLike<number>, maxPoints: number, keep: 'max' | 'mean'): Buckets {
  const { starts, ends } = equalRuns(values.length, maxPoints);
  const out = new Float32Array(starts.length);
  for (let b = 0; b < starts.length; b++) {
    let acc = keep === 'max' ? -Infinity : 0;
    for (let i = starts[b]; i < ends[b]; i++) acc = keep === 'max' ? Math.max(acc, values[i]) : acc + values[i];
    out[b] = keep === 'max' ? acc : acc / (ends[b] - starts[b]);
  }
  return { starts, ends, values: out };
}
