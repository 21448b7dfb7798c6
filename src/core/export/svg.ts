// Figures for papers: the attention map, the difference map of two modes, the focus curves and the
// needle as one SVG, in the view's colours (viridis on the map scale, the diverging difference
// scale, one colour per mode). Text stays <text>, so labels can be edited; every token text is escaped.
import { downsample } from '../../shared/buckets';
import { MASKED_RGB, divergingColor, weightColor } from '../../shared/color-scale';
import { difference } from '../../shared/compare';
import type { HeadSelection, Mode } from '../../shared/vocabulary';
import { MODE_LABELS, headLabel, selectionLabel } from '../../shared/vocabulary';
import type { Inspection } from '../inspection-types';
import type { NeedleCurve, TokenSpan } from '../reading/needle';
import { bestNeedleHead } from '../reading/needle';
import { focusOf, pooledOf } from '../reading/selection';

export interface SvgFigureInput {
  /** The document's name, for the heading. */
  title: string;
  selection: HeadSelection;
  /** One inspection, or two of the same window in two modes (the second adds the difference map). */
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
const WHITE: [number, number, number] = [255, 255, 255];

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

/** The figure as SVG text: map (and difference map), focus curves, needle. */
export function renderSvgFigure(input: SvgFigureInput): string {
  const { inspections, selection } = input;
  if (inspections.length < 1 || inspections.length > 2) throw new RangeError('SVG figure: one or two inspections');
  const [a, b] = inspections;
  const T = a.tokens.length;
  if (b && (b.tokens.length !== T || b.range.start !== a.range.start)) throw new RangeError('SVG figure: the two inspections must cover the same window');
  const bins = a.pooled.bins;
  const which = selectionLabel(selection);
  const parts: string[] = [];
  let y = 54;
  const mapA = pooledOf(a, selection);
  parts.push(mapGroup('map', 40, y, `${MODE_LABELS[a.mode]}: ${which}`, mapA, bins, (v) => rgb(weightColor(v))));
  if (b) {
    const diff = difference(mapA, pooledOf(b, selection));
    parts.push(mapGroup('difference', WIDTH / 2 + 20, y, `${MODE_LABELS[b.mode]} − ${MODE_LABELS[a.mode]}`, diff, bins, (v) => rgb(divergingColor(v, WHITE))));
  }
  y += MAP + 40;
  const focusLines = inspections.map((insp) => {
    const { starts, ends, values } = downsample(focusOf(insp, selection), POINTS, 'mean');
    return { mode: insp.mode, label: MODE_LABELS[insp.mode], points: Array.from(values, (v, i): [number, number] => [(starts[i] + ends[i]) / 2, v]) };
  });
  parts.push(chartGroup('focus', y, `Focus (largest weight) by position: ${which}`, 'focus', T, focusLines));
  y += CHART_H + 16;
  if (input.needle) {
    const { span, curves } = input.needle;
    const heads = a.model.heads;
    const needleText = a.tokens
      .slice(span.start, span.end)
      .map((t) => t.text)
      .join('');
    const lines = curves.map((c, i) => {
      const best = bestNeedleHead(c);
      const d = downsample(c.perHead[best] ?? c.mean, POINTS, 'max');
      const label = `${MODE_LABELS[inspections[i].mode]}, best head ${headLabel(Math.floor(best / heads), best % heads)}${c.exact ? '' : ' (top-k lower bound)'}`;
      return { mode: inspections[i].mode, label, points: Array.from(d.values, (v, k): [number, number] => [c.first + (d.starts[k] + d.ends[k]) / 2, v]) };
    });
    parts.push(chartGroup('needle', y, `Needle: attention reaching "${needleText}" (tokens ${span.start + 1}–${span.end}) from every later token`, 'mass on the span', T, lines, span));
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
