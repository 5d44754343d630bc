// The Linux collector: /proc/net tables + incremental owner resolution + process details.

import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import type { ProcessInfo, Socket } from '../../shared/contract';
import type { Collector, Scan } from '../collector';
import type { ByteOrder } from './addresses';
import { OwnerResolver } from './owners';
import { InetTableParser, type InetRow } from './proc-net';
import { parseUnixCandidates, resolveUnixCandidates, type UnixRow } from './proc-net-unix';
import { ProcessReader } from './processes';
import { RowReconciler } from './row-reconciler';

const INET_TABLES = [
  { file: 'tcp', protocol: 'tcp', family: 4 },
  { file: 'tcp6', protocol: 'tcp', family: 6 },
  { file: 'udp', protocol: 'udp', family: 4 },
  { file: 'udp6', protocol: 'udp', family: 6 },
] as const;

/**
 * Reads a /proc table into one buffer kept across polls (grown when a table outgrows it): faster
 * than readFileSync, which allocates and copies every poll. The view is valid until the next read.
 */
class TableReader {
  private buffer = Buffer.allocUnsafe(1 << 20);

  read(path: string): Buffer {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return Buffer.alloc(0); // e.g. no IPv6 in this kernel: an absent table is an empty one
    }
    try {
      let length = 0;
      for (;;) {
        if (length === this.buffer.length) {
          const bigger = Buffer.allocUnsafe(this.buffer.length * 2);
          this.buffer.copy(bigger, 0, 0, length);
          this.buffer = bigger;
        }
        const n = readSync(fd, this.buffer, length, this.buffer.length - length, null);
        if (n === 0) return this.buffer.subarray(0, length);
        length += n;
      }
    } finally {
      closeSync(fd);
    }
  }
}

