// Builds Socket values (deltas of them, and their owners) for table-driven tests of the pure domain code and the stores.
import type { Delta, ProcessInfo, ScanStats, Socket } from '../../src-main/shared/contract';

export function tcp(local: string, remote: string | null, over: Partial<Socket> = {}): Socket {
  const split = (endpoint: string): [string, number] => {
    const colon = endpoint.lastIndexOf(':');
    return [endpoint.slice(0, colon).replace(/^\[|\]$/g, ''), Number(endpoint.slice(colon + 1))];
  };
  const [localAddress, localPort] = split(local);
  const [remoteAddress, remotePort] = remote === null ? [null, null] : split(remote);
  return {
    protocol: 'tcp',
    family: localAddress.includes(':') ? 6 : 4,
    localAddress,
    localPort,
    remoteAddress,
    remotePort,
    state: remote === null ? 'LISTEN' : 'ESTABLISHED',
    pid: 100,
    processName: 'node',
    uid: 1000,
    inode: 5000,
    pids: [100],
    lastPid: null,
    ...over,
  };
}

/** A clean scan's stats: nothing hidden, nothing skipped. */
export const cleanStats: ScanStats = {
  unattributed: 0,
  malformedRows: 0,
  repairedRows: 0,
  hiddenProcesses: 0,
  scanMs: 1,
};

/** A delta that follows on from the one before (`since` = seq - 1), timed a second a seq. */
export function delta(seq: number, over: Partial<Delta> = {}): Delta {
  return {
    seq,
    since: seq - 1,
    at: new Date(seq * 1000).toISOString(),
    added: [],
    removed: [],
    changed: [],
    processes: [],
    stats: cleanStats,
    ...over,
  };
}

/** A socket's owner as a collector reports it: `over` for what a test looks at. */
export function processInfo(pid: number, over: Partial<ProcessInfo> = {}): ProcessInfo {
  return { pid, ppid: 1, name: `p${pid}`, command: `p${pid}`, user: null, uid: 0, startedAt: null, cwd: null, ...over };
}
