// What makes two readings the same socket (DESIGN §4): a port is not a socket.

import type { Socket, SocketKey } from '../shared/contract';

export function formatEndpoint(address: string, port: number | null): string {
  if (port === null) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
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
    (socket.host === undefined ? '' : `|host:${socket.host}`);
  if (socket.protocol === 'tcp' && socket.remoteAddress !== null) {
    return `tcp|${local}|${formatEndpoint(socket.remoteAddress, socket.remotePort)}${where}`;
  }
  return `${socket.protocol}|${local}|${socket.inode}${where}`;
}
