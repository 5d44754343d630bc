// "What talks to what" on this machine (and the machines it reads: sources): processes, the ports
// they listen on, and the peers connected to each port (remote hosts, or the process at the other
// end when the table holds it: a local connection, or one to a source).
// Pure and bounded: the busiest ports and peers are drawn, the rest counted.

import type { Socket } from '../shared/contract';
import { otherEndFinder, ownerLabel } from './local-peers';
import { isListening, isLiveConnection } from './views';

export interface MapNode {
  id: string;
  label: string;
  /** Connections through it (ports, peers) or ports it holds (processes). */
  weight: number;
}

export interface MapEdge {
  from: string;
  to: string;
  /** Connections along it (1 for a process holding a port). */
  count: number;
}

export interface MachineMap {
  processes: MapNode[];
  ports: MapNode[];
  peers: MapNode[];
  edges: MapEdge[];
  /** Ports and peers left out past the bounds. */
  hiddenPorts: number;
  hiddenPeers: number;
}

/**
 * @param words every word must be in a port's, its owner's or a peer's label for it to be drawn
 * @param limit ports and peers drawn, the busiest first
 * @param host draw one machine's ports only ('' this one, else a source's name); the others' sockets
 *   still name the process at the other end of a connection
 */
export function machineMap(sockets: Iterable<Socket>, words: string[] = [], limit = 24, host?: string): MachineMap {
  const every = [...sockets].filter((s) => s.netns === undefined && s.protocol !== 'unix');
  const otherEnd = otherEndFinder(every);
  const all = host === undefined ? every : every.filter((s) => (s.host ?? '') === host);
  // Ports: the listening ones, with their owners.
  const ports = new Map<string, { node: MapNode; owners: Set<string> }>();
  const portId = (s: Socket) => `${s.protocol}:${s.localPort}${s.host === undefined ? '' : `#${s.host}`}`;
  for (const s of all)
    if (isListening(s)) {
      const id = portId(s);
      const label = `${s.protocol} ${s.localPort}${s.host === undefined ? '' : ` on ${s.host}`}`;
      let port = ports.get(id);
      if (!port) ports.set(id, (port = { node: { id, label, weight: 0 }, owners: new Set() }));
      port.owners.add(ownerLabel(s));
    }
  // Connections into each port: peers by remote host, or the local process at the other end.
  const edges = new Map<string, MapEdge>();
  const peers = new Map<string, MapNode>();
  for (const s of all) {
    // Live connections only (views.ts's one definition): a TIME_WAIT socket has ended, and one whose
    // local port a listener took since (SO_REUSEADDR) may have been a client's, not the port's.
    if (!isLiveConnection(s)) continue;
    const port = ports.get(portId(s));
    if (!port) continue; // the client end of a connection: its server end counts it
    const other = otherEnd(s);
    const peerId = other ? `peer:${ownerLabel(other)}` : `host:${s.remoteAddress.replace(/^::ffff:/, '')}`;
    let peer = peers.get(peerId);
    if (!peer)
      peers.set(peerId, (peer = { id: peerId, label: other ? ownerLabel(other) : peerId.slice(5), weight: 0 }));
    peer.weight++;
    port.node.weight++;
    const key = `${port.node.id}>${peerId}`;
    const edge = edges.get(key) ?? { from: port.node.id, to: peerId, count: 0 };
    edge.count++;
    edges.set(key, edge);
  }
  const matches = (text: string) => words.every((w) => text.toLowerCase().includes(w));
  const portList = [...ports.values()]
    .filter(
      (p) =>
        words.length === 0 ||
        matches(`${p.node.label} ${[...p.owners].join(' ')}`) ||
        [...edges.values()].some((e) => e.from === p.node.id && matches(peers.get(e.to)!.label)),
    )
    .sort((a, b) => b.node.weight - a.node.weight || a.node.id.localeCompare(b.node.id));
  const shownPorts = portList.slice(0, limit);
  const portIds = new Set(shownPorts.map((p) => p.node.id));
  const peerWeights = new Map<string, number>();
  for (const e of edges.values())
    if (portIds.has(e.from)) peerWeights.set(e.to, (peerWeights.get(e.to) ?? 0) + e.count);
  const peerList = [...peerWeights].sort((a, b) => b[1] - a[1]).map(([id, weight]) => ({ ...peers.get(id)!, weight }));
  const shownPeers = peerList.slice(0, limit);
  const peerIds = new Set(shownPeers.map((p) => p.id));
  const processes = new Map<string, MapNode>();
  const result: MapEdge[] = [];
  for (const p of shownPorts)
    for (const o of p.owners) {
      const id = `process:${o}`;
      const node = processes.get(id) ?? { id, label: o, weight: 0 };
      node.weight++;
      processes.set(id, node);
      result.push({ from: id, to: p.node.id, count: 1 });
    }
  for (const e of edges.values()) if (portIds.has(e.from) && peerIds.has(e.to)) result.push(e);
  return {
    processes: [...processes.values()].sort((a, b) => b.weight - a.weight || a.label.localeCompare(b.label)),
    ports: shownPorts.map((p) => p.node),
    peers: shownPeers,
    edges: result,
    hiddenPorts: portList.length - shownPorts.length,
    hiddenPeers: peerList.length - shownPeers.length,
  };
}
