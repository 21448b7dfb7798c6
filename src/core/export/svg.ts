// Figures for papers: the attention map, the difference map of two modes, the focus curves and the
// needle as one SVG, in the view's colours (viridis on the map scale, the diverging difference
// scale, one colour per mode). Text stays <text>, so labels can be edited; every token text is escaped.
// Screening's relevance is drawn on its absolute scale (white = 0, rejected; orange = 1). Beside an
// attention mode it is a different quantity and its tiles do not pair with heads: both maps as
// aggregates, no difference map, and a legend that says what each side's numbers are.
import { downsample } from '../../shared/buckets';
import { MASKED_RGB, PAGE_RGB, divergingColor, relevanceColor, weightColor } from '../../shared/color-scale';
import { compareSelection, difference, quantityLegend, sameQuantity } from '../../shared/compare';
import type { HeadSelection, Mode } from '../../shared/vocabulary';
import { MODE_LABELS, headLabel, isRelevance, selectionLabel } from '../../shared/vocabulary';
import type { Inspection } from '../inspection-types';
import type { NeedleCurve, TokenSpan } from '../reading/needle';
import { bestNeedleHead } from '../reading/needle';
import { checkSelection, focusOf, pooledOf } from '../reading/selection';

export interface SvgFigureInput {
  /** The document's name, for the heading. */
  title: string;
  selection: HeadSelection;
  /** One inspection, or two of the same window in two modes (the second adds the difference map, or its own map beside screening). */
  inspections: Inspection[];
  /** The needle, one exact curve per inspection, in the same order. */
  needle?: { span: TokenSpan; curves: NeedleCurve[] };
}

/** Mode colours on a white page (the view uses the theme's chart colours in the same order). */
const MODE_COLORS: Record<Mode, string> = {
  softmax: '#1f77b4',
  ssmax: '#ff7f0e',
  'ssmax-posthoc': '#9467bd',
  'ministral3-scaling': '#2ca02c',
  'logn-scaling': '#d62728',
  screening: '#8c564b',
};
const MODE_DASH: Partial<Record<Mode, string>> = { 'ssmax-posthoc': '4 3', 'logn-scaling': '6 2 2 2' };

const WIDTH = 720;
const MAP = 300;
/** Map cells a side at most: a vector figure of 256 x 256 rectangles is too heavy to edit. */
const MAX_CELLS = 64;
const CHART_H = 170;
const POINTS = 240;
const LEGEND_H = 52;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

