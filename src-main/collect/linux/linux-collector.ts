// The Linux collector: /proc/net tables + incremental owner resolution + process details.

import { lstatSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import type { ProcessInfo, Socket } from '../../shared/contract';
import type { Collector, Scan } from '../collector';
import type { ByteOrder } from './addresses';
import { OwnerResolver } from './owners';
import { parseInetTable, type InetRow } from './proc-net';
import { parseUnixCandidates, resolveUnixCandidates, type UnixRow } from './proc-net-unix';
import { ProcessReader } from './processes';
import { RowReconciler } from './row-reconciler';

const INET_TABLES = [
  { file: 'tcp', protocol: 'tcp', family: 4 },
  { file: 'tcp6', protocol: 'tcp', family: 6 },
  { file: 'udp', protocol: 'udp', family: 4 },
  { file: 'udp6', protocol: 'udp', family: 6 },
] as const;

function readTable(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return ''; // e.g. no IPv6 in this kernel: an absent table is an empty one
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
  private readonly inetReconciler = new RowReconciler<InetRow>((row) =>
    row.inode !== 0
      ? `${row.protocol}${row.family}|${row.inode}`
      : `${row.protocol}|${row.localAddress}|${row.localPort}|${row.remoteAddress}|${row.remotePort}|${row.state}`,
  );
  private readonly unixReconciler = new RowReconciler<UnixRow>((row) => `${row.inode}|${row.path}`);

  constructor(options: LinuxCollectorOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.byteOrder = options.byteOrder ?? endianness();
    this.owners = new OwnerResolver(this.procRoot);
    this.processes = new ProcessReader(this.procRoot);
  }

  collect(): Promise<Scan> {
    return Promise.resolve(this.collectSync());
  }

  /** Synchronous on purpose: it runs in a worker thread, where sync fs calls are the fast path. */
  collectSync(): Scan {
    const started = performance.now();
    let malformed = 0;
    const rawInetRows: InetRow[] = [];
    for (const table of INET_TABLES) {
      const parsed = parseInetTable(
        readTable(`${this.procRoot}/net/${table.file}`),
        table.protocol,
        table.family,
        this.byteOrder,
      );
      for (const row of parsed.rows) rawInetRows.push(row);
      malformed += parsed.malformed;
    }
    const unix = parseUnixCandidates(readTable(`${this.procRoot}/net/unix`));
    malformed += unix.malformed;

    const liveInodes = new Set<number>([
      ...this.inetReconciler.previousInodes(),
      ...this.unixReconciler.previousInodes(),
    ]);
    for (const row of rawInetRows) if (row.inode !== 0) liveInodes.add(row.inode);
    for (const c of unix.candidates) if (c.row.inode !== 0) liveInodes.add(c.row.inode);
    this.owners.resolve(liveInodes, this.listenerOwnersLookup(rawInetRows));
    const stillHeld = (inode: number) => this.owners.stillHeld(inode);
    const inet = this.inetReconciler.reconcile(rawInetRows, stillHeld);
    const inetRows = inet.rows;

    const seesAllProcesses = this.owners.hiddenProcessCount === 0 && process.getuid?.() === 0;
    const { rows: resolvedUnixRows } = resolveUnixCandidates(unix.candidates, {
      isOwned: (inode) => this.owners.ownersOf(inode).length > 0,
      isSocketFile,
      seesAllProcesses,
    });
    const unixReconciled = this.unixReconciler.reconcile(resolvedUnixRows, stillHeld);
    const unixRows = unixReconciled.rows;

    const processes = new Map<number, ProcessInfo | null>();
    const infoOf = (pid: number): ProcessInfo | null => {
      if (!processes.has(pid)) processes.set(pid, this.processes.read(pid));
      return processes.get(pid) ?? null;
    };
    const sockets: Socket[] = [];
    let unattributed = 0;
    const addSocket = (base: Omit<Socket, 'pid' | 'processName' | 'pids' | 'lastPid'>): void => {
      // A pid that exited since its fds were read is dropped: the owner is unknown, not guessed.
      const pids = this.owners.ownersOf(base.inode).filter((pid) => infoOf(pid) !== null);
      const owner = pids.length ? infoOf(pids[0]) : null;
      if (base.inode !== 0 && !owner) unattributed++;
      // Field order is the export's column order (DESIGN §4).
      sockets.push({
        protocol: base.protocol,
        family: base.family,
        localAddress: base.localAddress,
        localPort: base.localPort,
        remoteAddress: base.remoteAddress,
        remotePort: base.remotePort,
        state: base.state,
        pid: owner?.pid ?? null,
        processName: owner?.name ?? null,
        uid: base.uid ?? owner?.uid ?? null,
        inode: base.inode,
        pids: [...pids],
        lastPid: null,
      });
    };
    for (const row of inetRows) addSocket(row);
    for (const row of unixRows) addSocket(unixSocket(row));

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
        scanMs: Math.round((performance.now() - started) * 10) / 10,
      },
    };
  }

  /** New connections on a listening port are most likely held by the listener's owner. */
  private listenerOwnersLookup(rows: InetRow[]): (inode: number) => readonly number[] {
    const byPort = new Map<string, number[]>();
    for (const row of rows) {
      if (row.state !== 'LISTEN') continue;
      const owners = this.owners.ownersOf(row.inode);
      if (owners.length) byPort.set(`${row.protocol}:${row.localPort}`, [...owners]);
    }
    const portOf = new Map<number, string>();
    for (const row of rows) if (row.state !== 'LISTEN') portOf.set(row.inode, `${row.protocol}:${row.localPort}`);
    return (inode) => byPort.get(portOf.get(inode) ?? '') ?? [];
  }
}

function unixSocket(row: UnixRow): Omit<Socket, 'pid' | 'processName' | 'pids' | 'lastPid'> {
  return {
    protocol: 'unix',
    family: null,
    localAddress: row.path ?? '',
    localPort: null,
    remoteAddress: null,
    remotePort: null,
    state: row.state,
    uid: null,
    inode: row.inode,
  };
}
