// The token colours' legend above the token strip: six swatches in the overlay's theme colours,
// each with the range of focus it stands for on this document, and what the scale means.
import type { StepScale } from '../shared/color-scale';
import { SCALE_MEANINGS, stepRange } from '../shared/color-scale';

export class ColorLegend {
  readonly element = document.createElement('div');

  constructor() {
    this.element.className = 'color-legend';
    this.element.dataset.testid = 'color-legend';
  }

  /** Shows the steps of a scale made concrete for the shown focus. */
  set(steps: StepScale): void {
    const items = steps.bounds.map((_, k) => {
      const item = document.createElement('span');
      item.className = 'legend-step';
      const swatch = document.createElement('span');
      swatch.className = `swatch s${k + 1}`;
      swatch.setAttribute('aria-hidden', 'true');
      item.append(swatch, stepRange(steps, k));
      return item;
    });
    const meaning = document.createElement('span');
    meaning.className = 'legend-meaning';
    meaning.textContent = `focus, ${steps.scale} scale: ${SCALE_MEANINGS[steps.scale]}`;
    this.element.replaceChildren(...items, meaning);
    this.element.setAttribute('aria-label', `Token colours: ${steps.bounds.map((_, k) => `step ${k + 1} ${stepRange(steps, k)}`).join(', ')}; ${meaning.textContent}`);
  }

  clear(): void {
    this.element.replaceChildren();
  }
}
