// The CLI's --json object, schema attention-lens/inspect@1 (its fields are a contract: later
// versions only add fields). Weights keep 7 significant digits: float32 precision, half the characters.
import type { Mode } from '../../shared/vocabulary';
import type { HeadRole } from '../reading/head-roles';
import { roleOf } from '../reading/selection';
import type { HeadSummary, Inspection, Token } from '../inspection-types';

export interface InspectJson {
  schema: 'attention-lens/inspect@1';
  model: { id: string; layers: number; heads: number; trainContext: number; vocabSize: number; topK: number; pooledSize: number };
  mode: Mode;
  range: { start: number; end: number };
  tokens: Token[];
  focus: number[][][];
  queries: { offset: number; token: number; rows: number[][][] }[];
  timings: { tokenizeMs: number; inferenceMs: number; totalMs: number };
  windowed: boolean;
  documentTokens: number;
  entropy: number[][][];
  distance: number[][][];
  surprisal: number[];
  /** role and roleScore: head-roles.ts. */
  heads: (HeadSummary & { role: HeadRole; roleScore: number })[];
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

export function toInspectJson(insp: Inspection): InspectJson {
  const { id, layers, heads, trainContext, vocabSize, topK, pooledSize } = insp.model;
  const T = insp.tokens.length;
  const ms = (v: number): number => Math.round(v * 100) / 100;
  return {
    schema: 'attention-lens/inspect@1',
    model: { id, layers, heads, trainContext, vocabSize, topK, pooledSize },
    mode: insp.mode,
    range: { start: insp.range.start, end: insp.range.end },
    tokens: insp.tokens.map((t) => ({ text: t.text, start: t.start, end: t.end })),
    focus: nest(insp.focus, layers, heads, T),
    queries: insp.queries.map((q) => ({ offset: q.offset, token: q.token, rows: nest(q.rows, layers, heads, T) })),
    timings: { tokenizeMs: ms(insp.timings.tokenizeMs), inferenceMs: ms(insp.timings.inferenceMs), totalMs: ms(insp.timings.totalMs) },
    windowed: insp.windowed,
    documentTokens: insp.documentTokens,
    entropy: nest(insp.entropy, layers, heads, T),
    distance: nest(insp.distance, layers, heads, T),
    surprisal: Array.from(insp.surprisal, round),
    heads: insp.heads.map((h) => {
      const r = roleOf(insp, h.layer, h.head);
      return { ...h, meanFocus: round(h.meanFocus), meanEntropy: round(h.meanEntropy), meanDistance: round(h.meanDistance), role: r.role, roleScore: round(r.score) };
    }),
  };
}
