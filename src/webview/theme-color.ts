// Canvas drawing needs numbers, not CSS: reads a theme colour variable (VS Code sets one per
// theme colour on the page) and resolves it to RGBA through the browser's own parser.
export type Rgba = [number, number, number, number];

const probe = document.createElement('canvas').getContext('2d');

export function themeColor(variable: string, fallback: Rgba): Rgba {
  const css = getComputedStyle(document.documentElement).getPropertyValue(variable).trim();
  if (!css || !probe) return fallback;
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = css;
  probe.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = probe.getImageData(0, 0, 1, 1).data;
  return [r, g, b, a / 255];
}

/** Fires when VS Code switches theme (it rewrites the body's class and style). */
export function onThemeChange(callback: () => void): void {
  new MutationObserver(callback).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
