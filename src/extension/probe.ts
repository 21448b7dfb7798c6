// Measurements for the integration tests: one interface, a no-op unless the test harness starts
// the extension host with ATTENTION_LENS_PROBE=1. Production code calls it without knowing which.

export interface Metrics {
  /** Last hover built from cache. */
  hoverMs: number;
  /** Last single-editor overlay update (a cursor move in Follow Cursor). */
  overlayMs: number;
  /** Last heatmap draw reported by the panel. */
  heatmapMs: number;
  heatmapBins: number;
  /** Bytes sent to the panel for the last inspection (document + selected head). */
  payloadBytes: number;
  inspectMs: number;
  /** Progress reports of the latest foreground inspection, and the last fraction reported. */
  progressReports: number;
  lastProgress: number;
  /** Follow Cursor recolourings from a full attention row (rather than the top-k keys). */
  fullRowUpdates: number;
  /** Model conversions run (Open Model Folder on a Hugging Face folder), and the progress reports of the latest. */
  conversions: number;
  conversionReports: number;
}

/** Ranges the overlay set in the editor it updated last, as [start, end) document offsets. */
export interface Decorations {
  uri: string;
  /** [bucket]: weakest first. */
  buckets: [number, number][][];
  query: [number, number][];
}

/** Keys outlined as passing for the cursor token (screening) in the editor updated last, as [start, end) offsets. */
export interface PassingKeysShown {
  uri: string;
  /** The cursor token; null when nothing is outlined for lack of one. */
  query: [number, number] | null;
  keys: [number, number][];
  /** Which keys are outlined, in words (the status bar's tooltip); null when none. */
  note: string | null;
}

export interface Probe {
  readonly enabled: boolean;
  /** Starts a timer; calling the result records the elapsed milliseconds. */
  start(metric: 'hoverMs' | 'overlayMs'): () => void;
  record(values: Partial<Metrics>): void;
  /** Called lazily: the offsets are only computed when the probe is on. */
  decorations(read: () => Decorations): void;
  passingKeys(read: () => PassingKeysShown): void;
}

export const NO_PROBE: Probe = {
  enabled: false,
  start: () => () => undefined,
  record: () => undefined,
  decorations: () => undefined,
  passingKeys: () => undefined,
};

export class RecordingProbe implements Probe {
  readonly enabled = true;
  readonly metrics: Metrics = { hoverMs: 0, overlayMs: 0, heatmapMs: 0, heatmapBins: 0, payloadBytes: 0, inspectMs: 0, progressReports: 0, lastProgress: 0, fullRowUpdates: 0, conversions: 0, conversionReports: 0 };
  lastDecorations: Decorations | undefined;
  lastPassingKeys: PassingKeysShown | undefined;

  start(metric: 'hoverMs' | 'overlayMs'): () => void {
    const started = performance.now();
    return () => {
      this.metrics[metric] = performance.now() - started;
    };
  }

  record(values: Partial<Metrics>): void {
    Object.assign(this.metrics, values);
  }

  decorations(read: () => Decorations): void {
    this.lastDecorations = read();
  }

  passingKeys(read: () => PassingKeysShown): void {
    this.lastPassingKeys = read();
  }
}

export function probeFromEnvironment(): Probe {
  return process.env.ATTENTION_LENS_PROBE === '1' ? new RecordingProbe() : NO_PROBE;
}
