// Who is at the other end of a local connection: for the pictures of what talks to what, a
// loopback peer is named by the process holding the other end, found in the table.

import type { Socket } from '../shared/contract';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** A socket's owner as the pictures name it: `node (4242)`, or `owner unknown`. */
export function ownerLabel(socket: Socket): string {
  return socket.pid === null ? 'owner unknown' : `${socket.processName ?? '?'} (${socket.pid})`;
}

/**
 * Finds the other end of a local TCP connection by its whole identity — its namespace and both
 * endpoints reversed — a live owner before a TIME_WAIT ghost (a reused port may also stand in an
 * old connection with another peer: the port alone is not the socket). undefined for a remote peer.
 */
export function otherEndFinder(sockets: Iterable<Socket>): (socket: Socket) => Socket | undefined {
  const ends = new Map<string, Socket>();
  const key = (netns: number | undefined, a: string | null, p: number | null, b: string | null, q: number | null) =>
    `${netns ?? ''}|${a}|${p}|${b}|${q}`;
  for (const s of sockets)
    if (s.protocol === 'tcp' && s.remoteAddress !== null) {
      const k = key(s.netns, s.localAddress, s.localPort, s.remoteAddress, s.remotePort);
      if (ends.get(k)?.pid == null) ends.set(k, s);
    }
  return (socket) =>
    socket.remoteAddress !== null && LOOPBACK.test(socket.remoteAddress)
      ? ends.get(key(socket.netns, socket.remoteAddress, socket.remotePort, socket.localAddress, socket.localPort))
      : undefined;
}
