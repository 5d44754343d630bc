// Turns successive scans into the seq-numbered delta stream and keeps the current table.

import {
  emptyStats,
  type Delta,
  type ProcessInfo,
  type Resync,
  type Scan,
  type Socket,
  type SocketChange,
  type SocketKey,
  type TcpTraffic,
  type TrafficUpdate,
} from '../shared/contract';
import { changedFields } from './diff';
import { socketKey } from './identity';
import { isConnectionRow } from './views';

function processSignature(info: ProcessInfo): string {
  const c = info.container;
  return `${info.startedAt}|${info.command}|${info.cwd}|${c ? `${c.id}|${c.name}|${c.image}|${c.pod}` : ''}`;
}

const hasRate = (t: TcpTraffic | undefined): boolean => !!t && (!!t.sendRate || !!t.receiveRate);

/**
 * A connection's figures with their rates since the previous scan: `before` itself when nothing
 * moved and its rates are already zero, so an idle connection costs no new object.
 */
export function withRates(before: TcpTraffic | undefined, now: TcpTraffic, elapsedMs: number): TcpTraffic {
  if (!before || elapsedMs <= 0) return now;
  const sent = now.bytesAcked - before.bytesAcked;
  const received = now.bytesReceived - before.bytesReceived;
  if (sent === 0 && received === 0 && before.sendRate === 0 && before.receiveRate === 0 && sameCounters(before, now))
    return before;
  // A counter that went back is another connection on the same 4-tuple: no rate from that.
  if (sent < 0 || received < 0) return now;
  return {
    ...now,
    sendRate: Math.round((sent * 1000) / elapsedMs),
    receiveRate: Math.round((received * 1000) / elapsedMs),
  };
}

function sameCounters(a: TcpTraffic, b: TcpTraffic): boolean {
  return a.segmentsOut === b.segmentsOut && a.segmentsIn === b.segmentsIn && a.retransmits === b.retransmits;
}

/** A row of the tracker's table, and what the tracker knows of it. */
interface Entry {
  readonly key: SocketKey;
  /** The row as the table has it (and as it was sent): the collector's, or a copy with rates or a remembered owner. */
  socket: Socket;
  /** The collector's object last folded into `socket`: handed back again, nothing about the socket changed. */
  row: Socket;
  /** The scan it was last seen in (Tracker.scans): every entry of the table was seen in the last one. */
  seen: number;
}

export class Tracker {
  private readonly table = new Map<SocketKey, Entry>();
  private readonly byInode = new Map<number, Entry>();
  /**
   * The entries of rows without an inode (TIME_WAIT), by the collector's row object: it hands an
   * unchanged one back as the same object (entries go with the rows).
   */
  private readonly byRow = new WeakMap<Socket, Entry>();
  /** Connection rows (views.ts isConnectionRow) removed since the tracker began: what the exporter counts as closed. */
  connectionsGone = 0;
  /** Scans folded in: `seen` marks (seq also counts the deltas sent between scans). */
  private scans = 0;
  private processes = new Map<number, ProcessInfo>();
  private seq = 0;
  private lastScan: Scan | null = null;
  private lastAt = new Date(0).toISOString();
  /** When the last scan read its traffic figures (ms; else when it was taken): rates are per second between two. */
  private lastScanMs: number | null = null;
  /** The namespaces and published ports as last sent, and their text, to send them only when they change. */
  private namespaces: Pick<Scan, 'namespaces' | 'publishedPorts'> = {};
  private namespacesText = '';

  get currentSeq(): number {
    return this.seq;
  }

