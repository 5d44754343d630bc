// A recording cut from the history: the NDJSON stream (docs/format.md) that `watch --json` and the
// UI's Record button write, for any time range the history holds — the table at its start as a
// resync, then one delta at each moment a recorded socket came, changed state or went. What the UI
// replays and `diff` reads, made after the fact.

import {
  emptyStats,
  type Delta,
  type ProcessInfo,
  type Socket,
  type SocketKey,
  type StreamMessage,
} from '../shared/contract';
import { MAX_SNAPSHOT_BYTES } from '../export/import-snapshot';
import { changedFields } from '../track/diff';
import { socketKey } from '../track/identity';
import { LONG_SPAN_MS, noteOwner, socketOfRow, SPAN_COLUMNS, tableAt, type Row } from './query';
import { HistoryError, type HistoryStore } from './store';

/** A cut is at most what an import takes (the UI and `diff` read it back): past it, narrow the range. */
export const MAX_CUT_BYTES = MAX_SNAPSHOT_BYTES;

/**
 * The recording of (since, until]: NDJSON text, a resync of the table at `since` first. Refused
 * (HistoryError) where the history does not cover `since`, or the cut would pass MAX_CUT_BYTES.
 */
export function cutRecording(store: HistoryStore, since: number, until: number): string {
  if (until <= since) throw new HistoryError('the range ends before it starts');
  const start = tableAt(store, since);
  const table = new Map<SocketKey, Socket>();
  for (const socket of start.sockets) table.set(socketKey(socket), socket);
  const sentOwners = new Map(start.processes.map((p) => [p.pid, p]));
  let seq = 0;
  const lines: string[] = [];
  let bytes = 0;
  const emit = (message: StreamMessage) => {
    const line = JSON.stringify(message);
    bytes += line.length + 1;
    if (bytes > MAX_CUT_BYTES)
      throw new HistoryError(`the recording of that range is over ${MAX_CUT_BYTES} bytes: cut a shorter one`);
    lines.push(line);
  };
  emit({
    type: 'resync',
    resync: {
      seq,
      at: new Date(since).toISOString(),
      sockets: [...table.values()],
      processes: start.processes,
      stats: emptyStats(),
    },
  });

  // Every span that began or ended in the range: short ones by their start (at most an hour
  // before the range), long and open ones by their own index, as tableAt finds them.
  const rows = store.db
    .prepare(
      `SELECT ${SPAN_COLUMNS} FROM spans s LEFT JOIN owners o ON o.id = s.owner_id
        WHERE s.from_ms BETWEEN ?1 - ${LONG_SPAN_MS} AND ?2 AND s.to_ms - s.from_ms <= ${LONG_SPAN_MS}
          AND ((s.from_ms > ?1 AND s.from_ms <= ?2) OR (s.to_ms > ?1 AND s.to_ms <= ?2))
       UNION ALL
       SELECT ${SPAN_COLUMNS} FROM spans s INDEXED BY spans_long LEFT JOIN owners o ON o.id = s.owner_id
        WHERE (s.to_ms IS NULL OR s.to_ms - s.from_ms > ${LONG_SPAN_MS})
          AND ((s.from_ms > ?1 AND s.from_ms <= ?2) OR (s.to_ms > ?1 AND s.to_ms <= ?2))`,
    )
    .all(since, until) as Row[];
  // By moment: what ended then, what began then (a state change is both, for one socket).
  const moments = new Map<number, { ended: Row[]; began: Row[] }>();
  const at = (ms: number) => moments.get(ms) ?? moments.set(ms, { ended: [], began: [] }).get(ms)!;
  for (const row of rows) {
    if (row.from_ms > since && row.from_ms <= until) at(row.from_ms).began.push(row);
    if (row.to_ms !== null && row.to_ms > since && row.to_ms <= until) at(row.to_ms).ended.push(row);
  }
  for (const ms of [...moments.keys()].sort((a, b) => a - b)) {
    const { ended, began } = moments.get(ms)!;
    const delta: Delta = {
      seq: seq + 1,
      since: seq,
      at: new Date(ms).toISOString(),
      added: [],
      removed: [],
      changed: [],
      processes: [],
      stats: emptyStats(),
    };
    const gone = new Set(ended.map((row) => socketKey(socketOfRow(row))));
    const owners = new Map<number, ProcessInfo>();
    for (const row of began) {
      const socket = socketOfRow(row);
      const key = socketKey(socket);
      const before = table.get(key);
      gone.delete(key);
      table.set(key, socket);
      noteOwner(row, owners);
      if (!before) delta.added.push(socket);
      else {
        const from = changedFields(before, socket);
        if (from) delta.changed.push({ key, from, to: socket });
      }
    }
    for (const key of gone) if (table.delete(key)) delta.removed.push(key);
    for (const owner of owners.values()) {
      if (sentOwners.get(owner.pid)?.startedAt === owner.startedAt) continue;
      sentOwners.set(owner.pid, owner);
      delta.processes.push(owner);
    }
    if (delta.added.length + delta.removed.length + delta.changed.length === 0) continue;
    seq++;
    emit({ type: 'delta', delta });
  }
  return lines.join('\n') + '\n';
}
