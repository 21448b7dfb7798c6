// Head grid (BertViz's model view): layers down, heads across, each cell a thumbnail of that
// head's attention with its mean focus. Under screening, layers x tiles (the paper's Fig. 10):
// each tile's relevance map with its window w, acceptance width r and share of keys passing, and
// no roles (the note says why). A grid with one tab stop: arrow keys move, Enter or a click
// selects the head everywhere.
import type { PanelDocument } from '../protocol';
import type { HeadSelection } from '../shared/vocabulary';
import { weightColor } from '../shared/color-scale';
import { headLabel } from '../shared/vocabulary';
import { shareText, tileLabel, windowText } from './screening-text';

/** Role names short enough for a 56-pixel cell. */
const SHORT_ROLE: Record<string, string> = {
  'previous-token': 'prev',
  local: 'local',
  'first-token': 'sink',
  'duplicate-token': 'dup',
  induction: 'induct',
  broad: 'broad',
};

/** The widest tile caption at the tiles' font size, CSS pixels. */
const TILE_TEXT_PX = 44;

export class HeadGrid {
  readonly element = document.createElement('div');
  /** Above the grid under screening: what a tile shows, and why no roles. */
  readonly note = document.createElement('p');
  private cells: HTMLElement[] = [];
  private heads = 0;
  private focused = 0;

  constructor(private readonly onSelect: (selection: HeadSelection) => void) {
    this.element.className = 'head-grid';
    this.element.dataset.testid = 'head-grid';
    this.element.setAttribute('role', 'grid');
    this.element.setAttribute('aria-label', 'Heads by layer: arrow keys move, Enter selects');
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    this.note.className = 'grid-note';
    this.note.dataset.testid = 'tile-note';
    this.note.hidden = true;
  }

  /** The document's heads (or tiles), drawn at most maxPx a thumbnail. */
  setHeads(doc: PanelDocument, maxPx: number): void {
    const { layers, heads, tiles } = doc;
    this.heads = heads;
    // The tab stop stays where it was unless the shape shrank past it (screening's 11 x 11 tiles, then 6 x 4 heads).
    if (this.focused >= layers * heads) this.focused = 0;
    this.element.setAttribute('aria-label', tiles ? 'Tiles by layer: arrow keys move, Enter selects' : 'Heads by layer: arrow keys move, Enter selects');
    this.note.hidden = !tiles;
    this.note.textContent = tiles
      ? 'Each tile: its relevance map (absolute, empty where rejected), window w (∞: every earlier key), acceptance width r, and the share of the keys in its window that pass. ' +
        'No head roles: their rules read normalised attention rows, and relevance rows are not normalised.'
      : '';
    // Every layer fits the panel's height when it can: the panel area is often short. A tile's caption has three lines.
    const thumbPx = Math.max(24, Math.min(maxPx, Math.floor((window.innerHeight - 90) / layers) - (tiles ? 40 : 30)));
    // Tiles share one width, so that the tile numbers above line up: the thumbnail, or the widest caption ("< 0.01 %").
    const tilePx = Math.max(thumbPx, TILE_TEXT_PX);
    const rows: HTMLElement[] = tiles ? [this.tileHeader(heads, tilePx)] : [];
    this.cells = [];
    for (let layer = 0; layer < layers; layer++) {
      const row = document.createElement('div');
      row.setAttribute('role', 'row');
      row.className = 'head-row';
      if (tiles) {
        const name = document.createElement('div');
        name.setAttribute('role', 'rowheader');
        name.className = 'grid-header';
        name.textContent = `L${layer + 1}`;
        row.append(name);
      }
      for (let head = 0; head < heads; head++) {
        const h = layer * heads + head;
        const cell = tiles ? this.tileCell(doc, layer, head, thumbPx, tilePx) : this.headCell(doc, layer, head, thumbPx);
        cell.tabIndex = h === this.focused ? 0 : -1;
        cell.addEventListener('click', () => this.pick(h));
        row.append(cell);
        this.cells.push(cell);
      }
      rows.push(row);
    }
    this.element.replaceChildren(...rows);
  }

  /** The row of tile numbers above a tile grid. */
  private tileHeader(tiles: number, tilePx: number): HTMLElement {
    const row = document.createElement('div');
    row.setAttribute('role', 'row');
    row.className = 'head-row';
    const corner = document.createElement('div');
    corner.className = 'grid-header';
    corner.setAttribute('role', 'columnheader');
    corner.textContent = 'tile';
    row.append(corner);
    for (let t = 0; t < tiles; t++) {
      const name = document.createElement('div');
      name.className = 'grid-header tile-number';
      name.setAttribute('role', 'columnheader');
      name.textContent = String(t + 1);
      name.title = `tile ${t + 1} (H${t + 1} in head labels)`;
      name.style.width = `${tilePx}px`;
      row.append(name);
    }
    return row;
  }