  /**
   * Folds a scan in and returns what changed, as the next delta (possibly empty: a heartbeat).
   * The table is updated in place, and a row the collector hands back as the very object it
   * handed last time (nothing about the socket changed, not even its counters) costs one look-up
   * by inode and no new object: in a steady state that is nearly every row.
   */
  update(scan: Scan, at: Date): Delta {
    const scanned = ++this.scans;
    const added: Socket[] = [];
    const changed: SocketChange[] = [];
    const removed: SocketKey[] = [];
    const traffic: TrafficUpdate[] = [];
    const readAt = scan.trafficAt ?? at.getTime();
    const elapsedMs = this.lastScanMs === null ? 0 : readAt - this.lastScanMs;
    let seen = 0;
    const fold = (socket: Socket, key: SocketKey): void => {
      let entry = this.table.get(key);
      // Seen already this scan: the TIME_WAIT ghost of a live 4-tuple (live ones go first).
      if (entry !== undefined && entry.seen === scanned) return;
      seen++;
      const before = entry?.socket;
      let next = socket;
      // Unchanged, and not a connection whose rates must now fall to zero.
      if (before !== socket || hasRate(socket.traffic)) {
        const lastPid = socket.pid === null && before ? this.rememberedOwner(before, socket) : socket.lastPid;
        const figures = socket.traffic && withRates(before?.traffic, socket.traffic, elapsedMs);
        const from = before ? changedFields(before, socket, lastPid) : null;
        // Nothing moved: the table keeps its row (the collector's copy of it differs in rates, or
        // in the owner it remembers, only).
        if (before && !from && figures === before.traffic) next = before;
        else {
          if (lastPid !== socket.lastPid) next = { ...next, lastPid };
          if (figures !== next.traffic) next = { ...next, traffic: figures };
          if (!before) added.push(next);
          else if (from) changed.push({ key, from, to: next });
          else if (figures) traffic.push({ key, traffic: figures });
        }
      }
      if (entry === undefined) this.table.set(key, (entry = { key, socket: next, row: socket, seen: scanned }));
      else {
        entry.socket = next;
        entry.row = socket;
        entry.seen = scanned;
      }
      if (before && before.inode !== 0 && before.inode !== socket.inode && this.byInode.get(before.inode) === entry)
        this.byInode.delete(before.inode);
      if (socket.inode !== 0) this.byInode.set(socket.inode, entry);
      else this.byRow.set(socket, entry);
    };
    // Indexed loops: a for-of makes an iterator result a row until the function is optimised,
    // and this runs once a poll. Rows with an inode (live sockets) first, then the rest.
    const sockets = scan.sockets;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < sockets.length; i++) {
        const socket = sockets[i];
        if ((socket.inode === 0) !== (pass === 1)) continue;
        const known = pass === 0 ? this.byInode.get(socket.inode) : this.byRow.get(socket);
        // In the table (seen last scan) and not yet this one, as the same object, with no rate to bring to zero.
        if (
          known !== undefined &&
          known.row === socket &&
          known.seen === scanned - 1 &&
          !hasRate(known.socket.traffic)
        ) {
          known.seen = scanned;
          seen++;
          continue;
        }
        // A socket that connects after binding keeps its inode but changes its endpoints, and so its key.
        const key =
          known !== undefined && (pass === 1 || sameEndpoints(known.socket, socket)) ? known.key : socketKey(socket);
        fold(socket, key);
      }
    }
    if (seen !== this.table.size) {
      // forEach, not for-of: no [key, value] pair made per entry of a table of 100,000.
      this.table.forEach((entry, key) => {
        if (entry.seen === scanned) return;
        removed.push(key);
        if (isConnectionRow(entry.socket)) this.connectionsGone++;
        this.table.delete(key);
        const inode = entry.socket.inode;
        if (inode !== 0 && this.byInode.get(inode) === entry) this.byInode.delete(inode);
      });
    }

    const currentProcesses = new Map(scan.processes.map((p) => [p.pid, p]));
    const processes = scan.processes.filter((p) => {
      const known = this.processes.get(p.pid);
      return !known || processSignature(known) !== processSignature(p);
    });
    const processesGone: number[] = [];
    this.processes.forEach((_, pid) => {
      if (!currentProcesses.has(pid)) processesGone.push(pid);
    });
    this.processes = currentProcesses;
    this.lastScan = scan;
    this.lastAt = at.toISOString();
    this.lastScanMs = readAt;
    this.seq += 1;
    const delta: Delta = {
      seq: this.seq,
      since: this.seq - 1,
      at: at.toISOString(),
      added,
      removed,
      changed,
      processes,
      stats: scan.stats,
    };
    if (traffic.length > 0) delta.traffic = traffic;
    if (processesGone.length > 0) delta.processesGone = processesGone;
    // A handful of entries, sent whole when any changed: simpler than diffing them, and as small.
    const namespacesText =
      scan.namespaces || scan.publishedPorts ? JSON.stringify([scan.namespaces, scan.publishedPorts]) : '';
    if (namespacesText !== this.namespacesText) {
      this.namespacesText = namespacesText;
      this.namespaces = { namespaces: scan.namespaces ?? [], publishedPorts: scan.publishedPorts ?? [] };
      delta.namespaces = this.namespaces.namespaces;
      delta.publishedPorts = this.namespaces.publishedPorts;
    }
    return delta;
  }

  /** Whether a scan has been applied: before it, the table is not the machine's, only empty. */
  get scanned(): boolean {
    return this.lastScan !== null;
  }

  /**
   * A delta with no table change, for news between polls (event mode's finished connections):
   * the table is the poll's to change, events only tell what happened in between.
   */
  between(at: Date): Delta {
    this.seq += 1;
    const stats = this.lastScan?.stats ?? emptyStats();
    return {
      seq: this.seq,
      since: this.seq - 1,
      at: at.toISOString(),
      added: [],
      removed: [],
      changed: [],
      processes: [],
      stats,
    };
  }

  /** The whole current state, for a subscriber that starts or resyncs at `seq` (sockets carry their traffic). */
  current(): Resync {
    const sockets: Socket[] = [];
    this.table.forEach((entry) => sockets.push(entry.socket));
    return {
      seq: this.seq,
      at: this.lastAt,
      sockets,
      processes: [...this.processes.values()],
      stats: this.lastScan?.stats ?? null,
      ...(this.namespaces.namespaces ? this.namespaces : {}),
    };
  }

  /**
   * A connection whose owner closed it (TIME_WAIT: inode 0, no fd) keeps the last owner seen, so a
   * developer can still tell who made it: the `lastPid` its row is to have. That is memory, not a
   * guess: `pid` stays null.
   */
  private rememberedOwner(before: Socket, socket: Socket): number | null {
    return before.pid ?? before.lastPid ?? socket.lastPid;
  }
}

/** Whether two rows of one inode have the same endpoints (and so the same key). */
function sameEndpoints(before: Socket, socket: Socket): boolean {
  return (
    before.protocol === socket.protocol &&
    before.localPort === socket.localPort &&
    before.remotePort === socket.remotePort &&
    before.localAddress === socket.localAddress &&
    before.remoteAddress === socket.remoteAddress
  );
}
