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
  const local = formatEndpoint(socket.localAddress, socket.localPort);
  // Another namespace can hold the very same 4-tuple (every container has its own 127.0.0.1).
  // …and so can another machine (a source of `serve`).
  const where =
    (socket.netns === undefined ? '' : `|net:${socket.netns}`) +
    (socket.host === undefined ? '' : hostSuffix(socket.host));
  if (socket.protocol === 'tcp' && socket.remoteAddress !== null) {
    return `tcp|${local}|${formatEndpoint(socket.remoteAddress, socket.remotePort)}${where}`;
  }
  return `${socket.protocol}|${local}|${socket.inode}${where}`;
}
