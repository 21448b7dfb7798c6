// Compare: the selected head (or aggregate) under two modes side by side: both attention maps and
// their difference (second minus first, diverging blue-orange), a focus strip per mode, and the
// head's focus by position under each. One pointer drives all three maps: the same cell is marked
// on each and one readout gives query, key and the weight under each mode.
// Beside screening the two sides are different quantities (attention weight vs relevance per key)
// and heads do not pair with tiles: the host sends aggregates only, and the view draws no difference
// map, says so, and draws relevance on its absolute scale with 0 (rejected) as the background.
import { downsample } from '../shared/buckets';
import { difference, quantityLegend, sameQuantity } from '../shared/compare';
import { relevanceColor, weightColor } from '../shared/color-scale';
import type { Mode } from '../shared/vocabulary';
import { MODE_LABELS, isRelevance, selectionLabel } from '../shared/vocabulary';
import type { PanelCompare, PanelDocument } from '../protocol';
import type { Zoom } from './heatmap';
import { Heatmap } from './heatmap';
import { LineChart } from './line-chart';
import { themeColor } from './theme-color';
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
  private readonly legend = document.createElement('div');
  private readonly readout = document.createElement('div');
  /** The two modes' maps, then the difference map. */
  private readonly maps: Heatmap[] = [];
  /** Whether each mode's map draws relevance (built with the background-anchored scale). */
  private readonly relevanceMaps = [false, false];
  private readonly figures: HTMLElement[] = [];
  private readonly captions: HTMLElement[] = [];
  private readonly relevanceKeys: HTMLElement[] = [relevanceKey(), relevanceKey()];
  private readonly strips: HTMLCanvasElement[] = [document.createElement('canvas'), document.createElement('canvas')];
  private readonly stripLabels: HTMLElement[] = [document.createElement('span'), document.createElement('span')];
  private readonly chart = new LineChart('compare-chart', 'Focus of the selected head', 'Focus by position: waiting for both modes…');
  private readonly chartCaption = document.createElement('figcaption');
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
    this.legend.className = 'compare-legend';
    this.legend.dataset.testid = 'compare-legend';
    this.readout.className = 'readout';
    this.readout.dataset.testid = 'compare-readout';
    this.readout.setAttribute('aria-live', 'polite');
    this.readout.textContent = PROMPT;
    const pick = (i: 0 | 1) => (value: string) => {
      const modes = this.compare?.modes;
      if (!modes) return;
      const next: [Mode, Mode] = [...modes];
      // Picking the other side's mode swaps the two.
      if (value === modes[1 - i]) next[1 - i] = modes[i];
      next[i] = value as Mode;
      cb.onModes(next);
    };
    this.pickA = createDropdown('compare-mode-a', 'First mode', pick(0));
    this.pickB = createDropdown('compare-mode-b', 'Second mode', pick(1));
    const header = document.createElement('div');
    header.className = 'compare-header';
    const vs = document.createElement('span');
    vs.textContent = 'vs';
    header.append(this.title, this.pickA.element, vs, this.pickB.element);

    const row = document.createElement('div');
    row.className = 'compare-maps';
    for (let i = 0; i < 3; i++) {
      const fig = document.createElement('figure');
      const cap = document.createElement('figcaption');
      this.figures.push(fig);
      this.captions.push(cap);
      this.maps.push(this.newMap(i, false));
      fig.append(cap, this.maps[i].element);
      fig.append(i === 2 ? diffLegend() : this.relevanceKeys[i]);
      row.append(fig);
    }
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
    chartFig.append(this.chartCaption, this.chart.element);
    row.append(chartFig);
    this.element.append(header, this.note, this.legend, row, this.readout, strips);
  }

  get zoom(): Zoom | undefined {
    return this.maps[0].currentZoom;
  }

  set(compare: PanelCompare, doc: PanelDocument, modes: readonly Mode[], zoom: Zoom | undefined): void {
    // The readout described the old maps (or said they were computing): start over.
    if (!this.compare?.heads || compare.heads?.[0].documentId !== this.compare.heads[0].documentId) this.readout.textContent = PROMPT;
    this.compare = compare;
    const [a, b] = compare.modes;
    const same = sameQuantity(a, b);
    const choices = modes.map((m) => ({ value: m, label: MODE_LABELS[m] }));
    this.pickA.set(choices, a);
    this.pickB.set(choices, b);
    const sel = compare.heads?.[0].selection;
    this.title.textContent = `Compare${sel ? ` · ${selectionLabel(sel)}` : ''}:`;
    this.note.textContent = compare.error
      ? compare.error
      : !same
        ? `${MODE_LABELS[isRelevance(a) ? b : a]}'s heads and ${MODE_LABELS[isRelevance(a) ? a : b]}'s tiles do not pair: only the mean or max over all of them, and no difference map.`
        : compare.sameWeights
          ? `${MODE_LABELS[a]} and ${MODE_LABELS[b]} run the same weights: each head is the same head under both.`
          : `${MODE_LABELS[a]} and ${MODE_LABELS[b]} are different checkpoints: heads match by index only, so the mean over heads is the fair comparison.`;
    this.note.classList.toggle('error', compare.error !== undefined);
    this.legend.textContent = same ? '' : quantityLegend(compare.modes);
    this.legend.hidden = same;
    this.figures[2].hidden = !same;
    compare.modes.forEach((m, i) => {
      this.setRelevance(i, isRelevance(m));
      this.captions[i].textContent = isRelevance(m) ? `${MODE_LABELS[m]}: relevance` : same ? MODE_LABELS[m] : `${MODE_LABELS[m]}: attention weight`;
      this.stripLabels[i].textContent = `${MODE_LABELS[m]} ${isRelevance(m) ? 'largest relevance' : 'focus'}`;
    });
    this.captions[2].textContent = `${MODE_LABELS[b]} − ${MODE_LABELS[a]}`;
    this.chartCaption.textContent = same ? 'Focus by position' : 'Focus by position: largest weight or relevance per token';
    this.chart.setWhat(same ? 'Focus of the selected head' : 'Largest weight or relevance');
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
    if (same) this.maps[2].setData({ pooled: difference(ha.pooled, hb.pooled), bins: ha.bins, binSize: ha.binSize, texts }, zoom);
    this.drawStrips();
    this.chart.element.style.width = `${Math.round(this.cb.side())}px`;
    this.chart.render(
      heads.map((h, i) => {
        const { starts, values } = downsample(h.focus, FOCUS_BUCKETS, 'mean');
        const mode = compare.modes[i];
        return { mode, starts, values, note: same ? undefined : isRelevance(mode) ? '(largest relevance)' : '(largest weight)' };
      }),
      texts.length,
    );
  }

  /** Maps drawn (0 while the second mode runs): both modes', and their difference where they are one quantity. */
  get mapsShown(): number {
    if (!this.compare?.heads) return 0;
    return sameQuantity(...this.compare.modes) ? 3 : 2;
  }

  draw(): void {
    if (!this.compare?.heads) return;
    for (const m of this.maps) m.draw();
    this.chart.element.style.width = `${Math.round(this.cb.side())}px`;
    this.drawStrips();
  }

  private newMap(i: number, relevance: boolean): Heatmap {
    return new Heatmap({
      testId: ['compare-map-a', 'compare-map-b', 'compare-diff'][i],
      title: i === 2 ? 'Difference map' : relevance ? 'Relevance map' : 'Attention map',
      // Relevance is drawn on the diverging scale's positive half: 0 (rejected) is the background,
      // 1 full orange, absolute (relevanceColor in shared/color-scale.ts is the same ramp).
      diverging: i === 2 || relevance,
      side: this.cb.side,
      onRevealQuery: this.cb.onRevealQuery,
      onZoom: (zoom) => this.zoomAll(zoom, i),
      onCell: (r, c) => this.showCell(r, c),
    });
  }

  /** A mode's map draws relevance or weights: the map is rebuilt when that changes (its scale is fixed at construction). */
  private setRelevance(i: number, relevance: boolean): void {
    this.relevanceKeys[i].hidden = !relevance;
    if (this.relevanceMaps[i] === relevance) return;
    this.relevanceMaps[i] = relevance;
    const map = this.newMap(i, relevance);
    this.maps[i].element.replaceWith(map.element);
    this.maps[i] = map;
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
    const max = heads[0].binSize === 1 ? '' : 'max ';
    if (!sameQuantity(a, b)) {
      const value = (m: Mode, v: number): string =>
        isRelevance(m) ? `${MODE_LABELS[m]} ${max}relevance ${v.toFixed(3)}${v === 0 ? ' (rejected)' : ''}` : `${MODE_LABELS[m]} ${max}weight ${v.toFixed(3)}`;
      this.readout.textContent = `${cell.where}: ${value(a, wa)} · ${value(b, wb)}`;
      return;
    }
    const d = wb - wa;
    this.readout.textContent = `${cell.where}: ${max}weight ${MODE_LABELS[a]} ${wa.toFixed(3)} · ${MODE_LABELS[b]} ${wb.toFixed(3)} · difference ${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(3)}`;
  }

  /** Each mode's focus per token as a band, a pixel column per run of tokens (their largest focus); relevance 0 is the background. */
  private drawStrips(): void {
    const heads = this.compare?.heads;
    const modes = this.compare?.modes;
    if (!heads || !modes) return;
    // The labels' column is as wide as the longer label ("Screening largest relevance"): the strips take the rest.
    const labels = Math.max(...this.stripLabels.map((l) => l.offsetWidth));
    const width = Math.max(120, Math.round(this.element.clientWidth - Math.max(130, labels + 24)));
    const bg = themeColor('--vscode-editor-background', [30, 30, 30, 1]);
    const empty: [number, number, number] = [bg[0], bg[1], bg[2]];
    heads.forEach((h, i) => {
      const relevance = isRelevance(modes[i]);
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
        image.data.set([...(relevance ? relevanceColor(top, empty) : weightColor(top)), 255], x * 4);
      }
      for (const f of h.focus) sum += f;
      canvas.getContext('2d')?.putImageData(image, 0, 0);
      canvas.setAttribute('aria-label', `${MODE_LABELS[modes[i]]} ${relevance ? 'largest relevance' : 'focus'} per token, mean ${(sum / Math.max(1, n)).toFixed(3)}`);
    });
  }
}

/** The difference scale's key. */
function diffLegend(): HTMLElement {
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

/** The relevance scale's key: empty at 0 (rejected), orange toward 1. */
function relevanceKey(): HTMLElement {
  const el = document.createElement('div');
  el.className = 'relevance-legend';
  el.dataset.testid = 'compare-relevance-key';
  el.hidden = true;
  const zero = document.createElement('span');
  zero.textContent = '0 rejected (empty)';
  const ramp = document.createElement('span');
  ramp.className = 'ramp';
  ramp.setAttribute('aria-hidden', 'true');
  const one = document.createElement('span');
  one.textContent = '1';
  el.append(zero, ramp, one);
  return el;
}
