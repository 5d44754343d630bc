// The arguments every verb shares, each checked once here: a bad one is a UsageError naming the
// option, what it takes and what was given (made printable: arguments are hostile text too).

import { createInterface } from 'node:readline/promises';
import { TCP_EVENT_BUFFER_KB } from '../collect/event-buffer';
import { TOKEN_PATTERN } from '../shared/contract';
import { isIpLiteral } from '../shared/ip-literal';
import { checkInterval, DEFAULT_INTERVAL_MS, INTERVAL_RANGE } from '../shared/interval';
import { printable } from '../shared/printable';
import { readUserFile } from '../export/read-snapshot-file';
import { parsePortSpec } from '../track/port-doctor';
import type { CliIo } from './io';

export class UsageError extends Error {}

/** `--interval MS`: the one interval policy (shared/interval.ts), refused with its range. */
export function parseInterval(text: string | undefined): number {
  if (text === undefined) return DEFAULT_INTERVAL_MS;
  const interval = checkInterval(/^\d{1,9}$/.test(text) ? Number(text) : NaN);
  if (!interval.ok) throw new UsageError(`--interval takes ${INTERVAL_RANGE}, not "${printable(text)}".`);
  return interval.ms;
}

/** --event-buffer-kb: the kernel's event buffer per CPU, for hosts with longer bursts. */
export function parseEventBuffer(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const { min, max } = TCP_EVENT_BUFFER_KB;
  const kb = /^\d{1,8}$/.test(text) ? Number(text) : NaN;
  if (!(kb >= min && kb <= max))
    throw new UsageError(`--event-buffer-kb takes whole KiB from ${min} to ${max}, not "${printable(text)}".`);
  return kb;
}

/** `127.0.0.1:5000` or `[::1]:5000`: an IP literal and a port (from `lowestPort`), else a usage error. */
export function parseEndpoint(
  text: string | undefined,
  which: string,
  lowestPort = 1,
): { address: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text ?? '') ?? /^([^:[\]]+):(\d{1,5})$/.exec(text ?? '');
  const port = Number(m?.[2]);
  if (!m || !isIpLiteral(m[1]) || !(port >= lowestPort && port <= 65535))
    throw new UsageError(
      `${which} is an address and a port, e.g. 127.0.0.1:5000 or [::1]:5000, not "${printable(text ?? '')}".`,
    );
  return { address: m[1], port };
}

/** `PORT[/tcp|/udp]` and `--address A`, as the Port Doctor takes them. */
export function portRequest(spec: string | undefined, address: string | undefined) {
  if (spec === undefined) throw new UsageError('Which port? e.g. "porthole who 3000" or "porthole who 53/udp".');
  const parsed = parsePortSpec(spec);
  if (!parsed.ok) throw new UsageError(`${parsed.reason}.`);
  if (address !== undefined && !isIpLiteral(address))
    throw new UsageError(`--address takes an IPv4 or IPv6 address (no host names), not "${printable(address)}".`);
  return { port: parsed.port, protocol: parsed.protocol, address: address ?? null };
}

/** A token a user keeps in a file: read as any file a user names (a FIFO is refused, not waited on). */
export function readTokenFile(path: string, option: string): string {
  const token = readUserFile(path, 4096).toString('utf8').trim();
  if (!TOKEN_PATTERN.test(token))
    throw new UsageError(
      `${option} holds one token: 16-512 letters, digits or . _ ~ - (it travels in a URL and a WebSocket header).`,
    );
  return token;
}

/** Asks on the terminal; false without one (a script says --yes instead). */
export async function confirm(question: string, io: CliIo): Promise<boolean> {
  if (!io.isTTY || !process.stdin.isTTY) return false;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}
