// What the UI shows of text it was sent that another user, a container or a file chose (process
// names, command lines, folders, users, container and namespace names): the CLI's escaped form,
// so a name ending in U+202E cannot make "30687" read "78603", and a newline or ESC shows as
// \n or \x1b. Done once, as messages arrive, on the display fields only: identities (socket keys,
// addresses, paths that are part of a key) are left as the host sent them, and shown escaped
// where they are displayed (endpoint-text.ts).
import type { NetNamespace, ProcessInfo, Socket, StreamMessage } from '../../../src-main/shared/contract';
import { printable } from '../../../src-main/shared/printable';

function process(p: ProcessInfo): void {
  p.name = printable(p.name);
  p.command = printable(p.command);
  if (p.user !== null) p.user = printable(p.user);
  if (p.cwd !== null) p.cwd = printable(p.cwd);
  if (p.container) {
    p.container.id = printable(p.container.id);
    if (p.container.name !== undefined) p.container.name = printable(p.container.name);
    if (p.container.image !== undefined) p.container.image = printable(p.container.image);
    if (p.container.pod !== undefined) p.container.pod = printable(p.container.pod);
    if (p.container.podNamespace !== undefined) p.container.podNamespace = printable(p.container.podNamespace);
  }
  for (const parent of p.parents ?? []) parent.name = printable(parent.name);
}

function socket(s: Socket): void {
  if (s.processName !== null) s.processName = printable(s.processName);
  if (s.netnsName !== undefined) s.netnsName = printable(s.netnsName);
}

const namespaces = (list: NetNamespace[] | undefined) => list?.forEach((ns) => (ns.name = printable(ns.name)));

/** Escapes a table's display text in place (a snapshot's, a resync's). */
export function escapeTable(table: { sockets: Socket[]; processes: ProcessInfo[]; namespaces?: NetNamespace[] }): void {
  table.sockets.forEach(socket);
  table.processes.forEach(process);
  namespaces(table.namespaces);
}

/** Escapes a stream message's display text in place, before anything reads it. */
export function escapeMessage(message: StreamMessage): void {
  if (message.type === 'resync') return escapeTable(message.resync);
  const delta = message.delta;
  delta.added.forEach(socket);
  for (const change of delta.changed) socket(change.to);
  delta.processes.forEach(process);
  namespaces(delta.namespaces);
}

/** A reply that is only shown (a Port Doctor diagnosis): every string in it escaped, a copy. */
export function escapeAll<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map(escapeAll) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeAll(v)])) as T;
  return value;
}
