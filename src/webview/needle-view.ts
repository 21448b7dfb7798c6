// The Needle section: how much attention reaches the selected span from every later token, one
// line per mode. By default each mode shows the head that puts the most mass on the span, named in
// the caption; a small multiple shows the mean, the max and every head, all modes overlaid, and
// clicking one shows it large. A screening series is relevance (a plain sum over the span's keys,
// absolute, not a share of a row): it gets a chart of its own, and the small multiple shows the
// heads or tiles of the shown document's kind only, since heads and tiles do not pair.
//
// data-testid: needle-caption, needle-chart (the large chart), needle-relevance-chart (screening's,
// when the needle has a screening series), needle-heads (the small multiple),
// needle-head (one button per curve; data-curve = "best", "mean", "max" or "L2 H3"; aria-pressed).
import type { NeedleSeries, PanelNeedle } from '../protocol';
import { MODE_LABELS, headLabel, isRelevance } from '../shared/vocabulary';
import type { LineSeries } from './line-chart';
import { LineChart } from './line-chart';
import { needleCaption } from './page-state';

const SVG = 'http://www.w3.org/2000/svg';
const W = 120;
const H = 44;

/** Which curve the large chart shows: each mode's best head, or one curve index of the small multiple (0 mean, 1 max, 2 + head). */
type Shown = 'best' | number;

export class NeedleView {
  readonly caption = document.createElement('p');
  readonly chart = new LineChart('needle-chart', 'Attention reaching the span', '');
  readonly relevanceChart = new LineChart('needle-relevance-chart', 'Relevance reaching the span (screening: summed over its keys, absolute, not a share)', '');
  readonly heads = document.createElement('div');
  private shown: Shown = 'best';
  private needle: PanelNeedle | undefined;
  private tokens = 0;
  private headsPerLayer = 1;
  /** The shown document's kind: its heads (or tiles) make the small multiple. */
  private relevance = false;

  constructor() {
    this.caption.className = 'needle-caption';
    this.caption.dataset.testid = 'needle-caption';
    this.heads.className = 'needle-heads';
    this.heads.dataset.testid = 'needle-heads';
    this.heads.setAttribute('role', 'group');
    this.heads.setAttribute('aria-label', 'Needle of every head');
  }

  /** A new needle shows the best heads again. */
  render(needle: PanelNeedle, tokens: number, headsPerLayer: number, relevance: boolean): void {
    if (needle !== this.needle) this.shown = 'best';
    this.needle = needle;
    this.tokens = tokens;
    this.headsPerLayer = Math.max(1, headsPerLayer);
    this.relevance = relevance;
    this.draw();
  }

  private name(curve: number): string {
    const over = this.relevance ? 'tiles' : 'heads';
    if (curve === 0) return `mean over ${over}`;
    if (curve === 1) return `max over ${over}`;
    const h = curve - 2;
    return headLabel(Math.floor(h / this.headsPerLayer), h % this.headsPerLayer);
  }

  private draw(): void {
    const needle = this.needle;
    if (!needle) return;
    // Each series' best head is named by its own model's shape (a screening series' tiles, 11 a layer).
    const label = (s: NeedleSeries): string => (this.own(s) ? this.name(2 + s.bestHead) : `its best ${isRelevance(s.mode) ? 'tile' : 'head'}`);
    const best = needle.series.map((s) => `${MODE_LABELS[s.mode]}: ${label(s)}`).join(', ');
    const which = this.shown === 'best' ? `Shown: each mode's best head (${best})` : `Shown: ${this.name(this.shown)}; best heads: ${best}`;
    this.caption.textContent = needleCaption(needle, which);
    const shown = this.shown;
    const line = (s: NeedleSeries): LineSeries => {
      const note = [shown === 'best' || !this.own(s) ? label(s) : '', s.exact ? '' : '(top-k lower bound)'].filter(Boolean).join(' ');
      if (shown === 'best' || !this.own(s)) return { mode: s.mode, starts: s.starts, values: s.values, note };
      return { mode: s.mode, starts: s.curveStarts, values: curveOf(s, shown), note };
    };
    const span = { start: needle.start, end: needle.end };
    const weights = needle.series.filter((s) => !isRelevance(s.mode));
    const relevance = needle.series.filter((s) => isRelevance(s.mode));
    this.chart.element.hidden = weights.length === 0;
    this.chart.render(weights.map(line), this.tokens, span);
    this.relevanceChart.element.hidden = relevance.length === 0;
    this.relevanceChart.render(relevance.map(line), this.tokens, span);
    this.drawSmallMultiple(needle);
  }

