// Turns successive scans into the seq-numbered delta stream and keeps the current table.

import type { Delta, ProcessInfo, Resync, Scan, Socket, SocketKey } from '../shared/contract';
import { diffTables, indexSockets, type SocketTable } from './diff';
import { socketKey } from './identity';

function processSignature(info: ProcessInfo): string {
  return `${info.startedAt}|${info.command}|${info.cwd}`;
}

export class Tracker {
  private table: SocketTable = new Map();
  private keyByInode = new Map<number, SocketKey>();
  private processes = new Map<number, ProcessInfo>();
  private seq = 0;
  private lastScan: Scan | null = null;
  private lastAt = new Date(0).toISOString();

  get currentSeq(): number {
    return this.seq;
  }

  /** Folds a scan in and returns what changed, as the next delta (possibly empty: a heartbeat). */
  update(scan: Scan, at: Date): Delta {
    const keyByInode = new Map<number, SocketKey>();
    const next = indexSockets(scan.sockets, (socket) => {
      if (socket.inode === 0) return socketKey(socket);
      const key = this.memoisedKey(socket) ?? socketKey(socket);
      keyByInode.set(socket.inode, key);
      return key;
    });
    for (const [key, socket] of next) if (socket.pid === null) next.set(key, this.rememberOwner(key, socket));
    const { added, removed, changed } = diffTables(this.table, next);
    this.keyByInode = keyByInode;

    const currentProcesses = new Map(scan.processes.map((p) => [p.pid, p]));
    const processes = scan.processes.filter((p) => {
      const known = this.processes.get(p.pid);
      return !known || processSignature(known) !== processSignature(p);
    });
    this.table = next;
    this.processes = currentProcesses;
    this.lastScan = scan;
    this.lastAt = at.toISOString();
    this.seq += 1;
    return {
      seq: this.seq,
      since: this.seq - 1,
      at: at.toISOString(),
      added,
      removed,
      changed,
      processes,
      stats: scan.stats,
    };
  }

  /** The whole current state, for a subscriber that starts or resyncs at `seq`. */
  current(): Resync {
    return {
      seq: this.seq,
      at: this.lastAt,
      sockets: [...this.table.values()],
      processes: [...this.processes.values()],
      stats: this.lastScan?.stats ?? null,
    };
  }

  /**
   * A connection whose owner closed it (TIME_WAIT: inode 0, no fd) keeps the last owner seen, so a
   * developer can still tell who made it. That is memory, not a guess: `pid` stays null.
   */
  private rememberOwner(key: SocketKey, socket: Socket): Socket {
    const before = this.table.get(key);
    const lastPid = before ? (before.pid ?? before.lastPid) : null;
    return lastPid === null ? socket : { ...socket, lastPid };
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
