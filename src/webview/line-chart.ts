// A line chart over token position, one line per mode (CSS class = the mode, so each mode keeps
// its colour and dash everywhere): the fading chart (mean focus by position), the selected head's
// focus under two modes in Compare, and the needle (attention reaching a span, per later query).
import type { Mode } from '../shared/vocabulary';
import { MODE_LABELS } from '../shared/vocabulary';

const SVG = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 150;
const PAD = { left: 34, right: 8, top: 8, bottom: 22 };

export interface LineSeries {
  mode: Mode;
  /** [point]: first token of the point's positions. */
  starts: Int32Array;
  values: Float32Array;
  /** Appended to the legend entry, e.g. "(top-k lower bound)". */
  note?: string;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

export class LineChart {
  readonly element = document.createElement('figure');
  private readonly plot = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
  private readonly legend = document.createElement('figcaption');

  /** `what`: the y quantity, for the accessible summary ("Mean focus"). */
  constructor(
    testId: string,
    private what: string,
    private readonly empty: string,
  ) {
    this.element.className = 'line-chart';
    this.element.dataset.testid = testId;
    // Legend first: the panel area is short, and the bottom is where notifications cover it.
    this.element.append(this.legend, this.plot);
    this.render([], 0);
  }

  /** The y quantity named in the accessible summary, for a chart that shows one of several. */
  setWhat(what: string): void {
    this.what = what;
  }

  /** Positions run 0..tokens; `span` shades a token range (the needle's). */
  render(series: readonly LineSeries[], tokens: number, span?: { start: number; end: number }): void {
    const x = (pos: number): number => PAD.left + (tokens > 1 ? (pos / tokens) * (W - PAD.left - PAD.right) : 0);
    // A bucket without a value (NaN: no token measured there) is left out of the line.
    const top = Math.max(0.05, ...series.flatMap((s) => Array.from(s.values).filter(Number.isFinite)));
    const y = (v: number): number => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
    const parts: SVGElement[] = [];
    if (span) parts.push(svg('rect', { x: x(span.start), y: PAD.top, width: Math.max(1.5, x(span.end) - x(span.start)), height: y(0) - PAD.top, class: 'span' }));
    parts.push(
      svg('line', { x1: PAD.left, y1: y(0), x2: W - PAD.right, y2: y(0), class: 'axis' }),
      svg('line', { x1: PAD.left, y1: y(0), x2: PAD.left, y2: PAD.top, class: 'axis' }),
    );
    const label = (text: string, attrs: Record<string, string | number>): SVGTextElement => {
      const t = svg('text', { class: 'tick', ...attrs });
      t.textContent = text;
      return t;
    };
    parts.push(
      label(top.toFixed(2), { x: PAD.left - 4, y: PAD.top + 8, 'text-anchor': 'end' }),
      label('0', { x: PAD.left - 4, y: y(0), 'text-anchor': 'end' }),
      label(`position (tokens 1–${tokens})`, { x: (W + PAD.left) / 2, y: H - 6, 'text-anchor': 'middle' }),
    );
    for (const s of series) {
      const points = Array.from(s.values, (v, b) => {
        const end = b + 1 < s.starts.length ? s.starts[b + 1] : tokens;
        return Number.isFinite(v) ? `${x((s.starts[b] + end) / 2).toFixed(1)},${y(v).toFixed(1)}` : '';
      }).filter((p) => p !== '');
      parts.push(svg('polyline', { points: points.join(' '), class: `series ${s.mode}` }));
    }
    this.plot.replaceChildren(...parts);

    const summary = series.map((s) => {
      const v = Array.from(s.values).filter(Number.isFinite);
      return `${MODE_LABELS[s.mode]} ${v[0]?.toFixed(2) ?? '?'} → ${v[v.length - 1]?.toFixed(2) ?? '?'}, peak ${Math.max(0, ...v).toFixed(2)}`;
    });
    this.plot.setAttribute('aria-label', `${this.what} against position. ${summary.join('; ') || 'No data yet.'}`);
    this.legend.replaceChildren(
      ...series.map((s) => {
        const item = document.createElement('span');
        item.className = `legend ${s.mode}`;
        item.textContent = s.note ? `${MODE_LABELS[s.mode]} ${s.note}` : MODE_LABELS[s.mode];
        return item;
      }),
    );
    if (series.length === 0) this.legend.textContent = this.empty;
  }
}
