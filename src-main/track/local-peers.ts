// Who is at the other end of a connection: for the pictures of what talks to what, a peer is named
// by the process holding the other end, found in the table — on this machine over loopback, or on
// another machine Porthole reads (a source of `serve`) when both ends are in the table.

import type { Socket } from '../shared/contract';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** A socket's owner as the pictures name it: `node (4242)`, `node (4242) on staging`, or `owner unknown`. */
export function ownerLabel(socket: Socket): string {
  const owner = socket.pid === null ? 'owner unknown' : `${socket.processName ?? '?'} (${socket.pid})`;
  return socket.host === undefined ? owner : `${owner} on ${socket.host}`;
}

const tupleKey = (a: string | null, p: number | null, b: string | null, q: number | null) => `${a}|${p}|${b}|${q}`;

/**
 * Finds the other end of a TCP connection by its whole identity — both endpoints reversed — a live
 * owner before a TIME_WAIT ghost (a reused port may also stand in an old connection with another
 * peer: the port alone is not the socket).
 * - Over loopback, in the same machine and namespace.
 * - Otherwise, on another machine of the table (sources), between the machines' own namespaces
 *   (a container's address is translated on its way out), and only when exactly one machine holds
 *   it: two machines holding the same pair of ends cannot both be the other end.
 * undefined when the other end is not in the table.
 */
export function otherEndFinder(sockets: Iterable<Socket>): (socket: Socket) => Socket | undefined {
  const all = Array.isArray(sockets) ? (sockets as Socket[]) : [...sockets];
  const local = new Map<string, Socket>();
  /** Own-namespace ends by their 4-tuple alone, for ends on another machine; null when two machines hold one. */
  const across = new Map<string, Socket | null>();
  // One machine (the usual case): no end can be on another, and 50,000 remote peers cost no index.
  const machines = all.some((s) => s.host !== undefined);
  for (const s of all) {
    if (s.protocol !== 'tcp' || s.remoteAddress === null) continue;
    if (LOOPBACK.test(s.remoteAddress)) {
      const k = `${s.host ?? ''}|${s.netns ?? ''}|${tupleKey(s.localAddress, s.localPort, s.remoteAddress, s.remotePort)}`;
      if (local.get(k)?.pid == null) local.set(k, s);
    } else if (machines && s.netns === undefined) {
      const tuple = tupleKey(s.localAddress, s.localPort, s.remoteAddress, s.remotePort);
      const seen = across.get(tuple);
      if (seen === undefined) across.set(tuple, s);
      else if (seen !== null && seen.host !== s.host) across.set(tuple, null);
      else if (seen?.pid == null) across.set(tuple, s);
    }
  }
  return (socket) => {
    if (socket.remoteAddress === null) return undefined;
    const tuple = tupleKey(socket.remoteAddress, socket.remotePort, socket.localAddress, socket.localPort);
    if (LOOPBACK.test(socket.remoteAddress)) return local.get(`${socket.host ?? ''}|${socket.netns ?? ''}|${tuple}`);
    if (socket.netns !== undefined) return undefined;
    const other = across.get(tuple);
    return other && other.host !== socket.host ? other : undefined;
  };
}
