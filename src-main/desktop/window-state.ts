// The desktop window's size and place, remembered between runs: what was saved is untrusted (a
// hand-edited file, a monitor since unplugged), so it is checked and fitted to a display now present.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState extends Rect {
  maximized: boolean;
}

export const DEFAULT_SIZE = { width: 1280, height: 820 };
const MIN_SIZE = { width: 640, height: 400 };

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/**
 * The bounds to open with: the saved ones when they are numbers and at least a quarter of the
 * window falls on a display now present; else the default size, centred on the first display.
 */
export function restoredState(saved: unknown, displays: readonly Rect[]): WindowState {
  const primary = displays[0] ?? { x: 0, y: 0, ...DEFAULT_SIZE };
  const fallback: WindowState = {
    width: Math.min(DEFAULT_SIZE.width, primary.width),
    height: Math.min(DEFAULT_SIZE.height, primary.height),
    x: primary.x + Math.max(0, Math.round((primary.width - Math.min(DEFAULT_SIZE.width, primary.width)) / 2)),
    y: primary.y + Math.max(0, Math.round((primary.height - Math.min(DEFAULT_SIZE.height, primary.height)) / 2)),
    maximized: false,
  };
  if (typeof saved !== 'object' || saved === null) return fallback;
  const s = saved as Record<string, unknown>;
  if (![s.x, s.y, s.width, s.height].every(isInt) || typeof s.maximized !== 'boolean') return fallback;
  const rect = {
    x: s.x as number,
    y: s.y as number,
    width: Math.max(MIN_SIZE.width, Math.min(s.width as number, 16_384)),
    height: Math.max(MIN_SIZE.height, Math.min(s.height as number, 16_384)),
  };
  const visible = displays.some((d) => overlap(rect, d) >= (rect.width * rect.height) / 4);
  return visible ? { ...rect, maximized: s.maximized } : { ...fallback, maximized: s.maximized };
}

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}
