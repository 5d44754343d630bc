// Questions asked of the history: who held or used a port (or a process, or a remote address had
// which sockets), from when to when. Read-only; the
// answer is bounded (MAX_ROWS, the rest counted) so a busy port's week stays one screen of JSON.

import { isIPv4 } from 'node:net';
import type {
  ContainerInfo,
  FoldedUse,
  HistoryAnswer,
  HistoryQuestion,
  PortHistory,
  PortUse,
  ProcessInfo,
  Socket,
} from '../shared/contract';

export type { FoldedUse, HistoryAnswer, HistoryQuestion, PortHistory, PortUse };
import { HistoryError, type HistoryStore } from './store';

/** Spans answered at most; the rest are counted in `more`. */
export const MAX_ROWS = 1_000;

export interface Row {
  protocol: string;
  family: number;
  local_address: string | null;
  local_port: number | null;
  remote_address: string | null;
  remote_port: number | null;
  state: string;
  listening: number;
  netns: number | null;
  netns_name: string | null;
  pid: number | null;
  process_name: string | null;
  owner_id: number | null;
  started_at: string | null;
  command: string | null;
  user: string | null;
  cwd: string | null;
  container_json: string | null;
  from_ms: number;
  to_ms: number | null;
}

const MINUTE_MS = 60_000;

/** What the spans_long index calls long (store.ts): an hour. */
export const LONG_SPAN_MS = 3_600_000;

/**
 * The conditions on a span that `question` asks, each an SQL term over the named parameters of
 * `bindings`. `drive`: the terms an index answers (one UNION branch each); `all`: every term.
 */
function conditions(question: HistoryQuestion): { drive: string[]; all: string[] } {
  const terms: { drive: string[]; all: string }[] = [];
  if (question.port !== undefined)
    terms.push({
      drive: ['local_port = @port', 'remote_port = @port'],
      all: '(local_port = @port OR remote_port = @port)',
    });
  if (question.pid !== undefined) terms.push({ drive: ['pid = @pid'], all: 'pid = @pid' });
  if (question.remote !== undefined) {
    const remote = 'remote_address IN (@remote, @remoteMapped)';
    const port = question.remotePort === undefined ? '' : ' AND remote_port = @remotePort';
    terms.push({ drive: [remote + port], all: remote + port });
  }
  if (question.process !== undefined) {
    // Linux keeps 15 bytes of a process's name: a longer one typed matches its first 15. Found
    // through the owners of that name (few) and their pids (spans_pid); a reused pid's other
    // process is left out by the name on the span.
    const named = (column: string) =>
      `(${column} = @process COLLATE NOCASE OR ${column} = @processShort COLLATE NOCASE)`;
    terms.push({ drive: [`pid IN (SELECT pid FROM owners WHERE ${named('name')})`], all: named('process_name') });
  }
  if (terms.length === 0) throw new HistoryError('ask about a port, a pid, a process or a remote address');
  return { drive: terms[0].drive, all: terms.map((t) => t.all) };
}

function bindings(question: HistoryQuestion, since: number, until: number): Record<string, unknown> {
  const remote = question.remote ?? null;
  return {
    since,
    until,
    port: question.port ?? null,
    pid: question.pid ?? null,
    remote,
    // A v4 address is also seen as the IPv4-mapped remote of a dual-stack socket.
    remoteMapped: remote !== null && isIPv4(remote) ? `::ffff:${remote}` : remote,
    remotePort: question.remotePort ?? null,
    process: question.process ?? null,
    processShort: question.process?.slice(0, 15) ?? null,
  };
}

/**
 * The lives (chains of spans) that match and overlap [@since, @until]: short spans (≤ an hour)
 * that began at most an hour before @since, by the indexes of the driving term; the long and open
 * ones by spans_long.
 */
function hits(question: HistoryQuestion): string {
  const { drive, all } = conditions(question);
  const every = all.join(' AND ');
  const short = drive.map(
    (term) => `SELECT COALESCE(conn, id) AS life FROM spans
     WHERE ${term} AND from_ms BETWEEN @since - ${LONG_SPAN_MS} AND @until AND to_ms >= @since AND ${every}`,
  );
  const long = `SELECT COALESCE(conn, id) FROM spans INDEXED BY spans_long
     WHERE (to_ms IS NULL OR to_ms - from_ms > ${LONG_SPAN_MS}) AND from_ms <= @until
       AND (to_ms IS NULL OR to_ms >= @since) AND ${every}`;
  return `hit AS (${[...short, long].join('\n    UNION\n    ')})`;
}

/** A span still open: it ends after any moment asked about. */
const OPEN = 9e15;

const containerOf = (json: string | null): ContainerInfo | undefined => {
  if (json === null) return undefined;
  try {
    return JSON.parse(json) as ContainerInfo;
  } catch {
    return undefined;
  }
};

