// Records the stream into the history: each TCP or UDP socket as spans, one per state it was in
// (from when to when, its owner), chained by `conn` (the first span's id) into the socket's life;
// each owner once. Past a budget of new connections a minute, the short ones are folded into
// per-minute counts instead (see fold()). Fed the same messages as any other consumer of the
// stream; one transaction per message, so a crash loses at most the last poll. It keeps no copy
// of the table: a recorded socket's open span says all it needs of it (a socket's row is kept only
// while it is folded, to be recorded if it lasts), and a resync is compared with the open spans.

import type { ProcessInfo, Socket, SocketKey, StreamMessage } from '../shared/contract';
import { socketKey } from '../track/identity';
import { isListening } from '../track/views';
import { inTransaction, pragmaNumber, type HistoryStore } from './store';

/** Defaults of what is kept: a week, at most 256 MB of file, 600 new connections a minute one by one. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 3600_000;
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_CONNECTIONS_PER_MINUTE = 600;
/** A folded connection still live this long after it was first seen is recorded one by one after all. */
export const FOLD_SHORT_MS = 60_000;
const MINUTE_MS = 60_000;
/** Owners' ids kept in memory (by pid and start time); past it the cache starts over. */
const OWNER_CACHE_MAX = 10_000;
/** How often (ms of the stream's clock) old spans are pruned and the size checked. */
const PRUNE_EVERY_MS = 60_000;
/** Spans deleted per statement when over the size cap, oldest first. */
const PRUNE_BATCH = 5_000;

export interface RecorderLimits {
  retentionMs: number;
  maxBytes: number;
  /**
   * New connections a minute recorded one by one (live ones, and as many leftovers of ones that
   * ended unseen); past it, short ones are folded into counts.
   */
  connectionsPerMinute: number;
}

export const DEFAULT_LIMITS: RecorderLimits = {
  retentionMs: DEFAULT_RETENTION_MS,
  maxBytes: DEFAULT_MAX_BYTES,
  connectionsPerMinute: DEFAULT_CONNECTIONS_PER_MINUTE,
};

interface OpenSpan {
  id: number;
  /** The first span of the socket's life (its own id for the first). */
  conn: number;
  state: string;
  owner: number | null;
  pid: number | null;
  name: string | null;
  /** `protocol|port` of a listening socket (see `listening`); null for a connection. */
  listens: string | null;
}

/** A connection counted into a fold that is still live: recorded one by one if it lasts (promoteLasting()). */
interface FoldedLife {
  /** Its row as last received (what is recorded if it lasts). */
  socket: Socket;
  /** The fold row it was counted in. */
  fold: FoldKey;
  firstSeen: number;
  owner: number | null;
  pid: number | null;
  name: string | null;
}

type FoldKey = [minute: number, protocol: string, localPort: number, remote: string, remotePort: number, pid: number];

const recorded = (s: Socket) => s.protocol === 'tcp' || s.protocol === 'udp';
/** A TCP connection that has ended (its TIME_WAIT or CLOSE leftover): a folded one is done. */
const ended = (s: Pick<Socket, 'protocol' | 'state'>) =>
  s.protocol === 'tcp' && (s.state === 'TIME_WAIT' || s.state === 'CLOSE');
const listenKey = (protocol: string, port: number | null) => `${protocol}|${port}`;

export class HistoryRecorder {
  /** The stream's seq recorded last (-1 before the first resync): a delta must follow on from it. */
  private seq = -1;
  /** The owners' records, by pid: replaced by a resync, changed by a delta (as the stream’s table). */
  private processes = new Map<number, ProcessInfo>();
  /** The open span of each live socket recorded. */
  private readonly spans = new Map<SocketKey, OpenSpan>();
  private readonly owners = new Map<string, number>();
  /**
   * Folded connections still live, oldest first (a Map keeps insertion order, and they are
   * inserted as first seen). Bounded by the host's live table, each for at most FOLD_SHORT_MS.
   */
  private readonly folded = new Map<SocketKey, FoldedLife>();
  /** Listening sockets by `protocol|port`: a connection on such a port is the server's side. */
  private readonly listening = new Map<string, number>();
  private minute = -1;
  /** New connections this minute: live when first seen, or already ended (each kind has the budget). */
  private minuteConnections = { live: 0, ended: 0 };
  /** The last moment recorded: a clock stepped back does not take the history back with it. */
  private lastAt = -Infinity;
  private lastPrune = 0;
  /** Spans dropped by retention or the size cap since this recorder started. */
  dropped = 0;
  /** Connections folded into per-minute counts since this recorder started. */
  foldedCount = 0;

