// Head grid (BertViz's model view): layers down, heads across, each cell a thumbnail of that
// head's attention with its mean focus. A grid with one tab stop: arrow keys move, Enter or a
// click selects the head everywhere.
import type { HeadSelection } from '../shared/vocabulary';
import { weightColor } from '../shared/color-scale';
import { headLabel } from '../shared/vocabulary';

/** Role names short enough for a 56-pixel cell. */
const SHORT_ROLE: Record<string, string> = {
  'previous-token': 'prev',
  local: 'local',
  'first-token': 'sink',
  'duplicate-token': 'dup',
  induction: 'induct',
  broad: 'broad',
};

export class HeadGrid {
  readonly element = document.createElement('div');
  private cells: HTMLElement[] = [];
  private heads = 0;
  private focused = 0;

  constructor(private readonly onSelect: (selection: HeadSelection) => void) {
    this.element.className = 'head-grid';
    this.element.dataset.testid = 'head-grid';
    this.element.setAttribute('role', 'grid');
    this.element.setAttribute('aria-label', 'Heads by layer: arrow keys move, Enter selects');
    this.element.addEventListener('keydown', (e) => this.onKey(e));
  }

  /** roles/roleScores: [layer * heads + head], what each head does and how clearly; windows: [layer], a sliding layer's window (else null or absent). */
  setHeads(
    layers: number,
    heads: number,
    means: Float32Array,
    roles: readonly string[],
    roleScores: Float32Array,
    thumbSize: number,
    thumbs: Float32Array,
    maxPx: number,
    windows: readonly (number | null)[] = [],
  ): void {
    this.heads = heads;
    // Every layer fits the panel's height when it can: the panel area is often short.
    const thumbPx = Math.max(24, Math.min(maxPx, Math.floor((window.innerHeight - 90) / layers) - 30));
    const rows: HTMLElement[] = [];
    this.cells = [];
    for (let layer = 0; layer < layers; layer++) {
      const row = document.createElement('div');
      row.setAttribute('role', 'row');
      row.className = 'head-row';
      for (let head = 0; head < heads; head++) {
        const h = layer * heads + head;
        const window = windows[layer] ?? null;
        const label = window === null ? headLabel(layer, head) : `${headLabel(layer, head)} (window ${window})`;
        const cell = document.createElement('div');
        cell.className = 'head-cell';
        cell.dataset.testid = 'head-cell';
        cell.dataset.layer = String(layer);
        cell.dataset.head = String(head);
        cell.setAttribute('role', 'gridcell');
        const role = roles[h] ?? 'broad';
        cell.dataset.role = role;
        cell.setAttribute('aria-label', `${label}, mean focus ${means[h].toFixed(3)}, role ${role} (score ${roleScores[h].toFixed(2)})`);
        cell.title = `${label}: ${role}, score ${roleScores[h].toFixed(2)}; mean focus ${means[h].toFixed(3)}`;
        cell.tabIndex = h === this.focused ? 0 : -1;
        const canvas = document.createElement('canvas');
        canvas.width = thumbSize;
        canvas.height = thumbSize;
        const image = new ImageData(thumbSize, thumbSize);
        for (let i = 0; i < thumbSize * thumbSize; i++) {
          const r = Math.floor(i / thumbSize);
          // Above the diagonal is masked: left transparent, the cell's background shows.
          if (i % thumbSize <= r) image.data.set([...weightColor(thumbs[h * thumbSize * thumbSize + i]), 255], i * 4);
        }
        canvas.getContext('2d')?.putImageData(image, 0, 0);
        canvas.style.width = `${thumbPx}px`;
        canvas.style.height = `${thumbPx}px`;
        const caption = document.createElement('span');
        caption.textContent = `${headLabel(layer, head)} · ${means[h].toFixed(2)}`;
        const roleTag = document.createElement('span');
        roleTag.className = `role role-${role}`;
        roleTag.dataset.testid = 'head-role';
        roleTag.textContent = `${SHORT_ROLE[role] ?? role} ${roleScores[h].toFixed(2)}`;
        cell.append(canvas, caption, roleTag);
        if (window !== null) {
          // A sliding layer: its queries see only the last `window` keys.
          const tag = document.createElement('span');
          tag.className = 'window';
          tag.dataset.testid = 'head-window';
          tag.textContent = `window ${window}`;
          cell.append(tag);
        }
        cell.addEventListener('click', () => this.pick(h));
        row.append(cell);
        this.cells.push(cell);
      }
      rows.push(row);
    }
    this.element.replaceChildren(...rows);
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
