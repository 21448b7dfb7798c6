// The Needle section: how much attention reaches the selected span from every later token, one
// line per mode. By default each mode shows the head that puts the most mass on the span, named in
// the caption; a small multiple shows the mean, the max and every head, all modes overlaid, and
// clicking one shows it large.
//
// data-testid: needle-caption, needle-chart (the large chart), needle-heads (the small multiple),
// needle-head (one button per curve; data-curve = "best", "mean", "max" or "L2 H3"; aria-pressed).
import type { NeedleSeries, PanelNeedle } from '../protocol';
import { MODE_LABELS, headLabel } from '../shared/vocabulary';
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
  readonly heads = document.createElement('div');
  private shown: Shown = 'best';
  private needle: PanelNeedle | undefined;
  private tokens = 0;
  private headsPerLayer = 1;

  constructor() {
    this.caption.className = 'needle-caption';
    this.caption.dataset.testid = 'needle-caption';
    this.heads.className = 'needle-heads';
    this.heads.dataset.testid = 'needle-heads';
    this.heads.setAttribute('role', 'group');
    this.heads.setAttribute('aria-label', 'Needle of every head');
  }

  /** A new needle shows the best heads again. */
  render(needle: PanelNeedle, tokens: number, headsPerLayer: number): void {
    if (needle !== this.needle) this.shown = 'best';
    this.needle = needle;
    this.tokens = tokens;
    this.headsPerLayer = Math.max(1, headsPerLayer);
    this.draw();
  }

  private name(curve: number): string {
    if (curve === 0) return 'mean over heads';
    if (curve === 1) return 'max over heads';
    const h = curve - 2;
    return headLabel(Math.floor(h / this.headsPerLayer), h % this.headsPerLayer);
  }

  private draw(): void {
    const needle = this.needle;
    if (!needle) return;
    const best = needle.series.map((s) => `${MODE_LABELS[s.mode]}: ${this.name(2 + s.bestHead)}`).join(', ');
    const which = this.shown === 'best' ? `Shown: each mode's best head (${best})` : `Shown: ${this.name(this.shown)}; best heads: ${best}`;
    this.caption.textContent = needleCaption(needle, which);
    const shown = this.shown;
    this.chart.render(
      needle.series.map((s): LineSeries => {
        const note = [shown === 'best' ? this.name(2 + s.bestHead) : '', s.exact ? '' : '(top-k lower bound)'].filter(Boolean).join(' ');
        if (shown === 'best') return { mode: s.mode, starts: s.starts, values: s.values, note };
        return { mode: s.mode, starts: s.curveStarts, values: curveOf(s, shown), note };
      }),
      this.tokens,
      { start: needle.start, end: needle.end },
    );
    this.drawSmallMultiple(needle);
  }

  private drawSmallMultiple(needle: PanelNeedle): void {
    const first = needle.series[0];
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
    const isBest = typeof curve === 'number' && needle.series.some((s) => 2 + s.bestHead === curve);
    b.classList.toggle('best', isBest);
    // Heads start a row of their own, a row a layer.
    b.classList.toggle('first-head', curve === 2);
    b.title = curve === 'best' ? "Each mode's best head" : `${label}${isBest ? ' (a best head)' : ''}`;
    const series = needle.series.map((s) => ({ mode: s.mode, starts: curve === 'best' ? s.starts : s.curveStarts, values: curve === 'best' ? s.values : curveOf(s, curve) }));
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
