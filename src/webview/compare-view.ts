// Compare: the selected head (or aggregate) under two modes side by side: both attention maps and
// their difference (second minus first, diverging blue-orange), a focus strip per mode, and the
// head's focus by position under each. One pointer drives all three maps: the same cell is marked
// on each and one readout gives query, key and the weight under each mode.
import { downsample } from '../shared/buckets';
import { difference } from '../shared/compare';
import { weightColor } from '../shared/color-scale';
import type { Mode } from '../shared/vocabulary';
import { MODE_LABELS, selectionLabel } from '../shared/vocabulary';
import type { PanelCompare, PanelDocument } from '../protocol';
import type { Zoom } from './heatmap';
import { Heatmap } from './heatmap';
import { LineChart } from './line-chart';
import type { Dropdown } from './toolkit/controls';
import { createDropdown } from './toolkit/controls';

const FOCUS_BUCKETS = 48;
const PROMPT = 'Point at a map: query, key, and the weight under each mode.';

export interface CompareCallbacks {
  side: () => number;
  onModes: (modes: [Mode, Mode]) => void;
  onRevealQuery: (token: number) => void;
  onZoom: (zoom: Zoom | undefined) => void;
}

export class CompareView {
  readonly element = document.createElement('section');
  private readonly title = document.createElement('div');
  private readonly note = document.createElement('div');
  private readonly readout = document.createElement('div');
  private readonly maps: Heatmap[];
  private readonly captions: HTMLElement[] = [];
  private readonly strips: HTMLCanvasElement[] = [document.createElement('canvas'), document.createElement('canvas')];
  private readonly stripLabels: HTMLElement[] = [document.createElement('span'), document.createElement('span')];
  private readonly chart = new LineChart('compare-chart', 'Focus of the selected head', 'Focus by position: waiting for both modes…');
  private readonly pickA: Dropdown;
  private readonly pickB: Dropdown;
  private compare: PanelCompare | undefined;

  constructor(private readonly cb: CompareCallbacks) {
    this.element.className = 'compare-view';
    this.element.dataset.testid = 'compare-view';
    this.element.setAttribute('aria-label', 'Compare two attention modes');
    this.title.className = 'compare-title';
    this.note.className = 'compare-note';
    this.note.dataset.testid = 'compare-note';
    this.readout.className = 'readout';
    this.readout.dataset.testid = 'compare-readout';
    this.readout.setAttribute('aria-live', 'polite');
    this.readout.textContent = PROMPT;
    const pick = (i: 0 | 1) => (value: string) => {
      const modes = this.compare?.modes;
      if (!modes) return;
      const next: [Mode, Mode] = [...modes];
      next[i] = value as Mode;
      if (next[0] !== next[1]) cb.onModes(next);
    };
    this.pickA = createDropdown('compare-mode-a', 'First mode', pick(0));
    this.pickB = createDropdown('compare-mode-b', 'Second mode', pick(1));
    const header = document.createElement('div');
    header.className = 'compare-header';
    const vs = document.createElement('span');
    vs.textContent = 'vs';
    header.append(this.title, this.pickA.element, vs, this.pickB.element);

    const ids = ['compare-map-a', 'compare-map-b', 'compare-diff'];
    this.maps = ids.map(
      (testId, i) =>
        new Heatmap({
          testId,
          title: i === 2 ? 'Difference map' : 'Attention map',
          diverging: i === 2,
          side: cb.side,
          onRevealQuery: cb.onRevealQuery,
          onZoom: (zoom) => this.zoomAll(zoom, i),
          onCell: (r, c) => this.showCell(r, c),
        }),
    );
    const row = document.createElement('div');
    row.className = 'compare-maps';
    this.maps.forEach((map, i) => {
      const fig = document.createElement('figure');
      const cap = document.createElement('figcaption');
      this.captions.push(cap);
      fig.append(cap, map.element);
      if (i === 2) fig.append(legend());
      row.append(fig);
    });
    const strips = document.createElement('div');
    strips.className = 'focus-strips';
    this.strips.forEach((canvas, i) => {
      canvas.dataset.testid = 'compare-focus-strip';
      canvas.setAttribute('role', 'img');
      this.stripLabels[i].className = 'strip-label';
      strips.append(this.stripLabels[i], canvas);
    });
    // The chart sits in the maps' row: beside the difference map when the maps go two a row.
    const chartFig = document.createElement('figure');
    const chartCap = document.createElement('figcaption');
    chartCap.textContent = 'Focus by position';
    chartFig.append(chartCap, this.chart.element);
    row.append(chartFig);
    this.element.append(header, this.note, row, this.readout, strips);
  }

  get zoom(): Zoom | undefined {
    return this.maps[0].currentZoom;
  }

