// The Fading section: tabs of curves over position, one line per mode: mean focus (every head),
// then the selected head's (or the mean over heads') entropy / ln(keys seen), support size, sink
// mass and local mass, with a table of mass by distance. Every value is exact, from full rows; the
// note under the support chart says which tokens its medians are over (one per pooling bin).
//
// data-testid: fading-view (the section body), fading-tab (one per tab, data-tab = its key,
// aria-selected), fading-chart (focus), fading-metric-chart (the other tabs' chart),
// fading-note, fading-distance (the table).
import type { FadingSeries } from '../protocol';
import { MODE_LABELS, selectionLabel } from '../shared/vocabulary';
import { LineChart } from './line-chart';

type Tab = 'focus' | 'entropy' | 'support' | 'sink' | 'distance';

interface TabInfo {
  label: string;
  what: string;
  note: (f: FadingSeries) => string;
  values?: (f: FadingSeries) => Float32Array;
}

/** Mass within 7 tokens back (buckets "0" and "1-7"). */
function localMass(f: FadingSeries): Float32Array {
  const B = f.distanceLabels.length;
  const near = ['0', '1-7'].map((l) => f.distanceLabels.indexOf(l)).filter((b) => b >= 0);
  return Float32Array.from(f.starts, (_, i) => near.reduce((s, b) => s + f.distanceMass[i * B + b], 0));
}

const TABS: Record<Tab, TabInfo> = {
  focus: { label: 'Focus', what: 'Mean focus over every head', note: () => 'The largest weight of each row, mean over every layer and head (exact).' },
  entropy: {
    label: 'Entropy / ln n',
    what: 'Entropy relative to ln(keys seen)',
    note: (f) => `${selectionLabel(f.selection)}: entropy / ln(keys seen); 1 is uniform over every key (fading), 0 one key. Exact.`,
    values: (f) => f.entropyRatio,
  },
  support: {
    label: 'Support (90 %)',
    what: 'Keys holding 90 % of the weight',
    note: (f) =>
      `${selectionLabel(f.selection)}: median keys holding 90 % of the weight, exact from each row, ` +
      (f.supportStride > 1 ? `measured on one token in ${f.supportStride} (the first of each pooling bin).` : 'measured on every token.'),
    values: (f) => f.supportSize,
  },
  sink: {
    label: 'Sink mass',
    what: 'Weight on the first token',
    note: (f) => `${selectionLabel(f.selection)}: weight on token 1 (exact). A head whose mean is above 0.3 is a sink head.`,
    values: (f) => f.sinkMass,
  },
  distance: {
    label: 'Distance',
    what: 'Share of the weight within 7 tokens back',
    note: (f) => `${selectionLabel(f.selection)}: share within 7 tokens back, and the table by distance; exact mass of each row, mean over tokens.`,
    values: localMass,
  },
};

export class FadingView {
  readonly element = document.createElement('div');
  private readonly tabs = document.createElement('div');
  private readonly focusChart = new LineChart('fading-chart', TABS.focus.what, 'Mean focus by position: computing…');
  private readonly metricChart = new LineChart('fading-metric-chart', '', 'Computing…');
  private readonly note = document.createElement('p');
  private readonly table = document.createElement('table');
  private tab: Tab = 'focus';
  private series: readonly FadingSeries[] = [];
  private tokens = 0;

  constructor() {
    this.element.dataset.testid = 'fading-view';
    this.element.className = 'fading-view';
    this.tabs.className = 'fading-tabs';
    this.tabs.setAttribute('role', 'tablist');
    this.tabs.setAttribute('aria-label', 'Fading metric');
    for (const key of Object.keys(TABS) as Tab[]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'fading-tab';
      b.dataset.testid = 'fading-tab';
      b.dataset.tab = key;
      b.setAttribute('role', 'tab');
      b.textContent = TABS[key].label;
      b.addEventListener('click', () => this.select(key));
      b.addEventListener('keydown', (e) => this.arrow(e, key));
      this.tabs.append(b);
    }
    this.note.className = 'fading-note';
    this.note.dataset.testid = 'fading-note';
    this.table.className = 'fading-distance';
    this.table.dataset.testid = 'fading-distance';
    this.element.append(this.tabs, this.focusChart.element, this.metricChart.element, this.note, this.table);
    this.select('focus');
  }

  render(series: readonly FadingSeries[], tokens: number): void {
    this.series = series;
    this.tokens = tokens;
    this.draw();
  }

  private select(tab: Tab): void {
    this.tab = tab;
    for (const b of this.tabs.querySelectorAll<HTMLButtonElement>('button')) {
      const on = b.dataset.tab === tab;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    this.draw();
  }

  /** Arrow keys move between tabs, as a tab list does. */
  private arrow(e: KeyboardEvent, from: Tab): void {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const keys = Object.keys(TABS) as Tab[];
    const next = keys[(keys.indexOf(from) + (e.key === 'ArrowRight' ? 1 : keys.length - 1)) % keys.length];
    this.select(next);
    this.tabs.querySelector<HTMLButtonElement>(`button[data-tab="${next}"]`)?.focus();
  }

  private draw(): void {
    const info = TABS[this.tab];
    const onFocus = this.tab === 'focus';
    this.focusChart.element.hidden = !onFocus;
    this.metricChart.element.hidden = onFocus;
    this.table.hidden = this.tab !== 'distance';
    const first = this.series[0];
    this.note.textContent = first ? info.note(first) : '';
    if (onFocus) {
      this.focusChart.render(
        this.series.map((f) => ({ mode: f.mode, starts: f.starts, values: f.meanFocus })),
        this.tokens,
      );
      return;
    }
    const values = info.values as (f: FadingSeries) => Float32Array;
    this.metricChart.setWhat(info.what);
    this.metricChart.render(
      this.series.map((f) => ({ mode: f.mode, starts: f.starts, values: values(f) })),
      this.tokens,
    );
    if (this.tab === 'distance') this.drawTable();
  }

  /** Mean shares by distance over the whole window, one row per mode. */
  private drawTable(): void {
    const first = this.series[0];
    if (!first) {
      this.table.replaceChildren();
      return;
    }
    const B = first.distanceLabels.length;
    const head = document.createElement('tr');
    for (const text of ['tokens back', ...first.distanceLabels]) {
      const th = document.createElement('th');
      th.textContent = text;
      head.append(th);
    }
    const rows = this.series.map((f) => {
      const tr = document.createElement('tr');
      const name = document.createElement('th');
      name.textContent = MODE_LABELS[f.mode];
      name.className = `legend ${f.mode}`;
      tr.append(name);
      const n = f.starts.length;
      for (let b = 0; b < B; b++) {
        // Buckets of positions hold nearly equal numbers of tokens: their mean is the window's.
        let sum = 0;
        for (let i = 0; i < n; i++) sum += f.distanceMass[i * B + b];
        const td = document.createElement('td');
        td.textContent = `${((100 * sum) / Math.max(1, n)).toFixed(1)} %`;
        tr.append(td);
      }
      return tr;
    });
    this.table.replaceChildren(head, ...rows);
  }
}
