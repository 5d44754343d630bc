// What the UI shows, derived from the socket table: listeners grouped by port, and a port's fan-out.
// Pure functions: the renderer's stores compute them, the tests check them.

import type { PublishedPort, Socket, SocketState } from '../shared/contract';
import { namespaceOf } from './namespaces';

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

/**
 * A live connection: a connected TCP socket in any state but LISTEN, TIME_WAIT and CLOSE. The one
 * definition of "connections" every view counts by (Listeners, a port's fan-out, the map).
 */
export function isLiveConnection(socket: Socket): socket is Socket & { remoteAddress: string } {
  return (
    socket.protocol === 'tcp' &&
    socket.remoteAddress !== null &&
    socket.state !== 'LISTEN' &&
    socket.state !== 'TIME_WAIT' &&
    socket.state !== 'CLOSE'
  );
}

/**
 * A connected TCP socket's row in any state but LISTEN, leftovers (TIME_WAIT) included: what the
 * exporter counts as a connection opened when such a row appears, and closed when it goes.
 */
export function isConnectionRow(socket: Pick<Socket, 'protocol' | 'remoteAddress' | 'state'>): boolean {
  return socket.protocol === 'tcp' && socket.remoteAddress !== null && socket.state !== 'LISTEN';
}

/** A connection that has ended but is still in the kernel's table (TIME_WAIT, CLOSE): counted apart. */
export function isLeftover(socket: Socket): boolean {
  return (
    socket.protocol === 'tcp' &&
    socket.remoteAddress !== null &&
    (socket.state === 'TIME_WAIT' || socket.state === 'CLOSE')
  );
}

export interface ListenerGroup {
  /**
   * `tcp:3000`, `udp:53`, or `unix:/run/x.sock`; `@<netns inode>` after it in another namespace,
   * `#<host>` on another machine (a source).
   */
  id: string;
  /** The source it was read on; null for this machine. */
  host: string | null;
  protocol: Socket['protocol'];
  port: number | null;
  /** The namespace's inode, null for Porthole's own; and its name ('host' for Porthole's own). */
  netns: number | null;
  namespace: string;
  /** Host ports the runtime forwards to this port of this namespace (a container's published port). */
  publishedAs: PublishedPort[];
  /** Where a forwarder on this host port sends connections (into a container). */
  forwardsTo: PublishedPort[];
  /** The listening sockets on this port: one per address, or SO_REUSEPORT siblings. */
  listeners: Socket[];
  /** Live connections (isLiveConnection) on the listening side of this port, now. */
  connections: number;
  /** Ended connections still in the table on that side (TIME_WAIT, CLOSE). */
  leftovers: number;
}

export function groupId(socket: Pick<Socket, 'protocol' | 'localAddress' | 'localPort' | 'netns' | 'host'>): string {
  const id = socket.protocol === 'unix' ? `unix:${socket.localAddress}` : `${socket.protocol}:${socket.localPort}`;
  return (
    (socket.netns === undefined ? id : `${id}@${socket.netns}`) + (socket.host === undefined ? '' : `#${socket.host}`)
  );
}

/** Whether a published port leads to this protocol and port inside that namespace. */
const leadsTo = (p: PublishedPort, protocol: Socket['protocol'], port: number | null, netns: number | null) =>
  netns !== null && p.netns === netns && p.protocol === protocol && p.port === port;

/**
 * Every listening socket, grouped by namespace, protocol and port, with how many connections it
 * has now, and the published ports that join a host port to a container's: Porthole's own
 * namespace first, then the others by name.
 */
export function listenerGroups(sockets: Iterable<Socket>, published: readonly PublishedPort[] = []): ListenerGroup[] {
  const groups = new Map<string, ListenerGroup>();
  const connected: Socket[] = [];
  for (const socket of sockets) {
    if (!isListening(socket)) {
      if (socket.remoteAddress !== null && socket.protocol === 'tcp') connected.push(socket);
      continue;
    }
    const id = groupId(socket);
    let group = groups.get(id);
    if (!group) {
      const netns = socket.netns ?? null;
      groups.set(
        id,
        (group = {
          id,
          host: socket.host ?? null,
          protocol: socket.protocol,
          port: socket.localPort,
          netns,
          namespace: namespaceOf(socket),
          // Published ports are this machine's: a source's own are not in `published`.
          publishedAs:
            socket.host === undefined
              ? published.filter((p) => leadsTo(p, socket.protocol, socket.localPort, netns))
              : [],
          forwardsTo:
            netns === null && socket.host === undefined
              ? published.filter((p) => p.protocol === socket.protocol && p.hostPort === socket.localPort)
              : [],
          listeners: [],
          connections: 0,
          leftovers: 0,
        }),
      );
    }
    group.listeners.push(socket);
  }
  for (const socket of connected) {
    const group = groups.get(groupId(socket));
    if (!group || !serves(group, socket)) continue;
    if (isLiveConnection(socket)) group.connections++;
    else if (isLeftover(socket)) group.leftovers++;
  }
  return [...groups.values()].sort(
    (a, b) =>
      Number(a.host !== null) - Number(b.host !== null) ||
      (a.host ?? '').localeCompare(b.host ?? '') ||
      Number(a.netns !== null) - Number(b.netns !== null) ||
      a.namespace.localeCompare(b.namespace) ||
      (a.port ?? 0) - (b.port ?? 0) ||
      a.id.localeCompare(b.id),
  );
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
  /** Of its sockets, the live connections (isLiveConnection). */
  live: number;
}