  /** A series of the shown document's kind: its curves are the small multiple's heads (or tiles). */
  private own(s: NeedleSeries): boolean {
    return isRelevance(s.mode) === this.relevance;
  }

  private drawSmallMultiple(needle: PanelNeedle): void {
    const first = needle.series.find((s) => this.own(s));
    if (!first) {
      this.heads.replaceChildren();
      return;
    }
    const count = first.curves.length / first.curveStarts.length;
    const cells: HTMLElement[] = [this.cell('best', 'best heads', needle)];
    for (let c = 0; c < count; c++) cells.push(this.cell(c, c < 2 ? (c === 0 ? 'mean' : 'max') : this.name(c), needle));
    this.heads.replaceChildren(...cells);
    this.heads.style.setProperty('--heads', String(this.headsPerLayer));
  }

  private cell(curve: Shown, label: string, needle: PanelNeedle): HTMLButtonElement {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'needle-head';
    b.dataset.testid = 'needle-head';
    b.dataset.curve = curve === 'best' ? 'best' : curve < 2 ? label : this.name(curve);
    const pressed = this.shown === curve;
    b.setAttribute('aria-pressed', String(pressed));
    b.classList.toggle('pressed', pressed);
    const own = needle.series.filter((s) => this.own(s));
    const isBest = typeof curve === 'number' && own.some((s) => 2 + s.bestHead === curve);
    b.classList.toggle('best', isBest);
    // Heads start a row of their own, a row a layer.
    b.classList.toggle('first-head', curve === 2);
    b.title = curve === 'best' ? "Each mode's best head" : `${label}${isBest ? ' (a best head)' : ''}`;
    const series = own.map((s) => ({ mode: s.mode, starts: curve === 'best' ? s.starts : s.curveStarts, values: curve === 'best' ? s.values : curveOf(s, curve) }));
    const top = Math.max(0.02, ...series.flatMap((s) => Array.from(s.values)));
    const plot = document.createElementNS(SVG, 'svg');
    plot.setAttribute('viewBox', `0 0 ${W} ${H}`);
    plot.setAttribute('aria-hidden', 'true');
    for (const s of series) {
      const line = document.createElementNS(SVG, 'polyline');
      const pts = Array.from(s.values, (v, i) => `${((s.starts[i] / Math.max(1, this.tokens)) * W).toFixed(1)},${(H - 2 - (v / top) * (H - 4)).toFixed(1)}`);
      line.setAttribute('points', pts.join(' '));
      line.setAttribute('class', `series ${s.mode}`);
      plot.append(line);
    }
    const name = document.createElement('span');
    name.textContent = `${label} · ${top.toFixed(2)}`;
    b.append(name, plot);
    b.setAttribute('aria-label', `${label}, peak ${top.toFixed(2)}`);
    b.addEventListener('click', () => {
      this.shown = curve;
      this.draw();
      this.heads.querySelector<HTMLButtonElement>(`button[data-curve="${b.dataset.curve ?? ''}"]`)?.focus();
    });
    return b;
  }
}

function curveOf(s: NeedleSeries, curve: number): Float32Array {
  const P = s.curveStarts.length;
  return s.curves.subarray(curve * P, (curve + 1) * P);
}
