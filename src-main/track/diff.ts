// The pure difference between two readings of the socket table.

import type { Socket, SocketChange, SocketKey } from '../shared/contract';
import { socketKey } from './identity';

export type SocketTable = Map<SocketKey, Socket>;

/** The fields that may change while a socket keeps its identity. */
const MUTABLE_FIELDS = ['state', 'pid', 'processName', 'uid', 'inode', 'pids', 'lastPid'] as const;

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

/**
 * Indexes sockets by identity. Two readings of one 4-tuple can meet when a port is reused while its
 * old connection lingers in TIME_WAIT: the live one wins, it is the one a developer acts on.
 */
export function indexSockets(sockets: Iterable<Socket>): SocketTable {
  const table: SocketTable = new Map();
  for (const socket of sockets) {
    const key = socketKey(socket);
    const existing = table.get(key);
    if (existing && existing.state !== 'TIME_WAIT' && socket.state === 'TIME_WAIT') continue;
    table.set(key, socket);
  }
  return table;
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
    const from: Partial<Socket> = {};
    let differs = false;
    for (const field of MUTABLE_FIELDS) {
      if (sameValue(before[field], socket[field])) continue;
      (from as Record<string, unknown>)[field] = before[field];
      differs = true;
    }
    if (differs) changed.push({ key, from, to: socket });
  }
  for (const key of previous.keys()) if (!next.has(key)) removed.push(key);
  return { added, removed, changed };
}

export function isEmptyDiff(diff: TableDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}
