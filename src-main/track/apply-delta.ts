// Applies a delta to a table of sockets: the one implementation every subscriber uses.

import type { Delta, Socket, SocketKey } from '../shared/contract';
import { socketKey } from './identity';

export type AppliedTable = Map<SocketKey, Socket>;

/** Mutates `table` in place; returns the sockets removed, for callers that show what went. */
export function applyDelta(
  table: AppliedTable,
  delta: Pick<Delta, 'added' | 'removed' | 'changed' | 'traffic'>,
): Socket[] {
  const gone: Socket[] = [];
  for (const key of delta.removed) {
    const socket = table.get(key);
    if (socket) gone.push(socket);
    table.delete(key);
  }
  for (const socket of delta.added) table.set(socketKey(socket), socket);
  for (const change of delta.changed) table.set(change.key, change.to);
  for (const update of delta.traffic ?? []) {
    const socket = table.get(update.key);
    if (socket) table.set(update.key, { ...socket, traffic: update.traffic });
  }
  return gone;
}
