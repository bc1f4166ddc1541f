// Chart geometry: device scale, the time under the pointer, hover values, brush zoom.

/** Device pixels per CSS pixel for chart images: the display's ratio, within 1 to 3 (a chart
 *  bitmap costs the square of it to draw, move and decode), in quarter steps so a fractional
 *  desktop scale does not ask for a new size at every window move. */
export function chartScale(devicePixelRatio: number | undefined): number {
  const r = Number.isFinite(devicePixelRatio) && devicePixelRatio! > 0 ? devicePixelRatio! : 1;
  return Math.min(3, Math.max(1, Math.ceil(r * 4) / 4));
}

/** The time under the pointer on a chart, from the engine's plot geometry. */
export function timeAt(x: number, g: { left: number; width: number; x_from: number; x_to: number }): number | null {
  if (g.width <= 0 || x < g.left || x > g.left + g.width) return null;
  return g.x_from + ((x - g.left) / g.width) * (g.x_to - g.x_from);
}

/** The hover value at `t`: the `[min, max]` of its column (columns split [from, to] evenly),
 *  or of the nearest reported column within 3. */
export function hoverAt(hover: ([number, number] | null)[], from: number, to: number, t: number): [number, number] | null {
  if (hover.length === 0 || to <= from || t < from || t > to) return null;
  const col = Math.min(hover.length - 1, Math.floor(((t - from) / (to - from)) * hover.length));
  for (let d = 0; d <= 3; d++) {
    const a = hover[col - d];
    if (a) return a;
    const b = hover[col + d];
    if (b) return b;
  }
  return null;
}

/** A brush from x0 to x1 (pixels) as a window, or null when too small to mean a zoom. */
export function brushWindow(
  x0: number,
  x1: number,
  g: { left: number; width: number; x_from: number; x_to: number },
): { from: number; to: number } | null {
  const clamp = (x: number) => Math.min(Math.max(x, g.left), g.left + g.width);
  const a = clamp(Math.min(x0, x1));
  const b = clamp(Math.max(x0, x1));
  if (b - a < 4) return null;
  const from = timeAt(a, g);
  const to = timeAt(b, g);
  if (from === null || to === null || to - from < 60_000) return null;
  return { from: Math.round(from), to: Math.round(to) };
}
