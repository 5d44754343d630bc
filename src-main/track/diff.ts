// The pure difference between two readings of the socket table.

import type { Socket, SocketChange, SocketKey } from '../shared/contract';
import { socketKey } from './identity';

export type SocketTable = Map<SocketKey, Socket>;

/**
 * Indexes sockets by identity. Two readings of one 4-tuple can meet when a port is reused while its
 * old connection lingers in TIME_WAIT: the live one wins, it is the one a developer acts on.
 * @param keyOf the identity function; the tracker passes a memoised one
 */
export function indexSockets(sockets: Iterable<Socket>, keyOf: (socket: Socket) => SocketKey = socketKey): SocketTable {
  const table: SocketTable = new Map();
  for (const socket of sockets) {
    const key = keyOf(socket);
    const existing = table.get(key);
    if (existing && existing.state !== 'TIME_WAIT' && socket.state === 'TIME_WAIT') continue;
    table.set(key, socket);
  }
  return table;
}

/**
 * The fields that changed while the socket kept its identity, with their old values; null when
 * none did. Spelled out field by field: this runs for every socket on every poll. `lastPid`: the
 * one `after` is to have (the tracker's memory of an owner), compared without making a copy.
 */
export function changedFields(before: Socket, after: Socket, lastPid = after.lastPid): Partial<Socket> | null {
  if (before === after) return null;
  let from: Partial<Socket> | null = null;
  if (before.state !== after.state) (from ??= {}).state = before.state;
  if (before.pid !== after.pid) (from ??= {}).pid = before.pid;
  if (before.processName !== after.processName) (from ??= {}).processName = before.processName;
  if (before.uid !== after.uid) (from ??= {}).uid = before.uid;
  if (before.inode !== after.inode) (from ??= {}).inode = before.inode;
  if (before.pids !== after.pids && !samePids(before.pids, after.pids)) (from ??= {}).pids = before.pids;
  if (before.lastPid !== lastPid) (from ??= {}).lastPid = before.lastPid;
  // The namespace is part of the identity; its name is not (a container's name arrives later).
  if (before.netnsName !== after.netnsName) (from ??= {}).netnsName = before.netnsName;
  return from;
}

/**
 * Whether a change tells of an owner changing: the one after a table sent before its owners
 * (`ownersWerePending`: that table's stats.ownersPending) only fills them in, which is no news.
 */
export function isOwnerChange(change: SocketChange, ownersWerePending: boolean): boolean {
  return change.from.pid !== undefined && !(ownersWerePending && change.from.pid === null);
}

function samePids(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface TableDiff {
  added: Socket[];
  removed: SocketKey[];
  changed: SocketChange[];
}

export function diffTables(previous: SocketTable, next: SocketTable): TableDiff {
  const added: Socket[] = [];
  const removed: SocketKey[] = [];
  const changed: SocketChange[] = [];
  for (const [key, socket] of next) {
    const before = previous.get(key);
    if (!before) {
      added.push(socket);
      continue;
    }
    const from = changedFields(before, socket);
    if (from) changed.push({ key, from, to: socket });
  }
  for (const key of previous.keys()) if (!next.has(key)) removed.push(key);
  return { added, removed, changed };
}

export function isEmptyDiff(diff: TableDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}
