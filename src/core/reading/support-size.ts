// Support size: the fewest keys that hold a share (90 %) of an attention row, exact. The engine
// measures it on one query per pooling bin: from the top k keys where they hold the share, else
// from the full row (the attention graph returns those rows, `sample_rows`): a histogram of the
// row's weights by their float32 exponent and top mantissa bits finds the bin where the running
// mass crosses the share, and only that bin's weights are sorted.

/** Support size is the fewest keys holding this share of a row's weight. */
export const SUPPORT_SHARE = 0.9;

/** Queries whose support the engine measures: multiples of the pooling bin (every query up to pooledSize tokens). */
export function supportSampled(query: number, binSize: number): boolean {
  return query % binSize === 0;
}

// A float32's bits >>> 20: sign, exponent and 3 mantissa bits, so 8 bins per octave, largest
// weights highest. Bins run from 2^-32 (lower weights share bin 0) to 1.0's: small enough to clear
// after each row. Any bin is exact: the crossing one is sorted.
const LOWEST = (0x2f800000 >>> 20) - 1; // 2^-32's bin, less one: bin 0
const BINS = (0x3f800000 >>> 20) - LOWEST + 1;
const counts = new Int32Array(BINS);
const masses = new Float64Array(BINS);

function binOf(bits: number): number {
  const b = (bits >>> 20) - LOWEST;
  return b < 0 ? 0 : b < BINS ? b : BINS - 1;
}

// A share met within float32 rounding counts as met: 9 of 10 equal weights hold 90 %.
const SLACK = 1e-6;

/** Fewest of the k largest weights, top[at .. at + k) best first, holding `share` of a row whose weights sum to `total`; 0 when all k hold less. */
export function supportOfTop(top: Float32Array, at: number, k: number, total: number, share: number): number {
  let held = 0;
  for (let m = 0; m < k; m++) {
    held += top[at + m];
    if (held >= (share - SLACK) * total) return m + 1;
  }
  return 0;
}

let scratch = new Float32Array(64);

/** Fewest of the keys row[from .. from + n) whose weights sum to at least `share` of their total; 0 for an empty row. */
export function supportOfRow(row: Float32Array, from: number, n: number, share: number): number {
  const bits = new Uint32Array(row.buffer, row.byteOffset + from * 4, n);
  for (let j = 0; j < n; j++) {
    const b = binOf(bits[j]);
    counts[b]++;
    masses[b] += row[from + j];
  }
  let total = 0;
  for (let b = 0; b < BINS; b++) total += masses[b];
  const target = (share - SLACK) * total;
  let held = 0;
  let keys = 0;
  let b = BINS - 1;
  for (; b > 0 && held + masses[b] < target; b--) {
    held += masses[b];
    keys += counts[b];
  }
  if (total > 0) {
    // The crossing bin: its weights, largest first, until the share is held.
    if (scratch.length < counts[b]) scratch = new Float32Array(2 * counts[b]);
    let m = 0;
    for (let j = 0; j < n; j++) if (binOf(bits[j]) === b) scratch[m++] = row[from + j];
    const inBin = scratch.subarray(0, m).sort();
    for (m = inBin.length - 1; m >= 0 && held < target; m--, keys++) held += inBin[m];
  }
  counts.fill(0);
  masses.fill(0);
  return keys;
}
