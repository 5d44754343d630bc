// Turns successive scans into the seq-numbered delta stream and keeps the current table.

import type { Delta, ProcessInfo, Scan, Socket } from '../shared/contract';
import { diffTables, indexSockets, type SocketTable } from './diff';
import { socketKey } from './identity';

function processSignature(info: ProcessInfo): string {
  return `${info.startedAt}|${info.command}|${info.cwd}`;
}

export class Tracker {
  private table: SocketTable = new Map();
  private processes = new Map<number, ProcessInfo>();
  private seq = 0;
  private lastScan: Scan | null = null;

  get currentSeq(): number {
    return this.seq;
  }

  /** Folds a scan in and returns what changed, as the next delta (possibly empty: a heartbeat). */
  update(scan: Scan, at: Date): Delta {
    const next = indexSockets(scan.sockets.map((socket) => this.rememberOwner(socket)));
    const { added, removed, changed } = diffTables(this.table, next);

    const currentProcesses = new Map(scan.processes.map((p) => [p.pid, p]));
    const processes = scan.processes.filter((p) => {
      const known = this.processes.get(p.pid);
      return !known || processSignature(known) !== processSignature(p);
    });
    this.table = next;
    this.processes = currentProcesses;
    this.lastScan = scan;
    this.seq += 1;
    return { seq: this.seq, at: at.toISOString(), added, removed, changed, processes, stats: scan.stats };
  }

  /** The whole current state, for a subscriber that starts or resyncs at `seq`. */
  current(): { seq: number; sockets: Socket[]; processes: ProcessInfo[]; scan: Scan | null } {
    return {
      seq: this.seq,
      sockets: [...this.table.values()],
      processes: [...this.processes.values()],
      scan: this.lastScan,
    };
  }

  /**
   * A connection whose owner closed it (TIME_WAIT: inode 0, no fd) keeps the last owner seen, so a
   * developer can still tell who made it. That is memory, not a guess: `pid` stays null.
   */
  private rememberOwner(socket: Socket): Socket {
    if (socket.pid !== null) return socket;
    const before = this.table.get(socketKey(socket));
    const lastPid = before ? (before.pid ?? before.lastPid) : null;
    return lastPid === null ? socket : { ...socket, lastPid };
  }
}
