// The Windows collector: the four owner-pid tables of iphlpapi (TCP and UDP, IPv4 and IPv6) and
// each owner's image and start from kernel32, as TCPView shows them. No inodes, no namespaces:
// a socket is its protocol and endpoints, its owner the pid the table names.

import type { ProcessInfo, Scan, Socket } from '../../shared/contract';
import type { CloseOutcome, Collector, TcpConnectionEnds } from '../collector';
import { closeWindowsConnection } from './close-connection';
import { loadWindowsApi, type WindowsApi } from './iphlpapi';
import { parseTable, TABLES, type TableName } from './tables';

/** The name of a process as Windows tools show it: its image's file name (node.exe). */
export function imageBaseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/')) + 1);
}

/** A process as the table names it, from what kernel32 says of its pid (null: it may not be opened). */
export function processFromImage(
  pid: number,
  image: { path: string | null; startedMs: number | null } | null,
): ProcessInfo | null {
  if (image === null || image.path === null) return null;
  return {
    pid,
    ppid: null,
    name: imageBaseName(image.path),
    // The command line lives in the process's own memory (its PEB); the image is what is read.
    command: image.path,
    user: null,
    uid: null,
    startedAt: image.startedMs === null ? null : new Date(image.startedMs).toISOString(),
    cwd: null,
  };
}

/** Builds a scan from the four tables' bytes and a look-up of processes (the pure half of collect()). */
export function scanFromTables(
  tables: Record<TableName, Buffer>,
  lookUp: (pid: number) => ProcessInfo | null,
  scanMs: number,
): Scan {
  const sockets: Socket[] = [];
  let malformed = 0;
  const cache = new Map<number, string>();
  for (const name of Object.keys(TABLES) as TableName[]) {
    const parsed = parseTable(name, tables[name], cache);
    malformed += parsed.malformed;
    for (const socket of parsed.sockets) sockets.push(socket);
  }
  const processes = new Map<number, ProcessInfo | null>();
  for (const socket of sockets) {
    if (socket.pid === null) continue;
    if (!processes.has(socket.pid)) processes.set(socket.pid, lookUp(socket.pid));
    socket.processName = processes.get(socket.pid)?.name ?? null;
  }
  const hidden = [...processes.values()].filter((p) => p === null).length;
  return {
    sockets,
    processes: [...processes.values()].filter((p): p is ProcessInfo => p !== null).sort((a, b) => a.pid - b.pid),
    stats: {
      // A row's pid is its owner even where the process may not be opened; 0 (TIME_WAIT, and
      // every row under Wine) is none.
      unattributed: sockets.filter((s) => s.pid === null && s.state !== 'TIME_WAIT').length,
      malformedRows: malformed,
      repairedRows: 0,
      hiddenProcesses: hidden,
      scanMs,
      engine: 'iphlpapi',
    },
  };
}

export class WindowsCollector implements Collector {
  private constructor(private readonly api: WindowsApi) {}

  /** The collector, or why it cannot run here (koffi or iphlpapi not loadable). */
  static open(): WindowsCollector | { reason: string } {
    try {
      return new WindowsCollector(loadWindowsApi());
    } catch (error) {
      return { reason: (error as Error).message };
    }
  }

  async collect(): Promise<Scan> {
    const started = performance.now();
    const tables = {} as Record<TableName, Buffer>;
    for (const name of Object.keys(TABLES) as TableName[]) tables[name] = this.api.table(name);
    return scanFromTables(
      tables,
      (pid) => processFromImage(pid, this.api.process(pid)),
      Math.round(performance.now() - started),
    );
  }

  /** Resets one IPv4 TCP connection (SetTcpEntry), or says why not. */
  close(ends: TcpConnectionEnds, name: string): CloseOutcome {
    return closeWindowsConnection(ends, name, (row) => this.api.setTcpEntry(row));
  }

  /** Who a pid is now (for stopping a process safely: its start tells a reused pid). */
  current(pid: number): ProcessInfo | null {
    return processFromImage(pid, this.api.process(pid));
  }
}