  private readonly insertSpan;
  private readonly closeSpan;
  private readonly setOwner;
  private readonly findOwner;
  private readonly insertOwner;
  private readonly addFold;
  private readonly unfold;

  constructor(
    private readonly store: HistoryStore,
    private readonly limits: RecorderLimits = DEFAULT_LIMITS,
  ) {
    const db = store.db;
    this.insertSpan = db.prepare(
      `INSERT INTO spans (protocol, family, local_address, local_port, remote_address, remote_port, state,
         listening, netns, netns_name, pid, process_name, owner_id, conn, from_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.closeSpan = db.prepare('UPDATE spans SET to_ms = ? WHERE id = ?');
    this.setOwner = db.prepare(
      'UPDATE spans SET pid = ?, process_name = ?, owner_id = ? WHERE id = ? AND owner_id IS NULL',
    );
    this.findOwner = db.prepare('SELECT id FROM owners WHERE pid = ? AND started_at IS ?');
    this.insertOwner = db.prepare(
      'INSERT INTO owners (pid, started_at, name, command, user, cwd, container_json) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.addFold = db.prepare(
      `INSERT INTO folds (minute_ms, protocol, local_port, remote_address, remote_port, pid, process_name, owner_id, count)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)
       ON CONFLICT DO UPDATE SET count = count + 1`,
    );
    this.unfold = db.prepare(
      `UPDATE folds SET count = count - 1
        WHERE minute_ms = ? AND protocol = ? AND local_port = ? AND remote_address = ? AND remote_port = ? AND pid = ?`,
    );
    // Spans a previous recorder left open (it stopped, or was killed) end where it last recorded.
    const last = store.meta('last_at');
    if (last !== null) {
      db.prepare('UPDATE spans SET to_ms = ? WHERE to_ms IS NULL').run(Number(last));
      this.lastAt = Number(last);
    }
  }

  /** Applies one message of the stream and records what it changed; 'gap' asks for a resync. */
  receive(message: StreamMessage): 'gap' | void {
    const { resync, delta } = message.type === 'resync' ? { ...message, delta: null } : { ...message, resync: null };
    if (delta && delta.since !== this.seq) return 'gap';
    if (resync) this.processes = new Map(resync.processes.map((p) => [p.pid, p]));
    else {
      for (const p of delta.processes) this.processes.set(p.pid, p);
      for (const pid of delta.processesGone ?? []) this.processes.delete(pid);
    }
    this.seq = resync ? resync.seq : delta.seq;
    const stamped = Date.parse(resync ? resync.at : delta.at);
    if (!Number.isFinite(stamped)) return;
    // The wall clock may be stepped back (NTP, a user): what is recorded after it is recorded at
    // the last moment already written until the clock passes it, never before (which would put
    // a span's end before its start, and the history out of order).
    const at = Math.max(stamped, this.lastAt);
    this.lastAt = at;
    inTransaction(this.store.db, () => {
      if (resync) this.reconcile(resync.sockets, at);
      else {
        for (const key of delta.removed) this.end(key, at);
        for (const socket of delta.added) this.begin(socketKey(socket), socket, at);
        for (const change of delta.changed) {
          const folded = this.folded.get(change.key);
          if (folded !== undefined) {
            if (ended(change.to)) this.folded.delete(change.key);
            else folded.socket = change.to;
          }
          const span = this.spans.get(change.key);
          if (span === undefined) continue;
          if (change.from.pid !== undefined && change.to.pid !== null) this.own(span, change.to);
          if (change.to.state !== span.state) this.next(change.key, change.to, at);
        }
      }
      this.promoteLasting(at);
      this.store.setMeta('last_at', String(at));
    });
    if (at - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = at;
      this.prune(at);
    }
  }

  /** After a resync: spans of sockets no longer there end, new ones begin. */
  private reconcile(sockets: readonly Socket[], at: number): void {
    const table = new Map<SocketKey, Socket>();
    for (const socket of sockets) if (recorded(socket)) table.set(socketKey(socket), socket);
    for (const key of [...this.spans.keys()]) if (!table.has(key)) this.end(key, at);
    for (const key of [...this.folded.keys()]) if (!table.has(key)) this.folded.delete(key);
    for (const [key, socket] of table) {
      const folded = this.folded.get(key);
      if (folded !== undefined) {
        if (ended(socket)) this.folded.delete(key);
        else folded.socket = socket;
        continue;
      }
      const span = this.spans.get(key);
      if (span === undefined) {
        this.begin(key, socket, at);
        continue;
      }
      // An owner found since (a table sent before its owners, then a resync in place of the delta
      // that filled them in): as a change would have told it.
      if (socket.pid !== null) this.own(span, socket);
      if (span.state !== socket.state) this.next(key, socket, at);
    }
  }

  private begin(key: SocketKey, socket: Socket, at: number): void {
    if (!recorded(socket) || this.spans.has(key) || this.folded.has(key)) return;
    const owner = socket.pid === null ? null : this.ownerId(this.processes.get(socket.pid));
    const life = { conn: null, owner, pid: socket.pid, name: socket.processName };
    if (!isListening(socket)) {
      const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS;
      if (minute !== this.minute) {
        this.minute = minute;
        this.minuteConnections = { live: 0, ended: 0 };
      }
      // Leftovers of connections that ended before a poll saw them (TIME_WAIT, no owner) have a
      // budget of their own: a storm of them does not fold the live connections, whose owner is known.
      const kind = ended(socket) ? 'ended' : 'live';
      if (++this.minuteConnections[kind] > this.limits.connectionsPerMinute) return this.fold(key, socket, at, life);
    }
    this.insert(key, socket, at, life);
  }

  /**
   * A connection past the minute's budget: counted in its minute's fold, keyed by its protocol,
   * the server's port (the local one when it is listened on, else the remote one; the other side's
   * ephemeral port reads 0), the remote address and the owner. One that is still live a minute
   * later was not short after all and is recorded one by one from when it was first seen.
   */
  private fold(
    key: SocketKey,
    socket: Socket,
    at: number,
    life: Omit<FoldedLife, 'socket' | 'fold' | 'firstSeen'>,
  ): void {
    const serverSide = this.listening.has(listenKey(socket.protocol, socket.localPort));
    const fold: FoldKey = [
      Math.floor(at / MINUTE_MS) * MINUTE_MS,
      socket.protocol,
      serverSide ? (socket.localPort ?? 0) : 0,
      socket.remoteAddress ?? '',
      serverSide ? 0 : (socket.remotePort ?? 0),
      life.pid ?? 0,
    ];
    this.addFold.run(...fold, life.name, life.owner);
    this.foldedCount++;
    if (!ended(socket)) this.folded.set(key, { ...life, socket, fold, firstSeen: at });
  }

  /** Folded connections live for FOLD_SHORT_MS: taken out of their count, recorded as spans. */
  private promoteLasting(at: number): void {
    for (const [key, folded] of this.folded) {
      if (folded.firstSeen > at - FOLD_SHORT_MS) break; // the rest are younger
      this.folded.delete(key);
      this.unfold.run(...folded.fold);
      this.foldedCount--;
      this.insert(key, folded.socket, folded.firstSeen, { conn: null, ...folded });
    }
  }

  /** The socket went into another state: its span ends, the next one of its life begins (same owner). */
  private next(key: SocketKey, socket: Socket, at: number): void {
    const span = this.spans.get(key)!;
    this.closeSpan.run(at, span.id);
    this.insert(key, socket, at, span);
  }

  private insert(
    key: SocketKey,
    socket: Socket,
    at: number,
    life: { conn: number | null; owner: number | null; pid: number | null; name: string | null },
  ): void {
    const result = this.insertSpan.run(
      socket.protocol,
      socket.family,
      socket.localAddress,
      socket.localPort,
      socket.remoteAddress,
      socket.remotePort,
      socket.state,
      isListening(socket) ? 1 : 0,
      socket.netns ?? null,
      socket.netns === undefined ? null : (socket.netnsName ?? String(socket.netns)),
      life.pid,
      life.name,
      life.owner,
      life.conn,
      at,
    );
    const id = Number(result.lastInsertRowid);
    const listens = isListening(socket) ? listenKey(socket.protocol, socket.localPort) : null;
    const open = this.spans.get(key);
    if (listens !== null && open?.listens !== listens)
      this.listening.set(listens, (this.listening.get(listens) ?? 0) + 1);
    this.spans.set(key, {
      id,
      conn: life.conn ?? id,
      state: socket.state,
      owner: life.owner,
      pid: life.pid,
      name: life.name,
      listens,
    });
  }

  private end(key: SocketKey, at: number): void {
    this.folded.delete(key);
    const span = this.spans.get(key);
    if (span === undefined) return;
    this.closeSpan.run(at, span.id);
    this.spans.delete(key);
    if (span.listens !== null) {
      const n = (this.listening.get(span.listens) ?? 1) - 1;
      if (n > 0) this.listening.set(span.listens, n);
      else this.listening.delete(span.listens);
    }
  }

  /** A socket whose owner became known: its spans keep the first owner they had. */
  private own(span: OpenSpan, socket: Socket): void {
    if (span.owner !== null || span.pid !== null) return;
    const owner = socket.pid === null ? null : this.ownerId(this.processes.get(socket.pid));
    this.setOwner.run(socket.pid, socket.processName, owner, span.id);
    Object.assign(span, { owner, pid: socket.pid, name: socket.processName });
  }

  /** The owner's row, made the first time this process (pid and start time) is seen. */
  private ownerId(process: ProcessInfo | undefined): number | null {
    if (!process) return null;
    const cacheKey = `${process.pid}|${process.startedAt ?? ''}`;
    const cached = this.owners.get(cacheKey);
    if (cached !== undefined) return cached;
    const found = this.findOwner.get(process.pid, process.startedAt) as { id: number } | undefined;
    const id =
      found?.id ??
      Number(
        this.insertOwner.run(
          process.pid,
          process.startedAt,
          process.name,
          process.command,
          process.user,
          process.cwd,
          process.container ? JSON.stringify(process.container) : null,
        ).lastInsertRowid,
      );
    if (this.owners.size >= OWNER_CACHE_MAX) this.owners.clear();
    this.owners.set(cacheKey, id);
    return id;
  }

  /**
   * Drops what is older than the retention, then the oldest ended spans while the file is over
   * its cap (and the folds older than what is left), and gives the freed pages back. What went is
   * counted (meta "dropped_spans", "dropped_folded").
   */
  prune(now: number): void {
    const db = this.store.db;
    const horizon = now - this.limits.retentionMs;
    let dropped = Number(db.prepare('DELETE FROM spans WHERE to_ms IS NOT NULL AND to_ms < ?').run(horizon).changes);
    let droppedFolded = this.dropFolds(horizon);
    const oldest = db.prepare(
      `DELETE FROM spans WHERE id IN (SELECT id FROM spans WHERE to_ms IS NOT NULL ORDER BY to_ms LIMIT ${PRUNE_BATCH})`,
    );
    const firstKept = db.prepare('SELECT min(to_ms) AS at FROM spans WHERE to_ms IS NOT NULL');
    const used = () => this.store.sizeBytes() - pragmaNumber(db, 'freelist_count') * pragmaNumber(db, 'page_size');
    while (used() > this.limits.maxBytes) {
      const n = Number(oldest.run().changes);
      if (n === 0) break;
      dropped += n;
      droppedFolded += this.dropFolds((firstKept.get() as { at: number | null }).at ?? now);
    }
    const owners = db
      .prepare(
        `DELETE FROM owners WHERE id NOT IN (SELECT owner_id FROM spans WHERE owner_id IS NOT NULL)
           AND id NOT IN (SELECT owner_id FROM folds WHERE owner_id IS NOT NULL)`,
      )
      .run().changes;
    // The cache may name an owner just deleted (a process whose spans all aged out).
    if (Number(owners) > 0) this.owners.clear();
    db.pragma('incremental_vacuum');
    const add = (key: string, n: number) => this.store.setMeta(key, String(Number(this.store.meta(key) ?? 0) + n));
    if (dropped > 0) {
      this.dropped += dropped;
      add('dropped_spans', dropped);
    }
    if (droppedFolded > 0) add('dropped_folded', droppedFolded);
  }

  /** Deletes the folds of minutes before `before` (and emptied ones); the connections they counted. */
  private dropFolds(before: number): number {
    const db = this.store.db;
    const gone = db.prepare('SELECT sum(count) AS n FROM folds WHERE minute_ms < ?').get(before) as {
      n: number | null;
    };
    db.prepare('DELETE FROM folds WHERE minute_ms < ? OR count <= 0').run(before);
    return Number(gone.n ?? 0);
  }
}
