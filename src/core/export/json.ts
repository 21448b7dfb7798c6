// The CLI's --json object, schema attention-lens/inspect@1 (its fields are a contract: later
// versions only add fields). Weights keep 7 significant digits: float32 precision, half the characters.
// A screening inspection (mode "screening", quantity "relevance") fills the same fields with
// relevances: focus, rows, top keys and the needle are relevance (absolute, unnormalised); entropy
// is null (NaN: no distribution), supportSize -1 (undefined); heads[] add passFraction and meanTotalRelevance.
import type { Mode } from '../../shared/vocabulary';
import { isRelevance } from '../../shared/vocabulary';
import type { HeadFading } from '../reading/fading-metrics';
import type { HeadRole } from '../reading/head-roles';
import type { NeedleCurve, TokenSpan } from '../reading/needle';
import { bestNeedleHead } from '../reading/needle';
import { headFadingOf, roleOf } from '../reading/selection';
import type { HeadSummary, Inspection, InspectionMemory, Token } from '../inspection-types';

/** What the JSON adds beyond the inspection: the model's modes, and a needle when asked for. */
export interface JsonExtras {
  modes?: readonly Mode[];
  needle?: { range: { start: number; end: number }; span: TokenSpan; curve: NeedleCurve };
}

export interface NeedleJson {
  /** Document offsets asked for, and the tokens [start, end) overlapping them. */
  range: { start: number; end: number };
  tokens: TokenSpan;
  text: string;
  /** True: every value is the exact weight (span-mass.ts); false: a top-k lower bound. */
  exact: boolean;
  /** Query of each curve's point 0 (the span's end); point n is query first + n. */
  first: number;
  /** [layer][head][point]: mass on the span's keys from each later query. */
  mass: number[][][];
  mean: number[];
  max: number[];
  /** The head with the largest mean mass on the span, counted from 0. */
  bestHead: { layer: number; head: number; meanMass: number };
}
/** A screening head's share of keys passing and its mean total relevance. */
export interface RelevanceJson {
  /** Share of the causal query-key pairs (i + 1 keys for query i) whose relevance is > 0. */
  passFraction: number;
  /** Mean over queries of the sum of their relevance (unnormalised). */
  meanTotalRelevance: number;
}

export interface InspectJson {
  schema: 'attention-lens/inspect@1';
  /** What the numbers are: attention weights (rows sum to 1) or, in screening, relevances (absolute, unnormalised). */
  quantity: 'weight' | 'relevance';
  model: { id: string; layers: number; heads: number; trainContext: number; vocabSize: number; topK: number; pooledSize: number; modes?: Mode[]; windows?: (number | null)[] };
  mode: Mode;
  range: { start: number; end: number };
  tokens: Token[];
  focus: number[][][];
  queries: { offset: number; token: number; rows: number[][][] }[];
  timings: { tokenizeMs: number; inferenceMs: number; totalMs: number };
  windowed: boolean;
  documentTokens: number;
  /** True when documentTokens is estimated (a long document is tokenized only around its window). */
  documentTokensEstimated: boolean;
  entropy: number[][][];
  distance: number[][][];
  surprisal: number[];
  /** role and roleScore: head-roles.ts; the fading metrics: fading-metrics.ts (exact from full rows; supportSize the median over supportQueries tokens, one per pooling bin). */
  heads: (HeadSummary & { role: HeadRole; roleScore: number } & Omit<HeadFading, 'layer' | 'head'> & Partial<RelevanceJson>)[];
  needle?: NeedleJson;
  /** The run's memory plan, MB: what it may take above the process before it (weights loaded), term by term. */
  memory?: InspectionMemory;
}

function round(v: number): number {
  return Number(v.toPrecision(7));
}

/** [L * H * T] flat -> [L][H][T]. */
function nest(flat: Float32Array, layers: number, heads: number, T: number): number[][][] {
  const out: number[][][] = [];
  for (let l = 0; l < layers; l++) {
    const layer: number[][] = [];
    for (let h = 0; h < heads; h++) {
      const base = (l * heads + h) * T;
      layer.push(Array.from(flat.subarray(base, base + T), round));
    }
    out.push(layer);
  }
  return out;
}