function rgb([r, g, b]: readonly number[]): string {
  return `rgb(${r},${g},${b})`;
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ' ' + attrs : ''}>${escapeXml(content)}</text>`;
}

/** bins x bins max-pooled to at most MAX_CELLS a side (a cell keeps its largest value, or its most extreme for a difference). */
function poolCells(map: Float32Array, bins: number): { n: number; cells: Float32Array } {
  const n = Math.min(bins, MAX_CELLS);
  const cells = new Float32Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c <= r; c++) {
      let v = 0;
      for (let a = Math.floor((r * bins) / n); a < Math.floor(((r + 1) * bins) / n); a++) {
        for (let b = Math.floor((c * bins) / n); b < Math.floor(((c + 1) * bins) / n) && b <= a; b++) {
          if (Math.abs(map[a * bins + b]) > Math.abs(v)) v = map[a * bins + b];
        }
      }
      cells[r * n + c] = v;
    }
  }
  return { n, cells };
}

function mapGroup(id: string, x0: number, y0: number, heading: string, map: Float32Array, bins: number, color: (v: number) => string): string {
  const { n, cells } = poolCells(map, bins);
  const cell = MAP / n;
  const rects: string[] = [];
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const fill = c > r ? rgb(MASKED_RGB) : color(cells[r * n + c]);
      rects.push(`<rect x="${(x0 + c * cell).toFixed(2)}" y="${(y0 + r * cell).toFixed(2)}" width="${cell.toFixed(2)}" height="${cell.toFixed(2)}" fill="${fill}"/>`);
    }
  }
  return [
    `<g id="${id}">`,
    text(x0, y0 - 8, heading, 'font-weight="bold"'),
    // Edges on whole pixels: anti-aliased seams between cells would read as a grid.
    `<g class="cells" shape-rendering="crispEdges">`,
    ...rects,
    '</g>',
    text(x0 + MAP / 2, y0 + MAP + 16, 'keys →', 'text-anchor="middle"'),
    text(x0 - 6, y0 + MAP / 2, 'queries ↓', `text-anchor="middle" transform="rotate(-90 ${x0 - 6} ${y0 + MAP / 2})"`),
    '</g>',
  ].join('\n');
}

interface ChartLine {
  mode: Mode;
  label: string;
  /** Pairs of (token position, value). */
  points: [number, number][];
}

function chartGroup(id: string, y0: number, heading: string, yLabel: string, tokens: number, lines: ChartLine[], span?: TokenSpan): string {
  const pad = { left: 50, right: 16, top: 22, bottom: 30 };
  const w = WIDTH - 20;
  const top = Math.max(0.05, ...lines.flatMap((l) => l.points.map((p) => p[1])));
  const x = (pos: number): number => 10 + pad.left + (tokens > 1 ? (pos / tokens) * (w - pad.left - pad.right) : 0);
  const y = (v: number): number => y0 + CHART_H - pad.bottom - (v / top) * (CHART_H - pad.top - pad.bottom);
  const parts = [`<g id="${id}">`, text(10, y0 + 12, heading, 'font-weight="bold"')];
  if (span) parts.push(`<rect class="span" x="${x(span.start).toFixed(1)}" y="${y(top).toFixed(1)}" width="${Math.max(1.5, x(span.end) - x(span.start)).toFixed(1)}" height="${(y(0) - y(top)).toFixed(1)}" fill="#cfe3ff"/>`);
  parts.push(
    `<line x1="${x(0)}" y1="${y(0).toFixed(1)}" x2="${x(tokens).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#666"/>`,
    `<line x1="${x(0)}" y1="${y(0).toFixed(1)}" x2="${x(0)}" y2="${y(top).toFixed(1)}" stroke="#666"/>`,
    text(x(0) - 4, y(top) + 4, top.toFixed(3), 'text-anchor="end"'),
    text(x(0) - 4, y(0) + 4, '0', 'text-anchor="end"'),
    text(x(0) - 38, (y(0) + y(top)) / 2, yLabel, `text-anchor="middle" transform="rotate(-90 ${x(0) - 38} ${(y(0) + y(top)) / 2})"`),
    text((x(0) + x(tokens)) / 2, y0 + CHART_H - 6, `position (tokens 1–${tokens})`, 'text-anchor="middle"'),
  );
  lines.forEach((l, i) => {
    const dash = MODE_DASH[l.mode] ? ` stroke-dasharray="${MODE_DASH[l.mode]}"` : '';
    const pts = l.points.map(([p, v]) => `${x(p).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline class="series ${l.mode}" points="${pts}" fill="none" stroke="${MODE_COLORS[l.mode]}" stroke-width="1.5"${dash}/>`);
    const lx = x(tokens) - 260;
    const ly = y0 + pad.top + 4 + i * 14;
    parts.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${MODE_COLORS[l.mode]}" stroke-width="2"${dash}/>`, text(lx + 24, ly, l.label));
  });
  parts.push('</g>');
  return parts.join('\n');
}

/** The key of the relevance scale: a ramp from white (0, rejected) to orange (1), with the legend lines above it. */
function legendGroup(y0: number, lines: string[]): string {
  const steps = 10;
  const w = 16;
  const ry = y0 + lines.length * 14 + 2;
  const x0 = 150;
  const ramp = Array.from({ length: steps + 1 }, (_, k) => `<rect x="${x0 + k * w}" y="${ry}" width="${w}" height="10" fill="${rgb(relevanceColor(k / steps, PAGE_RGB))}" stroke="#999" stroke-width="0.5"/>`);
  return [
    '<g id="legend">',
    ...lines.map((l, k) => text(10, y0 + 10 + k * 14, l)),
    text(10, ry + 9, 'relevance 0 (rejected)'),
    ...ramp,
    text(x0 + (steps + 1) * w + 6, ry + 9, '1'),
    '</g>',
  ].join('\n');
}

