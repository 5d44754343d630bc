// What makes two readings the same socket (docs/format.md): a port is not a socket.

import type { Socket, SocketKey } from '../shared/contract';

export function formatEndpoint(address: string, port: number | null): string {
  if (port === null) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** How a source's name ends the keys of its sockets (a source's own keys, with this after them). */
export const hostSuffix = (host: string): string => `|host:${host}`;

/** The source a socket key belongs to; undefined for this machine's. */
export function hostOfKey(key: SocketKey): string | undefined {
  return /\|host:([^|]+)$/.exec(key)?.[1];
}

/**
 * A connected TCP socket is its protocol and both endpoints, so it keeps its identity when it drops
 * to TIME_WAIT and loses its inode. Listeners, UDP and Unix sockets are their local end and inode:
 * SO_REUSEPORT siblings share an address and port, and a UDP socket may change its peer.
 */
export function socketKey(socket: Socket): SocketKey {
  // Joined, not concatenated: `+` and template strings make a tree of pieces (one node a piece,
  // and the pieces: "127.0.0.1:", "3000"…) that stays as it is, and a table of 120,000 keys kept
  // ~25 MB of them alive; join() writes one flat string.
  const parts: (string | number)[] = [socket.protocol, '|'];
  endpointParts(parts, socket.localAddress, socket.localPort);
  parts.push('|');
  if (socket.protocol === 'tcp' && socket.remoteAddress !== null)
    endpointParts(parts, socket.remoteAddress, socket.remotePort);
  else parts.push(socket.inode);
  // Another namespace can hold the very same 4-tuple (every container has its own 127.0.0.1).
  if (socket.netns !== undefined) parts.push('|net:', socket.netns);
  // …and so can another machine (a source of `serve`).
  if (socket.host !== undefined) parts.push(hostSuffix(socket.host));
  return parts.join('');
}

/** formatEndpoint(), as parts to join. */
function endpointParts(parts: (string | number)[], address: string, port: number | null): void {
  if (port === null) parts.push(address);
  else if (address.includes(':')) parts.push('[', address, ']:', port);
  else parts.push(address, ':', port);
}