function needleJson(insp: Inspection, needle: NonNullable<JsonExtras['needle']>): NeedleJson {
  const { layers, heads } = insp.model;
  const { curve, span } = needle;
  const n = curve.mean.length;
  const best = bestNeedleHead(curve);
  const flat = new Float32Array(layers * heads * n);
  curve.perHead.forEach((m, h) => flat.set(m, h * n));
  const meanOf = (m: Float32Array): number => (m.length === 0 ? 0 : m.reduce((a, b) => a + b, 0) / m.length);
  return {
    range: needle.range,
    tokens: { start: span.start, end: span.end },
    text: insp.tokens
      .slice(span.start, span.end)
      .map((t) => t.text)
      .join(''),
    exact: curve.exact,
    first: curve.first,
    mass: nest(flat, layers, heads, n),
    mean: Array.from(curve.mean, round),
    max: Array.from(curve.max, round),
    bestHead: best < 0 ? { layer: 0, head: 0, meanMass: 0 } : { layer: Math.floor(best / heads), head: best % heads, meanMass: round(meanOf(curve.perHead[best])) },
  };
}

/** Per head, a screening inspection's share of causal pairs passing and mean total relevance; undefined for attention. */
export function relevanceSummaries(insp: Inspection): RelevanceJson[] | undefined {
  const { passCount, totalRelevance } = insp;
  if (!passCount || !totalRelevance) return undefined;
  const T = insp.tokens.length;
  const pairs = (T * (T + 1)) / 2;
  return Array.from({ length: insp.model.layers * insp.model.heads }, (_, lh) => {
    let pass = 0;
    let total = 0;
    for (let i = 0; i < T; i++) {
      pass += passCount[lh * T + i];
      total += totalRelevance[lh * T + i];
    }
    return { passFraction: pass / pairs, meanTotalRelevance: total / T };
  });
}

export function toInspectJson(insp: Inspection, extras: JsonExtras = {}): InspectJson {
  const { id, layers, heads, trainContext, vocabSize, topK, pooledSize, windows } = insp.model;
  const T = insp.tokens.length;
  const ms = (v: number): number => Math.round(v * 100) / 100;
  const fading = headFadingOf(insp);
  const relevance = relevanceSummaries(insp);
  return {
    schema: 'attention-lens/inspect@1',
    quantity: isRelevance(insp.mode) ? 'relevance' : 'weight',
    model: { id, layers, heads, trainContext, vocabSize, topK, pooledSize, ...(extras.modes ? { modes: [...extras.modes] } : {}), ...(windows ? { windows } : {}) },
    mode: insp.mode,
    range: { start: insp.range.start, end: insp.range.end },
    tokens: insp.tokens.map((t) => ({ text: t.text, start: t.start, end: t.end })),
    focus: nest(insp.focus, layers, heads, T),
    queries: insp.queries.map((q) => ({ offset: q.offset, token: q.token, rows: nest(q.rows, layers, heads, T) })),
    timings: { tokenizeMs: ms(insp.timings.tokenizeMs), inferenceMs: ms(insp.timings.inferenceMs), totalMs: ms(insp.timings.totalMs) },
    windowed: insp.windowed,
    documentTokens: insp.documentTokens,
    documentTokensEstimated: insp.documentTokensEstimated ?? false,
    entropy: nest(insp.entropy, layers, heads, T),
    distance: nest(insp.distance, layers, heads, T),
    surprisal: Array.from(insp.surprisal, round),
    heads: insp.heads.map((h) => {
      const r = roleOf(insp, h.layer, h.head);
      const f = fading[h.layer * heads + h.head];
      return {
        ...h,
        meanFocus: round(h.meanFocus),
        meanEntropy: round(h.meanEntropy),
        meanDistance: round(h.meanDistance),
        role: r.role,
        roleScore: round(r.score),
        entropyRatio: round(f.entropyRatio),
        sinkMass: round(f.sinkMass),
        sinkHead: f.sinkHead,
        supportSize: f.supportSize,
        supportQueries: f.supportQueries,
        supportBeyondTopK: round(f.supportBeyondTopK),
        distanceMass: Object.fromEntries(Object.entries(f.distanceMass).map(([k, v]) => [k, round(v)])),
        topKMass: round(f.topKMass),
        ...(relevance ? { passFraction: round(relevance[h.layer * heads + h.head].passFraction), meanTotalRelevance: round(relevance[h.layer * heads + h.head].meanTotalRelevance) } : {}),
      };
    }),
    ...(extras.needle ? { needle: needleJson(insp, extras.needle) } : {}),
    ...(insp.memory ? { memory: insp.memory } : {}),
  };
}
