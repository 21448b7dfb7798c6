// Heatmap of an attention map (queries down, keys across) on a canvas: weights on the perceptual
// viridis scale (the PNG export's), or differences between two modes on a diverging blue-orange
// scale; the masked upper triangle shaded. A readout of query/key/weight under the pointer (or the
// keyboard cell), click reveals the query token, drag selects a region to zoom into. Compare puts
// three side by side: one hover marks the same cell on each and one readout describes it.
// Screening's relevance maps use the same absolute scale, and a relevance of 0 (rejected) is empty.
import type { PanelRegion } from '../protocol';
import { divergingColor, weightColor } from '../shared/color-scale';
import type { Rgba } from './theme-color';
import { themeColor } from './theme-color';

export interface HeatmapData {
  /** bins x bins cells: weights in [0, 1], or differences in [-1, 1] for a diverging map. */
  pooled: Float32Array;
  bins: number;
  binSize: number;
  texts: readonly string[];
  /** Screening's relevance, not weights: the readout says so, and 0 (every key rejected) is drawn empty. */
  relevance?: boolean;
  /** Replaces the options' title for this data ("Relevance map, Screening"). */
  title?: string;
}

/** Region shown, in bins: rows [r0, r1) are query bins, cols [c0, c1) key bins. */
export interface Zoom {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/** The zoomed region at full resolution from the host; data absent: the keys are gone. */
export type Detail = Omit<PanelRegion, 'requestId' | 'documentId'>;

const PROMPT = (quantity: string): string => `Point at the map: query, key, ${quantity}. Drag to zoom.`;

export interface HeatmapOptions {
  testId: string;
  /** What the map shows, for screen readers ("Attention map, Softmax"). */
  title: string;
  diverging?: boolean;
  /** Side in CSS pixels for the current page size. */
  side: () => number;
  onRevealQuery: (token: number) => void;
  onZoom: (zoom: Zoom | undefined) => void;
  onDrawn?: (ms: number, bins: number) => void;
  /** Pointer or keyboard on a cell; given, the map's own readout is replaced by the caller's. */
  onCell?: (r: number, c: number) => void;
}

export class Heatmap {
  readonly element = document.createElement('div');
  private readonly canvas = document.createElement('canvas');
  private readonly readout = document.createElement('div');
  private readonly band = document.createElement('div');
  private readonly mark = document.createElement('div');
  private readonly zoomLabel = document.createElement('div');
  private data: HeatmapData | undefined;
  /** The current zoom at full resolution, when the host sent it. */
  private detail: Detail | undefined;
  private zoom: Zoom | undefined;
  private drag: { r: number; c: number; x: number; y: number } | undefined;
  private kbd = { r: 0, c: 0 };

  constructor(private readonly opts: HeatmapOptions) {
    this.element.className = 'heatmap';
    this.canvas.dataset.testid = opts.testId;
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.readout.dataset.testid = `${opts.testId}-readout`;
    this.readout.className = 'readout';
    this.readout.setAttribute('aria-live', 'polite');
    this.readout.textContent = PROMPT('weight');
    this.band.className = 'zoom-band';
    this.band.hidden = true;
    this.mark.className = 'cell-mark';
    this.mark.hidden = true;
    const frame = document.createElement('div');
    frame.className = 'heatmap-frame';
    frame.append(this.canvas, this.band, this.mark);
    this.zoomLabel.className = 'zoom-label';
    this.zoomLabel.dataset.testid = `${opts.testId}-zoom`;
    this.zoomLabel.hidden = true;
    this.element.append(frame, this.zoomLabel);
    if (!opts.onCell) this.element.append(this.readout);

    this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
    this.canvas.addEventListener('mousedown', (e) => {
      const cell = this.cellAt(e);
      if (cell) this.drag = { ...cell, x: e.offsetX, y: e.offsetY };
    });
    this.canvas.addEventListener('mouseup', (e) => this.onUp(e));
    this.canvas.addEventListener('mouseleave', () => {
      this.drag = undefined;
      this.band.hidden = true;
    });
    this.canvas.addEventListener('dblclick', () => this.setZoom(undefined));
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
  }

  get currentZoom(): Zoom | undefined {
    return this.zoom;
  }

