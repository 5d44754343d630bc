// Moments as people type them: "now", "2h" or "10 min ago" (that long before now), "15:12" (today,
// or yesterday when that is still to come), or an ISO 8601 time.

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A length of time typed as "7d", "12h", "30 min"; null when it names none. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)$/.exec(
    text.trim().toLowerCase(),
  );
  return m ? Number(m[1]) * UNITS[m[2][0]] : null;
}

/** The moment `text` names, in ms since the epoch; null when it names none. */
export function parseWhen(text: string, now: number): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'now') return now;
  const ago = /^(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?|d|days?)(\s+ago)?$/.exec(t);
  if (ago) return now - Number(ago[1]) * UNITS[ago[2][0]];
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (clock) {
    const [h, m, s] = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0)];
    if (h > 23 || m > 59 || s > 59) return null;
    const day = new Date(now);
    day.setHours(h, m, s, 0);
    const at = day.getTime();
    return at > now ? at - UNITS.d : at;
  }
  // ISO 8601 only (Date.parse alone takes many shapes, some of them by surprise).
  if (!/^\d{4}-\d{2}-\d{2}([t ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})?)?$/.test(t)) return null;
  const at = Date.parse(text.trim());
  return Number.isFinite(at) ? at : null;
}
