// Token strip: the inspected text, each token's background by its focus under the selected head
// (the same theme colours and steps as the editor overlay). Under screening the focus is the
// largest relevance, and a query that finds nothing (total relevance 0) is struck through. A
// listbox: arrow keys move, Enter or a click reveals the token in the editor; the editor's cursor
// token is outlined.
import type { ColorScale } from '../shared/color-scale';
import { colouredValues, stepScale } from '../shared/color-scale';
import type { StepScale } from '../shared/color-scale';
import { FINDS_NOTHING } from './screening-text';

export class TokenStrip {
  readonly element = document.createElement('div');
  private spans: HTMLSpanElement[] = [];
  private texts: readonly string[] = [];
  private focus: Float32Array = new Float32Array(0);
  /** Screening: each query's total relevance; undefined for attention. */
  private totals: Float32Array | undefined;
  private active = -1;
  private cursor = -1;

  constructor(private readonly onReveal: (token: number) => void) {
    const el = this.element;
    el.className = 'token-strip';
    el.dataset.testid = 'token-strip';
    el.tabIndex = 0;
    el.setAttribute('role', 'listbox');
    el.setAttribute('aria-label', 'Inspected tokens, coloured by focus. Arrow keys move, Enter reveals in the editor.');
    el.addEventListener('click', (e) => {
      const t = this.tokenOf(e.target);
      if (t < 0) return;
      this.setActive(t);
      this.onReveal(t);
    });
    el.addEventListener('mouseover', (e) => {
      const t = this.tokenOf(e.target);
      if (t < 0) return;
      const value = this.focus[t]?.toFixed(3) ?? '?';
      this.spans[t].title = this.totals
        ? `token ${t + 1} · largest relevance ${value} · total ${this.totals[t]?.toFixed(3) ?? '?'}${this.totals[t] === 0 ? ` · ${FINDS_NOTHING}` : ''}`
        : `token ${t + 1} · focus ${value}`;
    });
    el.addEventListener('keydown', (e) => this.onKey(e));
  }

  /** Rebuilds the spans for a new document. */
  setTokens(texts: readonly string[]): void {
    this.texts = texts;
    this.spans = texts.map((text, i) => {
      const span = document.createElement('span');
      span.textContent = text;
      // A first token that covers no text is one the tokenizer adds (BOS): shown, since attention sinks live there.
      if (i === 0 && text === '') {
        span.textContent = '\u2205';
        span.setAttribute('aria-label', 'token 1 covers no text: a token the tokenizer adds, such as BOS');
      }
      span.id = `tok-${i}`;
      span.dataset.testid = 'token';
      span.dataset.i = String(i);
      span.setAttribute('role', 'option');
      return span;
    });
    this.element.replaceChildren(...this.spans);
    this.active = -1;
    this.cursor = -1;
  }

  /**
   * Colours by focus, in the overlay's steps and scale (rank: among the tokens the overlay colours);
   * returns the scale for the legend. `totals` (screening): each query's total relevance, 0 marked as finding nothing.
   */
  setFocus(focus: Float32Array, scale: ColorScale, totals?: Float32Array): StepScale {
    this.focus = focus;
    this.totals = totals;
    this.element.setAttribute(
      'aria-label',
      `Inspected tokens, coloured by ${totals ? 'largest relevance; struck through: finds nothing' : 'focus'}. Arrow keys move, Enter reveals in the editor.`,
    );
    const steps = stepScale(scale, colouredValues(focus, this.texts));
    this.spans.forEach((span, i) => {
      const step = steps.step(focus[i] ?? 0);
      const nothing = totals?.[i] === 0;
      span.className = `s${step + 1}${i === this.cursor ? ' cursor' : ''}${i === this.active ? ' active' : ''}${i === 0 && this.texts[0] === '' ? ' no-text' : ''}${nothing ? ' finds-nothing' : ''}`;
      if (nothing) span.setAttribute('aria-label', `${JSON.stringify(this.texts[i])}, ${FINDS_NOTHING}`);
      else if (!(i === 0 && this.texts[0] === '')) span.removeAttribute('aria-label');
    });
    return steps;
  }

  /** Outlines the editor's cursor token and scrolls it into view. */
  setCursor(token: number): void {
    this.spans[this.cursor]?.classList.remove('cursor');
    this.cursor = token;
    const span = this.spans[token];
    if (!span) return;
    span.classList.add('cursor');
    this.scrollTo(span);
  }

  get activeToken(): number {
    return this.active;
  }

  setActive(token: number): void {
    this.spans[this.active]?.classList.remove('active');
    this.spans[this.active]?.setAttribute('aria-selected', 'false');
    this.active = token;
    const span = this.spans[token];
    if (!span) {
      this.element.removeAttribute('aria-activedescendant');
      return;
    }
    span.classList.add('active');
    span.setAttribute('aria-selected', 'true');
    this.element.setAttribute('aria-activedescendant', span.id);
    this.scrollTo(span);
  }

  /** Scrolls the strip only (scrollIntoView would scroll the whole page too). */
  private scrollTo(span: HTMLElement): void {
    const strip = this.element;
    const top = span.offsetTop - strip.offsetTop;
    if (top < strip.scrollTop || top + span.offsetHeight > strip.scrollTop + strip.clientHeight) {
      strip.scrollTop = Math.max(0, top - strip.clientHeight / 3);
    }
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.spans.length;
    if (n === 0) return;
    const from = this.active < 0 ? Math.max(this.cursor, 0) : this.active;
    const moves: Record<string, number> = { ArrowRight: from + 1, ArrowDown: from + 1, ArrowLeft: from - 1, ArrowUp: from - 1, Home: 0, End: n - 1 };
    if (e.key in moves) {
      this.setActive(Math.min(n - 1, Math.max(0, moves[e.key])));
      e.preventDefault();
    } else if ((e.key === 'Enter' || e.key === ' ') && this.active >= 0) {
      this.onReveal(this.active);
      e.preventDefault();
    }
  }

  private tokenOf(target: EventTarget | null): number {
    const i = target instanceof HTMLElement ? Number(target.dataset.i) : NaN;
    return Number.isInteger(i) ? i : -1;
  }
}