  setData(data: HeatmapData, zoom: Zoom | undefined): void {
    this.data = data;
    this.zoom = zoom && zoom.r1 <= data.bins && zoom.c1 <= data.bins ? zoom : undefined;
    this.kbd = { r: 0, c: 0 };
    this.mark.hidden = true;
    this.detail = undefined;
    // The earlier readout described the previous data.
    this.readout.textContent = PROMPT(this.quantity());
    this.canvas.setAttribute(
      'aria-label',
      `${data.title ?? this.opts.title}, ${data.bins} by ${data.bins} cells of ${data.binSize} token${data.binSize > 1 ? 's' : ''}; arrow keys move, Enter reveals the query, Escape resets zoom.`,
    );
    this.draw();
  }

  /** Zooms; reports the change unless it came from a linked map. */
  setZoom(zoom: Zoom | undefined, report = true): void {
    this.zoom = zoom;
    this.detail = undefined;
    if (report) this.opts.onZoom(zoom);
    this.draw();
  }

  /** Draws the current zoom from the host's full-resolution region (it must be the zoom's tokens). */
  setDetail(detail: Detail | undefined): void {
    this.detail = detail;
    this.draw();
  }

  /** Outlines a cell (the one hovered on a linked map); undefined hides the mark. */
  markCell(cell: { r: number; c: number } | undefined): void {
    const v = this.view();
    if (!cell || cell.r < v.r0 || cell.r >= v.r1 || cell.c < v.c0 || cell.c >= v.c1) {
      this.mark.hidden = true;
      return;
    }
    const side = this.canvas.clientWidth;
    const w = side / (v.c1 - v.c0);
    const h = side / (v.r1 - v.r0);
    this.mark.hidden = false;
    this.mark.style.left = `${(cell.c - v.c0) * w}px`;
    this.mark.style.top = `${(cell.r - v.r0) * h}px`;
    this.mark.style.width = `${Math.max(3, w)}px`;
    this.mark.style.height = `${Math.max(3, h)}px`;
  }

  /** Redraws at the current size and theme; reports the time taken. */
  draw(): void {
    const d = this.data;
    if (!d) return;
    const started = performance.now();
    const side = Math.max(96, Math.round(this.opts.side()));
    // The box hugs the canvas: a long readout wraps instead of widening the section.
    this.element.style.width = `${Math.max(side, 220)}px`;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.style.width = `${side}px`;
    this.canvas.style.height = `${side}px`;
    this.canvas.width = Math.round(side * dpr);
    this.canvas.height = Math.round(side * dpr);
    this.drawLabel();
    const v = this.view();
    const full = this.detail?.data ? this.detail : undefined;
    const w = full ? full.cols : v.c1 - v.c0;
    const h = full ? full.rows : v.r1 - v.r0;
    const masked = themeColor('--vscode-disabledForeground', [128, 128, 128, 1]);
    const bg = themeColor('--vscode-editor-background', [30, 30, 30, 1]);
    const neutral: [number, number, number] = [bg[0], bg[1], bg[2]];
    const image = new ImageData(w, h);
    const px = image.data;
    for (let r = 0; r < h; r++) {
      const row = (v.r0 + r) * d.bins;
      for (let c = 0; c < w; c++) {
        const i = (r * w + c) * 4;
        // Masked: every key of the cell comes after every query of the cell.
        const isMasked = full ? full.k0 + c * full.kBin > full.q0 + (r + 1) * full.qBin - 1 : v.c0 + c > v.r0 + r;
        if (isMasked) {
          px.set(maskedPixel(masked), i);
          continue;
        }
        const value = full ? full.data![r * w + c] : d.pooled[row + v.c0 + c];
        if (d.relevance && value <= 0) continue; // rejected: left empty, the background shows
        const rgb = this.opts.diverging ? divergingColor(value, neutral) : weightColor(value);
        px[i] = rgb[0];
        px[i + 1] = rgb[1];
        px[i + 2] = rgb[2];
        px[i + 3] = 255;
      }
    }
    const off = document.createElement('canvas');
    off.width = w;
    off.height = h;
    off.getContext('2d')?.putImageData(image, 0, 0);
    const g = this.canvas.getContext('2d');
    if (!g) return;
    g.clearRect(0, 0, this.canvas.width, this.canvas.height);
    g.imageSmoothingEnabled = false;
    g.drawImage(off, 0, 0, this.canvas.width, this.canvas.height);
    // The causal diagonal: keys right of it come after the query and are masked.
    const fg = themeColor('--vscode-editorLineNumber-foreground', [128, 128, 128, 1]);
    g.strokeStyle = `rgba(${fg[0]},${fg[1]},${fg[2]},0.8)`;
    g.lineWidth = dpr;
    g.beginPath();
    // Through the points where key = query, in tokens.
    const t = this.tokensShown();
    const sx = this.canvas.width / (t.k1 - t.k0);
    const sy = this.canvas.height / (t.q1 - t.q0);
    const step = full ? 1 : d.binSize;
    g.moveTo((t.q0 + step - t.k0) * sx, 0);
    g.lineTo((t.q1 + step - t.k0) * sx, (t.q1 - t.q0) * sy);
    g.stroke();
    this.opts.onDrawn?.(performance.now() - started, d.bins);
  }

