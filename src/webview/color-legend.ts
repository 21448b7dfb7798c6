// The token colours' legend above the token strip: six swatches in the overlay's theme colours,
// each with the range of focus it stands for on this document, and what the scale means. Under
// screening the focus is the largest relevance, and a struck swatch counts the queries that find
// nothing. MapKey: the relevance map's colours, shown under screening only.
import type { StepScale } from '../shared/color-scale';
import { SCALE_MEANINGS, stepRange, weightColor } from '../shared/color-scale';
import { FINDS_NOTHING } from './screening-text';

export class ColorLegend {
  readonly element = document.createElement('div');

  constructor() {
    this.element.className = 'color-legend';
    this.element.dataset.testid = 'color-legend';
  }

  /** Shows the steps of a scale made concrete for the shown focus; `nothing` (screening): how many queries find nothing. */
  set(steps: StepScale, nothing?: number): void {
    const items = steps.bounds.map((_, k) => {
      const item = document.createElement('span');
      item.className = 'legend-step';
      const swatch = document.createElement('span');
      swatch.className = `swatch s${k + 1}`;
      swatch.setAttribute('aria-hidden', 'true');
      item.append(swatch, stepRange(steps, k));
      return item;
    });
    if (nothing !== undefined) {
      const item = document.createElement('span');
      item.className = 'legend-step';
      item.dataset.testid = 'legend-finds-nothing';
      const swatch = document.createElement('span');
      swatch.className = 'swatch finds-nothing';
      swatch.setAttribute('aria-hidden', 'true');
      item.append(swatch, `${FINDS_NOTHING} (${nothing.toLocaleString('en-US')} tokens)`);
      items.push(item);
    }
    const meaning = document.createElement('span');
    meaning.className = 'legend-meaning';
    meaning.textContent = `${nothing !== undefined ? 'largest relevance (focus)' : 'focus'}, ${steps.scale} scale: ${SCALE_MEANINGS[steps.scale]}`;
    this.element.replaceChildren(...items, meaning);
    this.element.setAttribute('aria-label', `Token colours: ${items.map((item, k) => (k < steps.bounds.length ? `step ${k + 1} ${item.textContent ?? ''}` : item.textContent)).join(', ')}; ${meaning.textContent}`);
  }

  clear(): void {
    this.element.replaceChildren();
  }
}

/** The relevance map's key: the absolute scale from 0 to 1 in the map's colours, and what empty means. */
export class MapKey {
  readonly element = document.createElement('div');

  constructor() {
    this.element.className = 'map-key';
    this.element.dataset.testid = 'map-legend';
    const bar = document.createElement('canvas');
    bar.width = 64;
    bar.height = 1;
    bar.setAttribute('aria-hidden', 'true');
    const image = new ImageData(64, 1);
    for (let x = 0; x < 64; x++) image.data.set([...weightColor((x + 1) / 64), 255], x * 4);
    bar.getContext('2d')?.putImageData(image, 0, 0);
    const empty = document.createElement('span');
    empty.className = 'swatch empty';
    empty.setAttribute('aria-hidden', 'true');
    const text = (s: string): HTMLSpanElement => Object.assign(document.createElement('span'), { textContent: s });
    this.element.append(text('relevance, absolute (square-root scale): 0'), bar, text('1 ·'), empty, text('empty: 0, every key rejected'));
    this.element.setAttribute('role', 'note');
    this.element.setAttribute('aria-label', 'Map colours: relevance on an absolute scale from 0 to 1, not rescaled per map; empty cells are 0: every key there was rejected.');
    this.element.hidden = true;
  }
}
