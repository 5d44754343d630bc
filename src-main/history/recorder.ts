// Records the stream into the history: each TCP or UDP socket as spans, one per state it was in
// (from when to when, its owner), chained by `conn` (the first span's id) into the socket's life;
// each owner once. Fed the same messages as any
// other consumer of the stream, applied to the one table kept from it (track/stream-table.ts);
// one transaction per message, so a crash loses at most the last poll.

import type { ProcessInfo, Socket, SocketKey, StreamMessage } from '../shared/contract';
import { socketKey } from '../track/identity';
import { StreamTable } from '../track/stream-table';
import { isListening } from '../track/views';
import { inTransaction, pragmaNumber, type HistoryStore } from './store';

/** Defaults of what is kept: a week, and at most 256 MB of file. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 3600_000;
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** Owners' ids kept in memory (by pid and start time); past it the cache starts over. */
const OWNER_CACHE_MAX = 10_000;
/** How often (ms of the stream's clock) old spans are pruned and the size checked. */
const PRUNE_EVERY_MS = 60_000;
/** Spans deleted per statement when over the size cap, oldest first. */
const PRUNE_BATCH = 5_000;

export interface RecorderLimits {
  retentionMs: number;
  maxBytes: number;
}

interface OpenSpan {
  id: number;
  /** The first span of the socket's life (its own id for the first). */
  conn: number;
  state: string;
  owner: number | null;
  pid: number | null;
  name: string | null;
}

const recorded = (s: Socket) => s.protocol === 'tcp' || s.protocol === 'udp';

export class HistoryRecorder {
  private readonly table = new StreamTable();
  /** The open span of each live socket recorded. */
  private readonly spans = new Map<SocketKey, OpenSpan>();
  private readonly owners = new Map<string, number>();
  private lastPrune = 0;
  /** Spans dropped by retention or the size cap since this recorder started. */
  dropped = 0;

  private readonly insertSpan;
  private readonly closeSpan;
  private readonly setOwner;
  private readonly findOwner;
  private readonly insertOwner;

  constructor(
    private readonly store: HistoryStore,
    private readonly limits: RecorderLimits = { retentionMs: DEFAULT_RETENTION_MS, maxBytes: DEFAULT_MAX_BYTES },
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
    // Spans a previous recorder left open (it stopped, or was killed) end where it last recorded.
    const last = store.meta('last_at');
    if (last !== null) db.prepare('UPDATE spans SET to_ms = ? WHERE to_ms IS NULL').run(Number(last));
  }

  /** Applies one message of the stream and records what it changed; 'gap' asks for a resync. */
  receive(message: StreamMessage): 'gap' | void {
    const received = this.table.applyMessage(message);
    if (received === 'gap') return 'gap';
    const at = Date.parse(received.type === 'resync' ? received.resync.at : received.delta.at);
    if (!Number.isFinite(at)) return;
    inTransaction(this.store.db, () => {
      if (received.type === 'resync') this.reconcile(at);
      else {
        const { delta, applied } = received;
        for (const key of applied.removed) this.end(key, at);
        for (const socket of applied.added) this.begin(socketKey(socket), socket, at);
        for (const change of delta.changed) {
          const span = this.spans.get(change.key);
          if (span === undefined) continue;
          if (change.from.pid !== undefined && change.to.pid !== null) this.own(span, change.to);
          if (change.to.state !== span.state) this.next(change.key, change.to, at);
        }
      }
      this.store.setMeta('last_at', String(at));
    });
    if (at - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = at;
      this.prune(at);
    }
  }

  /** After a resync: spans of sockets no longer there end, new ones begin. */
  private reconcile(at: number): void {
    for (const key of [...this.spans.keys()]) if (!this.table.sockets.has(key)) this.end(key, at);
    for (const [key, socket] of this.table.sockets) {
      const span = this.spans.get(key);
      if (span === undefined) this.begin(key, socket, at);
      else if (span.state !== socket.state) this.next(key, socket, at);
    }
  }

  private begin(key: SocketKey, socket: Socket, at: number): void {
    if (!recorded(socket) || this.spans.has(key)) return;
    const owner = socket.pid === null ? null : this.ownerId(this.table.processes.get(socket.pid));
    this.insert(key, socket, at, { conn: null, owner, pid: socket.pid, name: socket.processName });
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
    this.spans.set(key, {
      id,
      conn: life.conn ?? id,
      state: socket.state,
      owner: life.owner,
      pid: life.pid,
      name: life.name,
    });
  }

  private end(key: SocketKey, at: number): void {
    const span = this.spans.get(key);
    if (span === undefined) return;
    this.closeSpan.run(at, span.id);
    this.spans.delete(key);
  }

  /** A socket whose owner became known: its spans keep the first owner they had. */
  private own(span: OpenSpan, socket: Socket): void {
    if (span.owner !== null || span.pid !== null) return;
    const owner = socket.pid === null ? null : this.ownerId(this.table.processes.get(socket.pid));
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
   * its cap, and gives the freed pages back. What went is counted (meta "dropped_spans").
   */
  prune(now: number): void {
    const db = this.store.db;
    let dropped = Number(
      db.prepare('DELETE FROM spans WHERE to_ms IS NOT NULL AND to_ms < ?').run(now - this.limits.retentionMs).changes,
    );
    const oldest = db.prepare(
      `DELETE FROM spans WHERE id IN (SELECT id FROM spans WHERE to_ms IS NOT NULL ORDER BY to_ms LIMIT ${PRUNE_BATCH})`,
    );
    const used = () => this.store.sizeBytes() - pragmaNumber(db, 'freelist_count') * pragmaNumber(db, 'page_size');
    while (used() > this.limits.maxBytes) {
      const n = Number(oldest.run().changes);
      if (n === 0) break;
      dropped += n;
    }
    db.prepare('DELETE FROM owners WHERE id NOT IN (SELECT owner_id FROM spans WHERE owner_id IS NOT NULL)').run();
    db.pragma('incremental_vacuum');
    if (dropped > 0) {
      this.dropped += dropped;
      this.store.setMeta('dropped_spans', String(Number(this.store.meta('dropped_spans') ?? 0) + dropped));
    }
  }
}