  /** "query #12 "x" → key #3 "y"" for a cell, and its value. */
  describe(r: number, c: number): { where: string; value: number; masked: boolean } | undefined {
    const d = this.data;
    if (!d) return undefined;
    const span = (bin: number): string => {
      const a = bin * d.binSize;
      const b = Math.min(d.texts.length, a + d.binSize) - 1;
      const first = JSON.stringify(d.texts[a] ?? '');
      return d.binSize === 1 ? `#${a + 1} ${first}` : `#${a + 1}–${b + 1} (${first}…)`;
    };
    return { where: `query ${span(r)} → key ${span(c)}`, value: c > r ? 0 : (d.pooled[r * d.bins + c] ?? 0), masked: c > r };
  }

  /** Token ranges on screen: queries [q0, q1), keys [k0, k1). */
  private tokensShown(): { q0: number; q1: number; k0: number; k1: number } {
    const d = this.detail;
    if (d?.data) return d;
    const v = this.view();
    const b = this.data?.binSize ?? 1;
    return { q0: v.r0 * b, q1: v.r1 * b, k0: v.c0 * b, k1: v.c1 * b };
  }

  private drawLabel(): void {
    const d = this.data;
    this.zoomLabel.hidden = !this.zoom || !d;
    if (!this.zoom || !d) return;
    const T = d.texts.length;
    const v = this.zoom;
    const b = d.binSize;
    const range = `tokens ${v.r0 * b + 1}–${Math.min(T, v.r1 * b)} × ${v.c0 * b + 1}–${Math.min(T, v.c1 * b)}`;
    const how = this.detail?.data
      ? this.detail.qBin === 1 && this.detail.kBin === 1
        ? 'full resolution, one token a cell'
        : `full resolution, ${this.detail.qBin} x ${this.detail.kBin} tokens a cell`
      : this.detail
        ? `pooled cells of ${b} tokens: the model no longer holds these keys`
        : b > 1
          ? `pooled cells of ${b} tokens`
          : 'one token a cell';
    this.zoomLabel.textContent = `zoomed: ${range} (${how})`;
  }

  private view(): Zoom {
    const bins = this.data?.bins ?? 0;
    return this.zoom ?? { r0: 0, r1: bins, c0: 0, c1: bins };
  }

  private cellAt(e: MouseEvent): { r: number; c: number } | undefined {
    if (!this.data) return undefined;
    const v = this.view();
    const rect = this.canvas.getBoundingClientRect();
    const c = v.c0 + Math.floor(((e.clientX - rect.left) / rect.width) * (v.c1 - v.c0));
    const r = v.r0 + Math.floor(((e.clientY - rect.top) / rect.height) * (v.r1 - v.r0));
    if (r < v.r0 || r >= v.r1 || c < v.c0 || c >= v.c1) return undefined;
    return { r, c };
  }

  private onMove(e: MouseEvent): void {
    const cell = this.cellAt(e);
    const full = this.detail?.data ? this.detail : undefined;
    if (full && cell && !this.opts.onCell) this.showDetail(e, full);
    else if (cell) this.showCell(cell.r, cell.c);
    if (this.drag) {
      const x = Math.min(this.drag.x, e.offsetX);
      const y = Math.min(this.drag.y, e.offsetY);
      this.band.hidden = false;
      this.band.style.left = `${x}px`;
      this.band.style.top = `${y}px`;
      this.band.style.width = `${Math.abs(e.offsetX - this.drag.x)}px`;
      this.band.style.height = `${Math.abs(e.offsetY - this.drag.y)}px`;
    }
  }