function isSocketFile(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

export interface LinuxCollectorOptions {
  procRoot?: string;
  byteOrder?: ByteOrder;
}

export class LinuxCollector implements Collector {
  readonly owners: OwnerResolver;
  private readonly processes: ProcessReader;
  private readonly procRoot: string;
  private readonly byteOrder: ByteOrder;
  private readonly reader = new TableReader();
  private readonly inetParser: InetTableParser;
  // Keyed by inode: socket inodes are unique across every family.
  private readonly inetReconciler = new RowReconciler<InetRow>();
  private readonly unixReconciler = new RowReconciler<UnixRow>();
  /** The owners' version the last attribution was made at. */
  private attributedAtVersion = -1;
  private scanning = false;

  constructor(options: LinuxCollectorOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.byteOrder = options.byteOrder ?? endianness();
    this.inetParser = new InetTableParser(this.byteOrder);
    this.owners = new OwnerResolver(this.procRoot);
    this.processes = new ProcessReader(this.procRoot);
  }

  /**
   * One scan, giving the event loop a turn between its phases (each table, the owner lookup): at
   * 100,000 sockets a table read alone takes hundreds of ms, and the poll worker's event drains
   * must keep publishing meanwhile. Each phase is still synchronous: in a worker thread, sync fs
   * calls are the fast path.
   */
  async collect(): Promise<Scan> {
    const scan = this.scan();
    for (;;) {
      const step = scan.next();
      if (step.done) return step.value;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The same scan in one go (tests, the CLI's one-shot commands). */
  collectSync(): Scan {
    const scan = this.scan();
    for (;;) {
      const step = scan.next();
      if (step.done) return step.value;
    }
  }

  /** The scan's phases; it yields where a caller may let other work run. One scan at a time. */
  private *scan(): Generator<void, Scan> {
    if (this.scanning) throw new Error('LinuxCollector: a scan is already under way');
    this.scanning = true;
    try {
      return yield* this.scanPhases();
    } finally {
      this.scanning = false;
    }
  }

  private *scanPhases(): Generator<void, Scan> {
    // scanMs counts the scan's own time, not the turns it gave to others.
    let busyMs = 0;
    let since = performance.now();
    const pause = function* (): Generator<void, void> {
      busyMs += performance.now() - since;
      yield;
      since = performance.now();
    };
    this.owners.refresh();
    let malformed = 0;
    const rawInetRows: InetRow[] = [];
    for (const table of INET_TABLES) {
      const parsed = this.inetParser.parse(
        this.reader.read(`${this.procRoot}/net/${table.file}`),
        table.protocol,
        table.family,
        this.inetReconciler.previousRows(),
      );
      for (const row of parsed.rows) rawInetRows.push(row);
      malformed += parsed.malformed;
      yield* pause();
    }
    const unix = parseUnixCandidates(this.reader.read(`${this.procRoot}/net/unix`).toString('latin1'));
    malformed += unix.malformed;
    yield* pause();

    // Inet rows are reconciled before owners are refreshed: proving a skipped row still exists
    // needs last poll's owners. Unix rows are reconciled once their ambiguities are settled.
    const stillHeld = (inode: number) => this.owners.stillHeld(inode);
    const inet = this.inetReconciler.reconcile(rawInetRows, stillHeld);
    const inetRows = inet.rows;
    const previousUnix = this.unixReconciler.previousRows();
    const unixInodes = new Set<number>();
    const fresh = [...inet.fresh];
    const inetByInode = this.inetReconciler.previousRows(); // this poll's, once reconciled
    for (const c of unix.candidates) {
      unixInodes.add(c.row.inode);
      if (!previousUnix.has(c.row.inode)) fresh.push(c.row.inode);
    }
    this.owners.resolve(
      { fresh, gone: inet.gone, has: (inode) => inetByInode.has(inode) || unixInodes.has(inode) },
      this.listenerOwnersLookup(inetRows),
    );
    yield* pause();

    const seesAllProcesses = this.owners.hiddenProcessCount === 0 && process.getuid?.() === 0;
    const { rows: resolvedUnixRows } = resolveUnixCandidates(unix.candidates, {
      isOwned: (inode) => this.owners.ownersOf(inode).length > 0,
      isSocketFile,
      seesAllProcesses,
    });
    const unixReconciled = this.unixReconciler.reconcile(resolvedUnixRows, stillHeld);
    this.owners.forget(unixReconciled.gone);
    const ownersUnchanged = this.owners.version === this.attributedAtVersion;

    const processes = new Map<number, ProcessInfo | null>();
    const infoOf = (pid: number): ProcessInfo | null => {
      let info = processes.get(pid);
      if (info === undefined) {
        info = this.processes.read(pid);
        processes.set(pid, info);
      }
      return info;
    };
    let unattributed = 0;
    const sockets: Socket[] = [...inetRows, ...unixReconciled.rows.map(unixSocket)];
    for (let i = 0; i < sockets.length; i++) {
      const socket = sockets[i];
      if (socket.inode === 0) continue; // no fd behind it: TIME_WAIT, or closed by its owner
      const reused = socket.protocol !== 'unix' && !inet.fresh.has(socket.inode);
      if (reused && ownersUnchanged) {
        // Last poll's row, attributed then, and no owner changed since: only note its process.
        if (socket.pid === null) unattributed++;
        else if (!processes.has(socket.pid)) infoOf(socket.pid);
        continue;
      }
      let pids = this.owners.ownersOf(socket.inode);
      // A pid that exited since its fds were read is dropped: the owner is unknown, not guessed.
      if (pids.length > 0 && pids.some((pid) => infoOf(pid) === null))
        pids = pids.filter((pid) => infoOf(pid) !== null);
      const owner = pids.length > 0 ? infoOf(pids[0]) : null;
      if (!owner) unattributed++;
      const pid = owner?.pid ?? null;
      const processName = owner?.name ?? null;
      if (socket.pid === pid && socket.processName === processName && socket.pids === pids) continue;
      // Last poll's row object may be held by the tracker: change a copy, never the original.
      const target = reused ? (sockets[i] = { ...socket }) : socket;
      target.pid = pid;
      target.processName = processName;
      target.pids = pids as number[];
      if (target.protocol === 'unix') target.uid = owner?.uid ?? null;
    }
    this.attributedAtVersion = this.owners.version;

    const owners: ProcessInfo[] = [];
    for (const info of processes.values()) if (info) owners.push(info);
    this.processes.retain(new Set(processes.keys()));
    return {
      sockets,
      processes: owners.sort((a, b) => a.pid - b.pid),
      stats: {
        unattributed,
        malformedRows: malformed,
        repairedRows: inet.duplicates + inet.restored + unixReconciled.duplicates + unixReconciled.restored,
        hiddenProcesses: this.owners.hiddenProcessCount,
        scanMs: Math.round((busyMs + performance.now() - since) * 10) / 10,
      },
    };
  }

  /**
   * New connections on a listening port are most likely held by the listener's owner. Built on
   * first use: in a steady state no inode is unknown and this costs nothing.
   */
  private listenerOwnersLookup(rows: InetRow[]): (inode: number) => readonly number[] {
    let lookup: ((inode: number) => readonly number[]) | null = null;
    return (inode) => {
      if (!lookup) {
        const byPort = new Map<string, readonly number[]>();
        const portOf = new Map<number, string>();
        for (const row of rows) {
          const owners = row.state === 'LISTEN' ? this.owners.ownersOf(row.inode) : [];
          if (owners.length) byPort.set(`${row.protocol}:${row.localPort}`, owners);
          else if (row.state !== 'LISTEN') portOf.set(row.inode, `${row.protocol}:${row.localPort}`);
        }
        lookup = (i) => byPort.get(portOf.get(i) ?? '') ?? [];
      }
      return lookup(inode);
    };
  }
}

function unixSocket(row: UnixRow): Socket {
  return {
    protocol: 'unix',
    family: null,
    localAddress: row.path ?? '',
    localPort: null,
    remoteAddress: null,
    remotePort: null,
    state: row.state,
    pid: null,
    processName: null,
    uid: null,
    inode: row.inode,
    pids: [],
    lastPid: null,
  };
}
