// The Fading section: tabs of curves over position, one line per mode: mean focus (every head),
// then the selected head's (or the mean over heads') entropy / ln(keys seen), support size, sink
// mass and local mass, with a table of mass by distance. Every value is exact, from full rows; the
// note under the support chart says which tokens its medians are over (one per pooling bin).
// Screening's relevance is no distribution and not a weight: its series gets its own tabs (keys
// passing, total relevance, largest relevance) and never shares an axis with the weights.
//
// data-testid: fading-view (the section body), fading-tab (one per tab, data-tab = its key,
// aria-selected), fading-chart (focus), fading-metric-chart (the other tabs' chart),
// fading-note, fading-distance (the table).
import type { AttentionFading, FadingSeries, RelevanceFading } from '../protocol';
import { MODE_LABELS, selectionLabel } from '../shared/vocabulary';
import { LineChart } from './line-chart';
import { tileSelectionText } from './screening-text';

type WeightTab = 'focus' | 'entropy' | 'support' | 'sink' | 'distance';
type RelevanceTab = 'passing' | 'total' | 'largest';
type Tab = WeightTab | RelevanceTab;

interface TabInfo<F> {
  label: string;
  what: string;
  note: (f: F) => string;
  values: (f: F) => Float32Array;
}

/** Mass within 7 tokens back (buckets "0" and "1-7"). */
function localMass(f: AttentionFading): Float32Array {
  const B = f.distanceLabels.length;
  const near = ['0', '1-7'].map((l) => f.distanceLabels.indexOf(l)).filter((b) => b >= 0);
  return Float32Array.from(f.starts, (_, i) => near.reduce((s, b) => s + f.distanceMass[i * B + b], 0));
}