  /** A screening tile: its relevance map and its w, r and pass share. */
  private tileCell(doc: PanelDocument, layer: number, tile: number, thumbPx: number, tilePx: number): HTMLElement {
    const tiles = doc.tiles!;
    const h = layer * doc.heads + tile;
    const w = tiles.window[h];
    const r = tiles.acceptance[h];
    const pass = tiles.passShare[h];
    const cell = this.cellOf(layer, tile);
    cell.classList.add('tile-cell');
    cell.style.width = `${tilePx}px`;
    const label = tileLabel(layer, tile, w, r, pass);
    cell.setAttribute('aria-label', `${label}; mean largest relevance ${doc.headMeans[h].toFixed(3)}`);
    cell.title = `${label}. Mean largest relevance ${doc.headMeans[h].toFixed(3)}.`;
    const lines = [`w ${windowText(w)}`, `r ${r.toFixed(2)}`, `${shareText(pass)}`].map((text, i) => {
      const line = document.createElement('span');
      line.className = 'tile-fact';
      line.dataset.testid = ['tile-window', 'tile-acceptance', 'tile-pass'][i];
      line.textContent = text;
      return line;
    });
    cell.append(this.thumbnail(doc, h, thumbPx, true), ...lines);
    return cell;
  }

  /** An attention head: its map, label and mean focus, its role and, in a sliding layer, its window. */
  private headCell(doc: PanelDocument, layer: number, head: number, thumbPx: number): HTMLElement {
    const { roles, roleScores, headMeans: means } = doc;
    const h = layer * doc.heads + head;
    const window = doc.windows?.[layer] ?? null;
    const label = window === null ? headLabel(layer, head) : `${headLabel(layer, head)} (window ${window})`;
    const cell = this.cellOf(layer, head);
    const role = roles[h] ?? 'broad';
    cell.dataset.role = role;
    cell.setAttribute('aria-label', `${label}, mean focus ${means[h].toFixed(3)}, role ${role} (score ${roleScores[h].toFixed(2)})`);
    cell.title = `${label}: ${role}, score ${roleScores[h].toFixed(2)}; mean focus ${means[h].toFixed(3)}`;
    const caption = document.createElement('span');
    caption.textContent = `${headLabel(layer, head)} · ${means[h].toFixed(2)}`;
    const roleTag = document.createElement('span');
    roleTag.className = `role role-${role}`;
    roleTag.dataset.testid = 'head-role';
    roleTag.textContent = `${SHORT_ROLE[role] ?? role} ${roleScores[h].toFixed(2)}`;
    cell.append(this.thumbnail(doc, h, thumbPx, false), caption, roleTag);
    if (window !== null) {
      // A sliding layer: its queries see only the last `window` keys.
      const tag = document.createElement('span');
      tag.className = 'window';
      tag.dataset.testid = 'head-window';
      tag.textContent = `window ${window}`;
      cell.append(tag);
    }
    return cell;
  }

  private cellOf(layer: number, head: number): HTMLElement {
    const cell = document.createElement('div');
    cell.className = 'head-cell';
    cell.dataset.testid = 'head-cell';
    cell.dataset.layer = String(layer);
    cell.dataset.head = String(head);
    cell.setAttribute('role', 'gridcell');
    return cell;
  }

  /**
   * Head h's thumbnail on the absolute map scale. Above the diagonal is masked, and under screening
   * a relevance of 0 (every key of the cell rejected) is empty: both left transparent, the cell's background shows.
   */
  private thumbnail(doc: PanelDocument, h: number, thumbPx: number, relevance: boolean): HTMLCanvasElement {
    const n = doc.thumbSize;
    const canvas = document.createElement('canvas');
    canvas.width = n;
    canvas.height = n;
    const image = new ImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const v = doc.thumbs[h * n * n + i];
      if (i % n <= Math.floor(i / n) && !(relevance && v <= 0)) image.data.set([...weightColor(v), 255], i * 4);
    }
    canvas.getContext('2d')?.putImageData(image, 0, 0);
    canvas.style.width = `${thumbPx}px`;
    canvas.style.height = `${thumbPx}px`;
    return canvas;
  }

  /** Marks the selected head (none for an aggregate). */
  setSelection(sel: HeadSelection): void {
    const selected = sel.kind === 'head' ? sel.layer * this.heads + sel.head : -1;
    this.cells.forEach((c, i) => {
      c.classList.toggle('selected', i === selected);
      c.setAttribute('aria-selected', String(i === selected));
    });
    if (selected >= 0) this.moveFocus(selected, false);
  }

  private pick(h: number): void {
    this.moveFocus(h, true);
    this.onSelect({ kind: 'head', layer: Math.floor(h / this.heads), head: h % this.heads });
  }

  private moveFocus(h: number, focus: boolean): void {
    this.cells[this.focused]?.setAttribute('tabindex', '-1');
    this.focused = h;
    const cell = this.cells[h];
    cell?.setAttribute('tabindex', '0');
    if (focus) cell?.focus();
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.cells.length;
    const moves: Record<string, number> = {
      ArrowRight: this.focused + 1,
      ArrowLeft: this.focused - 1,
      ArrowDown: this.focused + this.heads,
      ArrowUp: this.focused - this.heads,
      Home: 0,
      End: n - 1,
    };
    if (e.key in moves) {
      const to = moves[e.key];
      if (to >= 0 && to < n) this.moveFocus(to, true);
    } else if (e.key === 'Enter' || e.key === ' ') {
      this.pick(this.focused);
    } else {
      return;
    }
    e.preventDefault();
  }
}
