// What the UI shows, derived from the socket table: listeners grouped by port, and a port's fan-out.
// Pure functions: the renderer's stores compute them, the tests check them.

import type { Socket, SocketState } from '../shared/contract';

export type AddressScope = 'loopback' | 'wildcard' | 'specific';
/** `dual-stack` is a `::` listener, which Linux lets IPv4 clients reach unless IPV6_V6ONLY is set. */
export type Stack = 'v4' | 'v6' | 'dual-stack' | 'unix';

export function addressScope(address: string): AddressScope {
  if (address === '0.0.0.0' || address === '::' || address === '*') return 'wildcard';
  if (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.')) return 'loopback';
  return 'specific';
}

export function stackOf(socket: Socket): Stack {
  if (socket.family === null) return 'unix';
  if (socket.family === 4) return 'v4';
  return socket.localAddress === '::' ? 'dual-stack' : 'v6';
}

/** A socket waiting for peers: a TCP listener, or a bound, unconnected UDP socket. */
export function isListening(socket: Socket): boolean {
  return (
    socket.state === 'LISTEN' || (socket.protocol === 'udp' && socket.state === 'UNCONN' && socket.localPort !== 0)
  );
}

export interface ListenerGroup {
  /** `tcp:3000`, `udp:53`, or `unix:/run/x.sock`. */
  id: string;
  protocol: Socket['protocol'];
  port: number | null;
  /** The listening sockets on this port: one per address, or SO_REUSEPORT siblings. */
  listeners: Socket[];
  /** Connected sockets on the listening side of this port, now. */
  connections: number;
}

export function groupId(socket: Socket): string {
  return socket.protocol === 'unix' ? `unix:${socket.localAddress}` : `${socket.protocol}:${socket.localPort}`;
}

/** Every listening socket, grouped by protocol and port, with how many connections it has now. */
export function listenerGroups(sockets: Iterable<Socket>): ListenerGroup[] {
  const groups = new Map<string, ListenerGroup>();
  const connected: Socket[] = [];
  for (const socket of sockets) {
    if (!isListening(socket)) {
      if (socket.remoteAddress !== null && socket.protocol === 'tcp') connected.push(socket);
      continue;
    }
    const id = groupId(socket);
    let group = groups.get(id);
    if (!group)
      groups.set(
        id,
        (group = { id, protocol: socket.protocol, port: socket.localPort, listeners: [], connections: 0 }),
      );
    group.listeners.push(socket);
  }
  for (const socket of connected) {
    const group = groups.get(`tcp:${socket.localPort}`);
    if (group && serves(group, socket)) group.connections++;
  }
  return [...groups.values()].sort((a, b) => (a.port ?? 0) - (b.port ?? 0) || a.id.localeCompare(b.id));
}

/** Whether a connected socket is the listening side of one of the group's listeners. */
function serves(group: ListenerGroup, socket: Socket): boolean {
  return group.listeners.some(
    (l) =>
      l.localAddress === socket.localAddress ||
      addressScope(l.localAddress) === 'wildcard' ||
      (l.localAddress === '::' && socket.localAddress.startsWith('::ffff:')),
  );
}

export interface Peer {
  /** The remote host; the same host over IPv4 and IPv4-mapped IPv6 is one peer. */
  host: string;
  sockets: Socket[];
  byState: Partial<Record<SocketState, number>>;
}

export interface FanOut {
  group: ListenerGroup | null;
  peers: Peer[];
  byState: Partial<Record<SocketState, number>>;
  total: number;
}

/** One listening port and the connected sockets behind it, each told apart by its remote end. */
export function fanOut(sockets: Iterable<Socket>, protocol: Socket['protocol'], port: number): FanOut {
  const all = [...sockets];
  const group = listenerGroups(all).find((g) => g.protocol === protocol && g.port === port) ?? null;
  const peers = new Map<string, Peer>();
  const byState: Partial<Record<SocketState, number>> = {};
  let total = 0;
  for (const socket of all) {
    if (
      socket.protocol !== protocol ||
      socket.localPort !== port ||
      socket.remoteAddress === null ||
      isListening(socket)
    )
      continue;
    if (group && !serves(group, socket)) continue;
    const host = socket.remoteAddress.replace(/^::ffff:/, '');
    let peer = peers.get(host);
    if (!peer) peers.set(host, (peer = { host, sockets: [], byState: {} }));
    peer.sockets.push(socket);
    peer.byState[socket.state] = (peer.byState[socket.state] ?? 0) + 1;
    byState[socket.state] = (byState[socket.state] ?? 0) + 1;
    total++;
  }
  for (const peer of peers.values()) peer.sockets.sort((a, b) => (a.remotePort ?? 0) - (b.remotePort ?? 0));
  return { group, peers: [...peers.values()].sort((a, b) => b.sockets.length - a.sockets.length), byState, total };
}
