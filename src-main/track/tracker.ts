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
import { changedFields, type SocketTable } from './diff';
import { socketKey } from './identity';

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

export class Tracker {
  private readonly table: SocketTable = new Map();
  /** The scan (seq) each key was last seen in. */
  private readonly seenAt = new Map<SocketKey, number>();
  private readonly keyByInode = new Map<number, SocketKey>();
  /**
   * The keys of rows without an inode (TIME_WAIT), by row object: the collector hands an unchanged
   * one back as the same object, so its key is not made again every poll (entries go with the rows).
   */
  private readonly keyByRow = new WeakMap<Socket, SocketKey>();
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
   * The table is updated in place and a socket object unchanged since the last scan is skipped at
   * once: in a steady state this is three map lookups per socket and no new map.
   */
  update(scan: Scan, at: Date): Delta {
    const poll = this.seq + 1;
    const added: Socket[] = [];
    const changed: SocketChange[] = [];
    const removed: SocketKey[] = [];
    const traffic: TrafficUpdate[] = [];
    const readAt = scan.trafficAt ?? at.getTime();
    const elapsedMs = this.lastScanMs === null ? 0 : readAt - this.lastScanMs;
    let seen = 0;
    const visit = (socket: Socket, key: SocketKey): void => {
      // Seen already this scan: the TIME_WAIT ghost of a live 4-tuple (live ones go first).
      if (this.seenAt.get(key) === poll) return;
      this.seenAt.set(key, poll);
      seen++;
      const before = this.table.get(key);
      // Unchanged, and not a connection whose rates must now fall to zero.
      if (before === socket && !hasRate(socket.traffic)) return;
      const lastPid = socket.pid === null && before ? this.rememberedOwner(before, socket) : socket.lastPid;
      const figures = socket.traffic && withRates(before?.traffic, socket.traffic, elapsedMs);
      const from = before ? changedFields(before, socket, lastPid) : null;
      // Nothing moved: keep the row the table has (the collector's copy of it differs in rates, or
      // in the owner it remembers, only).
      if (before && !from && figures === before.traffic) return;
      let next = lastPid === socket.lastPid ? socket : { ...socket, lastPid };
      if (figures !== next.traffic) next = { ...next, traffic: figures };
      if (!before) {
        added.push(next);
      } else {
        if (from) changed.push({ key, from, to: next });
        else if (figures) traffic.push({ key, traffic: figures });
        if (before.inode !== 0 && before.inode !== next.inode && this.keyByInode.get(before.inode) === key) {
          this.keyByInode.delete(before.inode);
        }
      }
      this.table.set(key, next);
    };
    // Indexed loops: a for-of makes an iterator result a row until the function is optimised,
    // and this runs once a poll.
    const sockets = scan.sockets;
    for (let i = 0; i < sockets.length; i++) {
      const socket = sockets[i];
      if (socket.inode === 0) continue;
      // Most rows: the collector handed back the very object the table holds (nothing about the
      // socket changed, not even its counters); only noted as seen.
      const known = this.keyByInode.get(socket.inode);
      if (
        known !== undefined &&
        this.table.get(known) === socket &&
        !hasRate(socket.traffic) &&
        this.seenAt.get(known) !== poll
      ) {
        this.seenAt.set(known, poll);
        seen++;
        continue;
      }
      let key = this.memoisedKey(socket);
      if (key === undefined) {
        key = socketKey(socket);
        this.keyByInode.set(socket.inode, key);
      }
      visit(socket, key);
    }
    for (let i = 0; i < sockets.length; i++) {
      const socket = sockets[i];
      if (socket.inode !== 0) continue;
      let key = this.keyByRow.get(socket);
      if (key === undefined) this.keyByRow.set(socket, (key = socketKey(socket)));
      visit(socket, key);
    }
    if (seen !== this.table.size) {
      // forEach, not for-of: no [key, value] pair made per entry of a table of 100,000.
      this.table.forEach((socket, key) => {
        if (this.seenAt.get(key) === poll) return;
        removed.push(key);
        this.table.delete(key);
        this.seenAt.delete(key);
        if (socket.inode !== 0 && this.keyByInode.get(socket.inode) === key) this.keyByInode.delete(socket.inode);
      });
    }

    const currentProcesses = new Map(scan.processes.map((p) => [p.pid, p]));
    const processes = scan.processes.filter((p) => {
      const known = this.processes.get(p.pid);
      return !known || processSignature(known) !== processSignature(p);
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
    return {
      seq: this.seq,
      at: this.lastAt,
      sockets: [...this.table.values()],
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

  /**
   * Last poll's key for the same inode, when the socket's endpoints are unchanged: building every
   * key afresh was most of a steady-state poll's cost. (A socket that connects after binding keeps
   * its inode but changes its endpoints, and so its identity.)
   */
  private memoisedKey(socket: Socket): SocketKey | undefined {
    const key = this.keyByInode.get(socket.inode);
    const before = key === undefined ? undefined : this.table.get(key);
    if (
      !before ||
      before.protocol !== socket.protocol ||
      before.localPort !== socket.localPort ||
      before.remotePort !== socket.remotePort ||
      before.localAddress !== socket.localAddress ||
      before.remoteAddress !== socket.remoteAddress
    ) {
      return undefined;
    }
    return key;
  }
}
