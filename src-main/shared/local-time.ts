// Moments as the CLI prints them, in local time.

const two = (n: number) => String(n).padStart(2, '0');

/**
 * A moment as "2026-12-06 15:12:03", local time: what `sv-SE` formats, without constructing an
 * ICU formatter a call (a history answer prints thousands of moments).
 */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${localMinute(ms)}:${two(d.getSeconds())}`;
}

/** A moment as "15:12", local time. */
export function localMinute(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}`;
}