/** The figure as SVG text: map (and difference map, or the second map beside screening), focus curves, needle. */
export function renderSvgFigure(input: SvgFigureInput): string {
  const { inspections } = input;
  if (inspections.length < 1 || inspections.length > 2) throw new RangeError('SVG figure: one or two inspections');
  const [a, b] = inspections;
  const T = a.tokens.length;
  if (b && (b.tokens.length !== T || b.range.start !== a.range.start)) throw new RangeError('SVG figure: the two inspections must cover the same window');
  const same = !b || sameQuantity(a.mode, b.mode);
  const selection = b ? compareSelection([a.mode, b.mode], input.selection) : input.selection;
  for (const insp of inspections) checkSelection(insp, selection);
  const anyRelevance = inspections.some((insp) => isRelevance(insp.mode));
  const which = selectionLabel(selection);
  const parts: string[] = [];
  let y = 30;
  if (anyRelevance) {
    const lines = [quantityLegend(inspections.map((insp) => insp.mode))];
    if (!same) {
      const [w, r] = isRelevance(a.mode) ? [b, a] : [a, b];
      const how = selection.kind === 'aggregate' ? selection.how : 'mean';
      lines.push(`${MODE_LABELS[w.mode]}'s ${w.model.layers} x ${w.model.heads} heads and ${MODE_LABELS[r.mode]}'s ${r.model.layers} x ${r.model.heads} tiles do not pair: each map is the ${how} over all of them; no difference map.`);
    }
    parts.push(legendGroup(y, lines));
    y += LEGEND_H + (lines.length - 1) * 14;
  }
  y += 24;
  const mapOf = (id: string, x0: number, insp: Inspection): string => {
    const relevance = isRelevance(insp.mode);
    const heading = `${MODE_LABELS[insp.mode]}${relevance ? ' relevance' : same ? '' : ' attention weight'}: ${which}`;
    return mapGroup(id, x0, y, heading, pooledOf(insp, selection), insp.pooled.bins, (v) => rgb(relevance ? relevanceColor(v, PAGE_RGB) : weightColor(v)));
  };
  parts.push(mapOf('map', 40, a));
  if (b && same) {
    const diff = difference(pooledOf(a, selection), pooledOf(b, selection));
    parts.push(mapGroup('difference', WIDTH / 2 + 20, y, `${MODE_LABELS[b.mode]} − ${MODE_LABELS[a.mode]}`, diff, a.pooled.bins, (v) => rgb(divergingColor(v, PAGE_RGB))));
  } else if (b) {
    parts.push(mapOf('map-2', WIDTH / 2 + 20, b));
  }
  y += MAP + 40;
  const focusLines = inspections.map((insp) => {
    const { starts, ends, values } = downsample(focusOf(insp, selection), POINTS, 'mean');
    const label = same ? MODE_LABELS[insp.mode] : `${MODE_LABELS[insp.mode]} (largest ${isRelevance(insp.mode) ? 'relevance' : 'weight'})`;
    return { mode: insp.mode, label, points: Array.from(values, (v, i): [number, number] => [(starts[i] + ends[i]) / 2, v]) };
  });
  const focusWhat = !anyRelevance ? 'Focus (largest weight)' : same ? 'Largest relevance' : 'Focus (largest weight or relevance)';
  parts.push(chartGroup('focus', y, `${focusWhat} by position: ${which}`, anyRelevance ? (same ? 'largest relevance' : 'weight or relevance') : 'focus', T, focusLines));
  y += CHART_H + 16;
  if (input.needle) {
    const { span, curves } = input.needle;
    const needleText = a.tokens
      .slice(span.start, span.end)
      .map((t) => t.text)
      .join('');
    const lines = curves.map((c, i) => {
      const insp = inspections[i];
      const best = bestNeedleHead(c);
      const d = downsample(c.perHead[best] ?? c.mean, POINTS, 'max');
      const label = `${MODE_LABELS[insp.mode]}, best ${isRelevance(insp.mode) ? 'tile' : 'head'} ${headLabel(Math.floor(best / insp.model.heads), best % insp.model.heads)}${c.exact ? '' : ' (top-k lower bound)'}`;
      return { mode: insp.mode, label, points: Array.from(d.values, (v, k): [number, number] => [c.first + (d.starts[k] + d.ends[k]) / 2, v]) };
    });
    const reaching = !anyRelevance ? 'attention' : same ? 'relevance' : 'attention or relevance';
    parts.push(chartGroup('needle', y, `Needle: ${reaching} reaching "${needleText}" (tokens ${span.start + 1}–${span.end}) from every later token`, anyRelevance ? (same ? 'relevance on the span' : 'mass or relevance') : 'mass on the span', T, lines, span));
    y += CHART_H + 16;
  }
  const heading = `${input.title}: ${T.toLocaleString('en-US')} tokens, model ${a.model.id}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="Helvetica, Arial, sans-serif" font-size="11" fill="#222">`,
    `<title>${escapeXml(heading)}</title>`,
    `<rect width="${WIDTH}" height="${y}" fill="#fff"/>`,
    text(10, 20, heading, 'font-size="14" font-weight="bold"'),
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