function roleOf(r: Row, port: number | undefined): PortUse['role'] {
  if (r.listening) return 'listener';
  if (port === undefined) return 'connection';
  return r.local_port === port ? 'server' : 'client';
}

/**
 * The sockets `question` asks about between `since` and `until` (ms): each socket's life once
 * (its spans joined), with the state it was last in; listeners first, then by time.
 */
export function answerHistory(
  store: HistoryStore,
  question: HistoryQuestion,
  since: number,
  until: number,
): HistoryAnswer {
  const hit = hits(question);
  const bound = bindings(question, since, until);
  const rows = store.db
    .prepare(
      `WITH ${hit},
       members AS (
         SELECT hit.life, s.id, s.from_ms, s.to_ms FROM hit JOIN spans s ON s.id = hit.life
         UNION ALL
         SELECT hit.life, s.id, s.from_ms, s.to_ms FROM hit JOIN spans s ON s.conn = hit.life),
       lives AS (
         SELECT life, min(from_ms) AS first_ms, max(COALESCE(to_ms, ${OPEN})) AS last_ms, max(id) AS latest
           FROM members GROUP BY life)
       SELECT s.protocol, s.family, s.local_address, s.local_port, s.remote_address, s.remote_port, s.state,
              s.listening, s.netns, s.pid, COALESCE(o.name, s.process_name) AS process_name, s.owner_id,
              o.started_at, o.command, o.user, o.cwd, o.container_json,
              lives.first_ms AS from_ms, NULLIF(lives.last_ms, ${OPEN}) AS to_ms,
              count(*) OVER () AS lives
         FROM lives JOIN spans s ON s.id = lives.latest LEFT JOIN owners o ON o.id = s.owner_id
        ORDER BY s.listening DESC, lives.first_ms
        LIMIT ${MAX_ROWS + 1}`,
    )
    .all(bound) as (Row & { lives: number })[];
  const last = store.meta('last_at');
  const uses = rows.slice(0, MAX_ROWS).map((r): PortUse => ({
    protocol: r.protocol,
    role: roleOf(r, question.port),
    localAddress: r.local_address,
    localPort: r.local_port,
    remoteAddress: r.remote_address,
    remotePort: r.remote_port,
    state: r.state,
    pid: r.pid,
    name: r.process_name,
    command: r.command,
    cwd: r.cwd,
    container: ((c) => (c ? (c.name ?? c.id) : null))(containerOf(r.container_json)),
    from: r.from_ms,
    to: r.to_ms,
  }));
  const folds = foldsOf(store, question, bound);
  // Every row carries the number of lives found (counted once, from the lives already grouped).
  const more = rows.length > MAX_ROWS ? rows[0].lives - MAX_ROWS : 0;
  return {
    ...question,
    since,
    until,
    uses,
    more,
    ...folds,
    dropped: Number(store.meta('dropped_spans') ?? 0),
    droppedFolded: Number(store.meta('dropped_folded') ?? 0),
    lastRecorded: last === null ? null : Number(last),
  };
}

/** The version of the schema that has `folds`: an older file, read as it is, has none. */
const FOLDS_SINCE_VERSION = 3;

interface FoldRow {
  protocol: string;
  local_port: number;
  remote_address: string;
  remote_port: number;
  pid: number;
  name: string | null;
  command: string | null;
  cwd: string | null;
  first: number;
  last: number;
  n: number;
}

/** The folds that match, summed over the minutes of [since, until] per side, peer and owner. */
function foldsOf(
  store: HistoryStore,
  question: HistoryQuestion,
  bound: Record<string, unknown>,
): Pick<HistoryAnswer, 'folded' | 'foldedCount'> {
  if (store.version < FOLDS_SINCE_VERSION) return { folded: [], foldedCount: 0 };
  // The folds' columns are named as the spans' are, so the same conditions hold (pid 0: none).
  const where = `minute_ms BETWEEN @since - ${MINUTE_MS - 1} AND @until AND count > 0 AND ${conditions(question).all.join(' AND ')}`;
  const rows = store.db
    .prepare(
      `SELECT f.protocol, f.local_port, f.remote_address, f.remote_port, f.pid,
              COALESCE(o.name, f.process_name) AS name, o.command, o.cwd,
              min(f.minute_ms) AS first, max(f.minute_ms) AS last, sum(f.count) AS n
         FROM (SELECT * FROM folds WHERE ${where}) f LEFT JOIN owners o ON o.id = f.owner_id
        GROUP BY f.protocol, f.local_port, f.remote_address, f.remote_port, f.pid, f.owner_id
        ORDER BY n DESC, first
        LIMIT ${MAX_ROWS}`,
    )
    .all(bound) as FoldRow[];
  const total = store.db.prepare(`SELECT sum(count) AS n FROM folds WHERE ${where}`).get(bound) as { n: number | null };
  return {
    folded: rows.map((r) => ({
      protocol: r.protocol,
      role: r.local_port !== 0 ? 'server' : 'client',
      localPort: r.local_port || null,
      remoteAddress: r.remote_address,
      remotePort: r.remote_port || null,
      pid: r.pid || null,
      name: r.name,
      command: r.command,
      cwd: r.cwd,
      from: r.first,
      to: r.last + MINUTE_MS,
      count: Number(r.n),
    })),
    foldedCount: Number(total.n ?? 0),
  };
}