  set(compare: PanelCompare, doc: PanelDocument, modes: readonly Mode[], zoom: Zoom | undefined): void {
    // The readout described the old maps (or said they were computing): start over.
    if (!this.compare?.heads || compare.heads?.[0].documentId !== this.compare.heads[0].documentId) this.readout.textContent = PROMPT;
    this.compare = compare;
    const [a, b] = compare.modes;
    const choices = modes.map((m) => ({ value: m, label: MODE_LABELS[m] }));
    this.pickA.set(choices, a);
    this.pickB.set(choices, b);
    const sel = compare.heads?.[0].selection;
    this.title.textContent = `Compare${sel ? ` · ${selectionLabel(sel)}` : ''}:`;
    this.note.textContent = compare.error
      ? compare.error
      : compare.sameWeights
        ? `${MODE_LABELS[a]} and ${MODE_LABELS[b]} run the same weights: each head is the same head under both.`
        : `${MODE_LABELS[a]} and ${MODE_LABELS[b]} are different checkpoints: heads match by index only, so the mean over heads is the fair comparison.`;
    this.note.classList.toggle('error', compare.error !== undefined);
    this.captions[0].textContent = MODE_LABELS[a];
    this.captions[1].textContent = MODE_LABELS[b];
    this.captions[2].textContent = `${MODE_LABELS[b]} − ${MODE_LABELS[a]}`;
    this.stripLabels[0].textContent = `${MODE_LABELS[a]} focus`;
    this.stripLabels[1].textContent = `${MODE_LABELS[b]} focus`;
    const heads = compare.heads;
    this.element.classList.toggle('pending', !heads);
    if (!heads) {
      if (!compare.error) this.readout.textContent = `Computing ${MODE_LABELS[b]} for this window…`;
      this.chart.render([], doc.texts.length);
      return;
    }
    const [ha, hb] = heads;
    const texts = doc.texts;
    this.maps[0].setData({ pooled: ha.pooled, bins: ha.bins, binSize: ha.binSize, texts }, zoom);
    this.maps[1].setData({ pooled: hb.pooled, bins: hb.bins, binSize: hb.binSize, texts }, zoom);
    this.maps[2].setData({ pooled: difference(ha.pooled, hb.pooled), bins: ha.bins, binSize: ha.binSize, texts }, zoom);
    this.drawStrips();
    this.chart.element.style.width = `${Math.round(this.cb.side())}px`;
    this.chart.render(
      heads.map((h) => {
        const { starts, values } = downsample(h.focus, FOCUS_BUCKETS, 'mean');
        return { mode: compare.modes[heads.indexOf(h)], starts, values };
      }),
      texts.length,
    );
  }

  /** Maps drawn (0 while the second mode runs). */
  get mapsShown(): number {
    return this.compare?.heads ? 3 : 0;
  }

  draw(): void {
    if (!this.compare?.heads) return;
    for (const m of this.maps) m.draw();
    this.chart.element.style.width = `${Math.round(this.cb.side())}px`;
    this.drawStrips();
  }

  private zoomAll(zoom: Zoom | undefined, from: number): void {
    this.maps.forEach((m, i) => {
      if (i !== from) m.setZoom(zoom, false);
    });
    this.cb.onZoom(zoom);
  }

  private showCell(r: number, c: number): void {
    const heads = this.compare?.heads;
    if (!heads || !this.compare) return;
    this.maps.forEach((m) => m.markCell({ r, c }));
    const cell = this.maps[0].describe(r, c);
    if (!cell) return;
    if (cell.masked) {
      this.readout.textContent = `${cell.where}: masked (the key comes later)`;
      return;
    }
    const [a, b] = this.compare.modes;
    const wa = heads[0].pooled[r * heads[0].bins + c];
    const wb = heads[1].pooled[r * heads[1].bins + c];
    const what = heads[0].binSize === 1 ? 'weight' : 'max weight';
    const d = wb - wa;
    this.readout.textContent = `${cell.where}: ${what} ${MODE_LABELS[a]} ${wa.toFixed(3)} · ${MODE_LABELS[b]} ${wb.toFixed(3)} · difference ${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(3)}`;
  }

  /** Each mode's focus per token as a band, a pixel column per run of tokens (their largest focus). */
  private drawStrips(): void {
    const heads = this.compare?.heads;
    if (!heads) return;
    const width = Math.max(120, Math.round(this.element.clientWidth - 130));
    heads.forEach((h, i) => {
      const canvas = this.strips[i];
      canvas.width = width;
      canvas.height = 1;
      canvas.style.width = `${width}px`;
      const image = new ImageData(width, 1);
      const n = h.focus.length;
      let sum = 0;
      for (let x = 0; x < width; x++) {
        let top = 0;
        for (let t = Math.floor((x * n) / width); t < Math.max(Math.floor(((x + 1) * n) / width), Math.floor((x * n) / width) + 1) && t < n; t++) top = Math.max(top, h.focus[t]);
        image.data.set([...weightColor(top), 255], x * 4);
      }
      for (const f of h.focus) sum += f;
      canvas.getContext('2d')?.putImageData(image, 0, 0);
      canvas.setAttribute('aria-label', `${MODE_LABELS[this.compare?.modes[i] ?? 'softmax']} focus per token, mean ${(sum / Math.max(1, n)).toFixed(3)}`);
    });
  }
}

/** The difference scale's key. */
function legend(): HTMLElement {
  const el = document.createElement('div');
  el.className = 'diverging-legend';
  const less = document.createElement('span');
  less.className = 'less';
  less.textContent = 'less under the second';
  const more = document.createElement('span');
  more.className = 'more';
  more.textContent = 'more under the second';
  el.append(less, more);
  return el;
}
