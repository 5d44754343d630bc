// Compares two readings of the socket table taken apart in time (two snapshot files, or a file and
// the live table): what a developer asks of a before/after. Listeners are compared by protocol and
// local endpoint, so a restarted server is one listener whose owner changed, not a close and an open.

import type { ProcessInfo, Socket, SocketState } from '../shared/contract';
import { formatEndpoint, socketKey } from './identity';
import { isListening } from './views';

export interface ComparedSide {
  label: string;
  takenAt: string | null;
  sockets: readonly Socket[];
  processes: readonly ProcessInfo[];
}

export interface StateChange {
  socket: Socket;
  from: SocketState;
  to: SocketState;
}

export interface OwnerChange {
  socket: Socket;
  from: { pid: number | null; name: string | null };
  to: { pid: number | null; name: string | null };
}

export interface Comparison {
  before: { label: string; takenAt: string | null; sockets: number };
  after: { label: string; takenAt: string | null; sockets: number };
  listenersOpened: Socket[];
  listenersClosed: Socket[];
  connectionsAppeared: Socket[];
  connectionsGone: Socket[];
  stateChanges: StateChange[];
  ownerChanges: OwnerChange[];
  /** Sockets present on both sides with the same state and owner. */
  unchanged: number;
}

/** Unnamed Unix sockets (pipes between processes) have no identity a person can follow: left out. */
function compared(socket: Socket): boolean {
  return socket.protocol !== 'unix' || socket.localAddress !== '';
}

export function comparisonKey(socket: Socket): string {
  return isListening(socket)
    ? `${socket.protocol}|${formatEndpoint(socket.localAddress, socket.localPort)}|listening`
    : socketKey(socket);
}

function index(sockets: readonly Socket[]): Map<string, Socket> {
  const table = new Map<string, Socket>();
  for (const socket of sockets) if (compared(socket)) table.set(comparisonKey(socket), socket);
  return table;
}

const byEndpoint = (a: Socket, b: Socket) =>
  a.protocol.localeCompare(b.protocol) ||
  (a.localPort ?? 0) - (b.localPort ?? 0) ||
  a.localAddress.localeCompare(b.localAddress) ||
  (a.remotePort ?? 0) - (b.remotePort ?? 0);

export function compareTables(before: ComparedSide, after: ComparedSide): Comparison {
  const a = index(before.sockets);
  const b = index(after.sockets);
  const result: Comparison = {
    before: { label: before.label, takenAt: before.takenAt, sockets: before.sockets.length },
    after: { label: after.label, takenAt: after.takenAt, sockets: after.sockets.length },
    listenersOpened: [],
    listenersClosed: [],
    connectionsAppeared: [],
    connectionsGone: [],
    stateChanges: [],
    ownerChanges: [],
    unchanged: 0,
  };
  for (const [key, socket] of b) {
    const old = a.get(key);
    if (!old) {
      (isListening(socket) ? result.listenersOpened : result.connectionsAppeared).push(socket);
      continue;
    }
    let same = true;
    if (old.state !== socket.state) {
      result.stateChanges.push({ socket, from: old.state, to: socket.state });
      same = false;
    }
    if (old.pid !== socket.pid) {
      result.ownerChanges.push({
        socket,
        from: { pid: old.pid, name: old.processName },
        to: { pid: socket.pid, name: socket.processName },
      });
      same = false;
    }
    if (same) result.unchanged++;
  }
  for (const [key, socket] of a)
    if (!b.has(key)) (isListening(socket) ? result.listenersClosed : result.connectionsGone).push(socket);
  for (const list of [
    result.listenersOpened,
    result.listenersClosed,
    result.connectionsAppeared,
    result.connectionsGone,
  ])
    list.sort(byEndpoint);
  result.stateChanges.sort((x, y) => byEndpoint(x.socket, y.socket));
  result.ownerChanges.sort((x, y) => byEndpoint(x.socket, y.socket));
  return result;
}

export function isSameTable(comparison: Comparison): boolean {
  return (
    comparison.listenersOpened.length +
      comparison.listenersClosed.length +
      comparison.connectionsAppeared.length +
      comparison.connectionsGone.length +
      comparison.stateChanges.length +
      comparison.ownerChanges.length ===
    0
  );
}
