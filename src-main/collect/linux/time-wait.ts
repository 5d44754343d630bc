// How long each TIME_WAIT socket on a port has left: the kernel's timer column of /proc/net/tcp
// ("tr:tm->when", the time in USER_HZ ticks), which the socket table parser does not keep.

import { readFileSync } from 'node:fs';

const MS_PER_TICK = 10;
const TIME_WAIT = '06';

/** Remaining ms of each TIME_WAIT row whose local port is `port`, from a /proc/net/tcp text. */
export function timeWaitRemaining(text: string, port: number): number[] {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const remaining: number[] = [];
  const local = `:${portHex} `;
  for (const line of text.split('\n').slice(1)) {
    // Most rows are other ports: skipped before being split into fields.
    if (!line.includes(local)) continue;
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6 || fields[3] !== TIME_WAIT || !fields[1].endsWith(`:${portHex}`)) continue;
    const when = fields[5].split(':')[1];
    const ticks = when === undefined ? NaN : parseInt(when, 16);
    if (Number.isFinite(ticks)) remaining.push(ticks * MS_PER_TICK);
  }
  return remaining;
}

export function readTimeWaitRemaining(port: number, procRoot = '/proc'): number[] {
  return ['tcp', 'tcp6'].flatMap((table) => {
    try {
      return timeWaitRemaining(readFileSync(`${procRoot}/net/${table}`, 'utf8'), port);
    } catch {
      return [];
    }
  });
}