const WEIGHT_TABS: Record<WeightTab, TabInfo<AttentionFading>> = {
  focus: { label: 'Focus', what: 'Mean focus over every head', note: () => 'The largest weight of each row, mean over every layer and head (exact).', values: (f) => f.meanFocus },
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

const RELEVANCE_TABS: Record<RelevanceTab, TabInfo<RelevanceFading>> = {
  passing: {
    label: 'Keys passing',
    what: 'Share of the keys in the window that pass',
    note: (f) => `${tileSelectionText(f.selection)}: share of the keys in the tile's window that pass its acceptance threshold (relevance > 0), by query position. Relevance, not weights.`,
    values: (f) => f.passShare,
  },
  total: {
    label: 'Total relevance',
    what: 'Total relevance of a query',
    note: (f) => `${tileSelectionText(f.selection)}: total relevance of a query (its row's sum: not normalised, 0 when no key passes), mean by position.`,
    values: (f) => f.totalRelevance,
  },
  largest: {
    label: 'Largest relevance',
    what: 'Largest relevance of a query',
    note: (f) => `${tileSelectionText(f.selection)}: largest relevance of a query (its focus), absolute in [0, 1], mean by position.`,
    values: (f) => f.largest,
  },
};

const TAB_INFO: Record<Tab, { label: string }> = { ...WEIGHT_TABS, ...RELEVANCE_TABS };

function isWeightTab(tab: Tab): tab is WeightTab {
  return tab in WEIGHT_TABS;
}

export class FadingView {
  readonly element = document.createElement('div');
  private readonly tabs = document.createElement('div');
  private readonly focusChart = new LineChart('fading-chart', WEIGHT_TABS.focus.what, 'Mean focus by position: computing…');
  private readonly metricChart = new LineChart('fading-metric-chart', '', 'Computing…');
  private readonly note = document.createElement('p');
  private readonly table = document.createElement('table');
  private tab: Tab = 'focus';
  private weights: readonly AttentionFading[] = [];
  private relevance: readonly RelevanceFading[] = [];
  private tokens = 0;

  constructor() {
    this.element.dataset.testid = 'fading-view';
    this.element.className = 'fading-view';
    this.tabs.className = 'fading-tabs';
    this.tabs.setAttribute('role', 'tablist');
    this.tabs.setAttribute('aria-label', 'Fading metric');
    for (const key of Object.keys(TAB_INFO) as Tab[]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'fading-tab';
      b.dataset.testid = 'fading-tab';
      b.dataset.tab = key;
      b.setAttribute('role', 'tab');
      b.textContent = TAB_INFO[key].label;
      b.addEventListener('click', () => this.select(key));
      b.addEventListener('keydown', (e) => this.arrow(e, key));
      this.tabs.append(b);
    }
    this.note.className = 'fading-note';
    this.note.dataset.testid = 'fading-note';
    this.table.className = 'fading-distance';
    this.table.dataset.testid = 'fading-distance';
    this.element.append(this.tabs, this.focusChart.element, this.metricChart.element, this.note, this.table);
    this.render([], 0);
  }

  render(series: readonly FadingSeries[], tokens: number): void {
    this.weights = series.filter((f): f is AttentionFading => f.quantity === 'weight');
    this.relevance = series.filter((f): f is RelevanceFading => f.quantity === 'relevance');
    this.tokens = tokens;
    // A tab whose quantity left the series (screening no longer shown) gives way to the first shown.
    this.select(this.shown().includes(this.tab) ? this.tab : this.shown()[0]);
  }

  /** The tabs of the quantities present: the weights' (also while nothing came yet), and screening's when it is there. */
  private shown(): Tab[] {
    const tabs: Tab[] = this.weights.length > 0 || this.relevance.length === 0 ? (Object.keys(WEIGHT_TABS) as Tab[]) : [];
    return this.relevance.length > 0 ? [...tabs, ...(Object.keys(RELEVANCE_TABS) as Tab[])] : tabs;
  }

  private select(tab: Tab): void {
    this.tab = tab;
    const shown = this.shown();
    for (const b of this.tabs.querySelectorAll<HTMLButtonElement>('button')) {
      const on = b.dataset.tab === tab;
      b.hidden = !shown.includes(b.dataset.tab as Tab);
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    this.draw();
  }

  /** Arrow keys move between the shown tabs, as a tab list does. */
  private arrow(e: KeyboardEvent, from: Tab): void {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const keys = this.shown();
    const next = keys[(keys.indexOf(from) + (e.key === 'ArrowRight' ? 1 : keys.length - 1)) % keys.length];
    this.select(next);
    this.tabs.querySelector<HTMLButtonElement>(`button[data-tab="${next}"]`)?.focus();
  }

  private draw(): void {
    const tab = this.tab;
    const onFocus = tab === 'focus';
    this.focusChart.element.hidden = !onFocus;
    this.metricChart.element.hidden = onFocus;
    this.table.hidden = tab !== 'distance';
    if (!isWeightTab(tab)) {
      const info = RELEVANCE_TABS[tab];
      this.note.textContent = this.relevance[0] ? info.note(this.relevance[0]) : '';
      this.metricChart.setWhat(`${info.what} (relevance)`);
      this.metricChart.render(
        this.relevance.map((f) => ({ mode: f.mode, starts: f.starts, values: info.values(f) })),
        this.tokens,
      );
      return;
    }
    const info = WEIGHT_TABS[tab];
    // Screening is shown: say where its curves are, and that its tiles are not these heads.
    const elsewhere = this.relevance.length > 0 ? ' Screening is not drawn here: relevance is not a weight, and its tiles are not these heads (its own tabs follow).' : '';
    this.note.textContent = this.weights[0] ? info.note(this.weights[0]) + elsewhere : '';
    const lines = this.weights.map((f) => ({ mode: f.mode, starts: f.starts, values: info.values(f) }));
    if (onFocus) {
      this.focusChart.render(lines, this.tokens);
      return;
    }
    this.metricChart.setWhat(info.what);
    this.metricChart.render(lines, this.tokens);
    if (tab === 'distance') this.drawTable();
  }

  /** Mean shares by distance over the whole window, one row per mode. */
  private drawTable(): void {
    const first = this.weights[0];
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
    const rows = this.weights.map((f) => {
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