/** One hop of a path across namespaces: a published host port and the group at its other end. */
export interface Crossing {
  published: PublishedPort;
  /** The group at the other end (the host port's, or the container's), when it is in the table. */
  groupId: string | null;
  /** Connections on that other end now. */
  connections: number;
}

export interface FanOut {
  group: ListenerGroup | null;
  peers: Peer[];
  byState: Partial<Record<SocketState, number>>;
  /** Every connected socket behind the port, in any state (what the peers list). */
  total: number;
  /** Of them, the live connections (isLiveConnection): the port's count in every view. */
  live: number;
  /** And the ended ones still in the table (TIME_WAIT, CLOSE). */
  leftovers: number;
  /** A container's port: the host ports that lead here, and the clients connected there. */
  from: Crossing[];
  /** A host port a forwarder holds: the container port it leads to. */
  to: Crossing[];
}

/**
 * One listening port of one namespace and the connected sockets behind it, each told apart by its
 * remote end; with the published ports that carry host clients into the namespace.
 * @param netns the namespace's inode; null (default) for Porthole's own
 * @param host the source it is on; null (default) for this machine (published ports are this machine's)
 */
export function fanOut(
  sockets: Iterable<Socket>,
  protocol: Socket['protocol'],
  port: number,
  netns: number | null = null,
  published: readonly PublishedPort[] = [],
  host: string | null = null,
  /** listenerGroups of the same table, when the caller has them already (a view that shows both). */
  listeners?: readonly ListenerGroup[],
): FanOut {
  const all: Socket[] = [];
  for (const s of sockets) if ((s.host ?? null) === host) all.push(s);
  const groups = listeners
    ? listeners.filter((g) => g.host === host)
    : listenerGroups(all, host === null ? published : []);
  const group = groups.find((g) => g.protocol === protocol && g.port === port && g.netns === netns) ?? null;
  const other = (inNamespace: number | null, p: number) =>
    groups.find((g) => g.protocol === protocol && g.port === p && g.netns === inNamespace) ?? null;
  const peers = new Map<string, Peer>();
  const byState: Partial<Record<SocketState, number>> = {};
  let total = 0;
  let live = 0;
  let leftovers = 0;
  for (const socket of all) {
    if (
      socket.protocol !== protocol ||
      socket.localPort !== port ||
      (socket.netns ?? null) !== netns ||
      socket.remoteAddress === null ||
      isListening(socket)
    )
      continue;
    if (group && !serves(group, socket)) continue;
    const host = socket.remoteAddress.replace(/^::ffff:/, '');
    let peer = peers.get(host);
    if (!peer) peers.set(host, (peer = { host, sockets: [], byState: {}, live: 0 }));
    peer.sockets.push(socket);
    peer.byState[socket.state] = (peer.byState[socket.state] ?? 0) + 1;
    byState[socket.state] = (byState[socket.state] ?? 0) + 1;
    total++;
    if (isLiveConnection(socket)) {
      live++;
      peer.live++;
    } else if (isLeftover(socket)) leftovers++;
  }
  // Live connections before the ended ones (hundreds of TIME_WAIT rows would bury them), then by port.
  const liveFirst = (a: Socket, b: Socket) =>
    Number(isLiveConnection(b)) - Number(isLiveConnection(a)) || (a.remotePort ?? 0) - (b.remotePort ?? 0);
  for (const peer of peers.values()) peer.sockets.sort(liveFirst);
  const crossing = (p: PublishedPort, at: ListenerGroup | null): Crossing => ({
    published: p,
    groupId: at?.id ?? null,
    connections: at?.connections ?? 0,
  });
  return {
    group,
    peers: [...peers.values()].sort((a, b) => b.live - a.live || b.sockets.length - a.sockets.length),
    byState,
    total,
    live,
    leftovers,
    from: (group?.publishedAs ?? []).map((p) => crossing(p, other(null, p.hostPort))),
    to: (group?.forwardsTo ?? []).map((p) => crossing(p, other(p.netns, p.port))),
  };
}