  private onUp(e: MouseEvent): void {
    const start = this.drag;
    this.drag = undefined;
    this.band.hidden = true;
    const cell = this.cellAt(e);
    if (!start || !cell) return;
    const moved = Math.hypot(e.offsetX - start.x, e.offsetY - start.y);
    if (moved < 5) {
      this.revealQuery(cell.r);
      return;
    }
    const r0 = Math.min(start.r, cell.r);
    const c0 = Math.min(start.c, cell.c);
    const r1 = Math.max(start.r, cell.r) + 1;
    const c1 = Math.max(start.c, cell.c) + 1;
    // A square region keeps cells square.
    const side = Math.max(2, r1 - r0, c1 - c0);
    const bins = this.data?.bins ?? 0;
    const rs = Math.min(r0, Math.max(0, bins - side));
    const cs = Math.min(c0, Math.max(0, bins - side));
    this.setZoom({ r0: rs, r1: Math.min(bins, rs + side), c0: cs, c1: Math.min(bins, cs + side) });
  }

  private onKey(e: KeyboardEvent): void {
    const v = this.view();
    const step: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (e.key in step) {
      const [dr, dc] = step[e.key];
      this.kbd = {
        r: Math.min(v.r1 - 1, Math.max(v.r0, this.kbd.r + dr)),
        c: Math.min(v.c1 - 1, Math.max(v.c0, this.kbd.c + dc)),
      };
      this.showCell(this.kbd.r, this.kbd.c);
    } else if (e.key === 'Enter') {
      this.revealQuery(this.kbd.r);
    } else if (e.key === 'Escape') {
      this.setZoom(undefined);
    } else {
      return;
    }
    e.preventDefault();
  }

  private revealQuery(bin: number): void {
    if (this.data) this.opts.onRevealQuery(Math.min(bin * this.data.binSize, this.data.texts.length - 1));
  }

  /** The readout of the full-resolution cell under the pointer. */
  private showDetail(e: MouseEvent, full: Detail): void {
    const d = this.data;
    if (!d || !full.data) return;
    const rect = this.canvas.getBoundingClientRect();
    const c = Math.min(full.cols - 1, Math.floor(((e.clientX - rect.left) / rect.width) * full.cols));
    const r = Math.min(full.rows - 1, Math.floor(((e.clientY - rect.top) / rect.height) * full.rows));
    const q = full.q0 + r * full.qBin;
    const k = full.k0 + c * full.kBin;
    const tok = (i: number, n: number): string => (n === 1 ? `#${i + 1} ${JSON.stringify(d.texts[i] ?? '')}` : `#${i + 1}–${Math.min(d.texts.length, i + n)} (${JSON.stringify(d.texts[i] ?? '')}…)`);
    const masked = k > q + full.qBin - 1;
    const what = full.qBin === 1 && full.kBin === 1 ? this.quantity() : `max ${this.quantity()}`;
    this.readout.textContent = `query ${tok(q, full.qBin)} → key ${tok(k, full.kBin)}: ${masked ? 'masked (the key comes later)' : this.valueText(what, full.data[r * full.cols + c])}`;
  }

  private showCell(r: number, c: number): void {
    this.markCell({ r, c });
    if (this.opts.onCell) {
      this.opts.onCell(r, c);
      return;
    }
    const cell = this.describe(r, c);
    const d = this.data;
    if (!cell || !d) return;
    const what = d.binSize === 1 ? this.quantity() : `max ${this.quantity()}`;
    this.readout.textContent = `${cell.where}: ${cell.masked ? `${what} ${cell.value.toFixed(3)} (masked: the key comes later)` : this.valueText(what, cell.value)}`;
  }

  private quantity(): string {
    return this.data?.relevance ? 'relevance' : 'weight';
  }

  /** "max weight 0.412"; a relevance of 0 says the keys were rejected. */
  private valueText(what: string, value: number): string {
    return `${what} ${value.toFixed(3)}${this.data?.relevance && value <= 0 ? ' (rejected: no key passes)' : ''}`;
  }
}

function maskedPixel(masked: Rgba): [number, number, number, number] {
  return [masked[0], masked[1], masked[2], Math.round(255 * 0.12)];
}
