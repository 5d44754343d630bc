// Questions asked of the history: who held or used a port, from when to when. Read-only; the
// answer is bounded (MAX_ROWS, the rest counted) so a busy port's week stays one screen of JSON.

import type { HistoryStore } from './store';

/** Spans answered at most; the rest are counted in `more`. */
export const MAX_ROWS = 1_000;

export interface PortUse {
  protocol: string;
  /** 'listener': it listened on the port; 'server': a connection accepted on it; 'client': one made to it. */
  role: 'listener' | 'server' | 'client';
  localAddress: string | null;
  localPort: number | null;
  remoteAddress: string | null;
  remotePort: number | null;
  /** The last state it was seen in. */
  state: string;
  pid: number | null;
  name: string | null;
  command: string | null;
  cwd: string | null;
  container: string | null;
  /** ms since the epoch; `to` null: still there at the last recording. */
  from: number;
  to: number | null;
}

export interface PortHistory {
  port: number;
  since: number;
  until: number;
  uses: PortUse[];
  /** Spans that matched beyond MAX_ROWS. */
  more: number;
  /** Spans dropped from the history by retention or its size cap, in all (they may have matched). */
  dropped: number;
  /** When the history was last written (ms), or null when never. */
  lastRecorded: number | null;
}

interface Row {
  protocol: string;
  local_address: string | null;
  local_port: number | null;
  remote_address: string | null;
  remote_port: number | null;
  state: string;
  listening: number;
  pid: number | null;
  process_name: string | null;
  command: string | null;
  cwd: string | null;
  container: string | null;
  from_ms: number;
  to_ms: number | null;
}

/** Who held or used `port` between `since` and `until` (ms): listeners first, then by time. */
export function portHistory(store: HistoryStore, port: number, since: number, until: number): PortHistory {
  const rows = store.db
    .prepare(
      `SELECT s.protocol, s.local_address, s.local_port, s.remote_address, s.remote_port, s.state, s.listening,
              s.pid, COALESCE(o.name, s.process_name) AS process_name, o.command, o.cwd, o.container, s.from_ms, s.to_ms
         FROM spans s LEFT JOIN owners o ON o.id = s.owner_id
        WHERE (s.local_port = ? OR s.remote_port = ?) AND s.from_ms <= ? AND (s.to_ms IS NULL OR s.to_ms >= ?)
        ORDER BY s.listening DESC, s.from_ms
        LIMIT ${MAX_ROWS + 1}`,
    )
    .all(port, port, until, since) as Row[];
  const total =
    rows.length > MAX_ROWS
      ? Number(
          (
            store.db
              .prepare(
                `SELECT count(*) AS n FROM spans WHERE (local_port = ? OR remote_port = ?) AND from_ms <= ? AND (to_ms IS NULL OR to_ms >= ?)`,
              )
              .get(port, port, until, since) as { n: number }
          ).n,
        )
      : rows.length;
  const last = store.meta('last_at');
  return {
    port,
    since,
    until,
    uses: rows.slice(0, MAX_ROWS).map((r) => ({
      protocol: r.protocol,
      role: r.listening ? 'listener' : r.local_port === port ? 'server' : 'client',
      localAddress: r.local_address,
      localPort: r.local_port,
      remoteAddress: r.remote_address,
      remotePort: r.remote_port,
      state: r.state,
      pid: r.pid,
      name: r.process_name,
      command: r.command,
      cwd: r.cwd,
      container: r.container,
      from: r.from_ms,
      to: r.to_ms,
    })),
    more: total - Math.min(rows.length, MAX_ROWS),
    dropped: Number(store.meta('dropped_spans') ?? 0),
    lastRecorded: last === null ? null : Number(last),
  };
}
