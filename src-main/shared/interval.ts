// The poll interval a user may choose, and the one check every edge applies (the CLI's --interval,
// the renderer's IPC and WebSocket requests, the helper's argument and protocol): a value outside
// the range is refused with this reason, never quietly clamped to something the user did not ask.

/** Faster costs CPU at every poll; slower hides more short connections. */
export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 10_000;
export const DEFAULT_INTERVAL_MS = 1000;

export const INTERVAL_RANGE = `whole milliseconds from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS}`;

/** The interval, or the reason it is refused. */
export function checkInterval(value: unknown): { ok: true; ms: number } | { ok: false; reason: string } {
  return Number.isInteger(value) && (value as number) >= MIN_INTERVAL_MS && (value as number) <= MAX_INTERVAL_MS
    ? { ok: true, ms: value as number }
    : { ok: false, reason: `the poll interval is ${INTERVAL_RANGE}` };
}
