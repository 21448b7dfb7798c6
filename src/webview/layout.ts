// How large the maps are drawn for the space the page gets (pixels a side): pure, unit-tested.

/** The single map: large in an editor tab, fitted to the short bottom panel. */
export function singleSide(inEditor: boolean, width: number, height: number): number {
  // A wide tab keeps the head grid beside the map; a narrow one stacks it below.
  if (inEditor) return Math.min(1100, width - (width >= 1000 ? 420 : 40), height - 90);
  return Math.min(320, width - 24, height - 100);
}

/** Each of Compare's three maps. */
export function compareSide(inEditor: boolean, width: number, height: number): number {
  const third = (width - 70) / 3;
  // A narrow editor tab puts two maps a row (the difference wraps below) rather than three tiny ones.
  if (inEditor) return Math.min(width >= 900 ? third : (width - 60) / 2, height - 330, 560);
  return Math.min(third, height - 110, 260);
}