/** Connections the history kept only as a count in the minute of `at`. */
function foldedAt(store: HistoryStore, at: number): number {
  if (store.version < FOLDS_SINCE_VERSION) return 0;
  const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS;
  const row = store.db.prepare('SELECT sum(count) AS n FROM folds WHERE minute_ms = ?').get(minute) as {
    n: number | null;
  };
  return Number(row.n ?? 0);
}

/** Who held or used `port` between `since` and `until` (a port's timeline). */
export function portHistory(store: HistoryStore, port: number, since: number, until: number): PortHistory {
  return { ...answerHistory(store, { port }, since, until), port };
}

/** The owner a span names, once per pid, into `processes`. */
export function noteOwner(r: Row, processes: Map<number, ProcessInfo>): void {
  if (r.pid === null || r.owner_id === null || processes.has(r.pid)) return;
  const container = containerOf(r.container_json);
  processes.set(r.pid, {
    pid: r.pid,
    ppid: null,
    name: r.process_name ?? '',
    command: r.command ?? '',
    user: r.user,
    uid: null,
    startedAt: r.started_at,
    cwd: r.cwd,
    ...(container ? { container } : {}),
  });
}

/** A span as the socket it was in its state. */
export function socketOfRow(r: Row): Socket {
  return {
    protocol: r.protocol as Socket['protocol'],
    family: r.family as Socket['family'],
    localAddress: r.local_address ?? '',
    localPort: r.local_port,
    remoteAddress: r.remote_address,
    remotePort: r.remote_port,
    state: r.state as Socket['state'],
    pid: r.pid,
    processName: r.process_name,
    uid: null,
    // Not recorded: a rebuilt table has no inodes (0, as for a TIME_WAIT).
    inode: 0,
    pids: r.pid === null ? [] : [r.pid],
    lastPid: null,
    ...(r.netns === null ? {} : { netns: r.netns, netnsName: r.netns_name ?? String(r.netns) }),
  };
}

/** The columns a span's socket and owner are made from (socketOfRow, noteOwner). */
export const SPAN_COLUMNS = `s.*, o.started_at, o.command, o.user, o.cwd, o.container_json,
                   COALESCE(o.name, s.process_name) AS process_name`;

export interface TableAt {
  at: number;
  sockets: Socket[];
  processes: ProcessInfo[];
  /** Connections of that minute kept only as a count (past the budget): not among `sockets`. */
  folded: number;
}

/**
 * The table as it was at `at` (ms): every span that covers that moment, with its owners. Refused
 * (HistoryError) for a moment before the history starts or after it was last written.
 */
export function tableAt(store: HistoryStore, at: number): TableAt {
  const last = store.meta('last_at');
  const first = (store.db.prepare('SELECT min(from_ms) AS first FROM spans').get() as { first: number | null }).first;
  if (last === null || first === null) throw new HistoryError('nothing is recorded yet');
  if (at > Number(last))
    throw new HistoryError(
      `the history was last written at ${new Date(Number(last)).toISOString()}, before that moment`,
    );
  if (at < first) throw new HistoryError(`the history starts at ${new Date(first).toISOString()}, after that moment`);
  // Interval stabbing on two indexes: a span of at most an hour that covers `at` began in the
  // hour before it (spans_from); the longer and open ones are few (spans_long). Not one scan of
  // every span that began before `at`: half a 256 MB file for a moment in the middle of the week.
  // (Named: without statistics the planner would scan the table rather than the partial index.)
  const columns = SPAN_COLUMNS;
  const rows = store.db
    .prepare(
      `SELECT ${columns} FROM spans s LEFT JOIN owners o ON o.id = s.owner_id
        WHERE s.from_ms BETWEEN ?1 - ${LONG_SPAN_MS} AND ?1 AND s.to_ms > ?1 AND s.to_ms - s.from_ms <= ${LONG_SPAN_MS}
       UNION ALL
       SELECT ${columns} FROM spans s INDEXED BY spans_long LEFT JOIN owners o ON o.id = s.owner_id
        WHERE (s.to_ms IS NULL OR s.to_ms - s.from_ms > ${LONG_SPAN_MS}) AND s.from_ms <= ?1 AND (s.to_ms IS NULL OR s.to_ms > ?1)
       ORDER BY id`,
    )
    .all(at) as Row[];
  const processes = new Map<number, ProcessInfo>();
  const sockets = rows.map((r) => {
    noteOwner(r, processes);
    return socketOfRow(r);
  });
  return {
    at,
    sockets,
    processes: [...processes.values()].sort((a, b) => a.pid - b.pid),
    folded: foldedAt(store, at),
  };
}
