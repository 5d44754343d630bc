// The macOS / Windows collector: systeminformation's netstat-based readings, mapped to Socket.
// Those readings are coarser than /proc: no inode, no Unix sockets, and owners only as netstat has them.

import type { ProcessInfo, Socket, SocketState } from '../shared/contract';
import { inodelessSocket } from './inodeless';
import { SOCKET_STATES } from '../shared/contract';
import type { Collector, Scan } from './collector';

/** The fields of systeminformation's `networkConnections()` entries that we read. */
export interface SiConnection {
  protocol: string;
  localAddress: string;
  localPort: string | number;
  peerAddress: string;
  peerPort: string | number;
  state: string;
  pid: number | null;
  process: string;
}

/** The fields of systeminformation's `processes().list` entries that we read. */
export interface SiProcess {
  pid: number;
  parentPid?: number;
  name: string;
  command?: string;
  params?: string;
  path?: string;
  user?: string;
  started?: string;
}

/** netstat spellings across platforms → the contract's state names (netstat / RFC 793). */
const STATE_ALIASES: Record<string, SocketState> = {
  LISTENING: 'LISTEN',
  FIN_WAIT_1: 'FIN_WAIT1',
  FIN_WAIT_2: 'FIN_WAIT2',
  SYN_RECEIVED: 'SYN_RECV',
  SYN_RCVD: 'SYN_RECV',
  CLOSED: 'CLOSE',
  ESTAB: 'ESTABLISHED',
};

function unbracket(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

function portOf(value: string | number): number | null {
  const port = Number(value);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
}

function stateOf(protocol: 'tcp' | 'udp', raw: string, connected: boolean): SocketState | null {
  const upper = raw.trim().toUpperCase();
  if (protocol === 'udp') return connected ? 'ESTABLISHED' : 'UNCONN';
  const state = STATE_ALIASES[upper] ?? upper;
  return (SOCKET_STATES as readonly string[]).includes(state) ? (state as SocketState) : null;
}

/** One systeminformation connection as a Socket; null for an entry we cannot read (counted). */
export function socketFromSi(entry: SiConnection): Socket | null {
  const match = /^(tcp|udp)(4|6|46)?$/.exec(entry.protocol.trim().toLowerCase());
  if (!match) return null;
  const protocol = match[1] as 'tcp' | 'udp';
  const localAddress = unbracket(entry.localAddress.trim());
  // netstat prints a wildcard as '*'; its family comes from the protocol suffix (tcp46 is dual-stack).
  const family: 4 | 6 = match[2] === '6' || match[2] === '46' || localAddress.includes(':') ? 6 : 4;
  const local = localAddress === '*' ? (family === 6 ? '::' : '0.0.0.0') : localAddress;
  const peerAddress = unbracket(entry.peerAddress.trim());
  const peerPort = portOf(entry.peerPort);
  const connected =
    peerPort !== null && peerAddress !== '*' && peerAddress !== '' && !/^(0\.0\.0\.0|::)$/.test(peerAddress);
  const state = stateOf(protocol, entry.state, connected);
  if (!state) return null;
  const pid = typeof entry.pid === 'number' && Number.isInteger(entry.pid) && entry.pid > 0 ? entry.pid : null;
  return inodelessSocket({
    protocol,
    family,
    local: { address: local, port: portOf(entry.localPort) ?? 0 },
    remote: connected ? { address: peerAddress, port: peerPort } : null,
    state,
    pid,
    processName: pid !== null && entry.process ? entry.process : null,
  });
}

export function processFromSi(entry: SiProcess): ProcessInfo {
  const started = entry.started ? new Date(entry.started.replace(' ', 'T')) : null;
  return {
    pid: entry.pid,
    ppid: entry.parentPid ?? null,
    name: entry.name,
    command: [entry.command ?? entry.name, entry.params ?? ''].join(' ').trim(),
    user: entry.user || null,
    uid: null,
    startedAt: started && !Number.isNaN(started.getTime()) ? started.toISOString() : null,
    cwd: null,
  };
}

/** Maps one reading of both systeminformation calls into a Scan. */
export function scanFromSi(connections: SiConnection[], processList: SiProcess[], scanMs: number): Scan {
  const sockets: Socket[] = [];
  let malformed = 0;
  for (const entry of connections) {
    const socket = socketFromSi(entry);
    if (socket) sockets.push(socket);
    else malformed++;
  }
  const byPid = new Map(processList.map((p) => [p.pid, p]));
  const processes: ProcessInfo[] = [];
  for (const pid of new Set(sockets.map((s) => s.pid).filter((p): p is number => p !== null))) {
    const entry = byPid.get(pid);
    if (entry) processes.push(processFromSi(entry));
  }
  for (const socket of sockets) {
    // netstat on macOS names no process; the process list does.
    if (socket.pid !== null && socket.processName === null) socket.processName = byPid.get(socket.pid)?.name ?? null;
  }
  return {
    sockets,
    processes,
    stats: {
      // Without inodes, only established sockets netstat could not attribute count as unattributed.
      unattributed: sockets.filter((s) => s.pid === null && s.state !== 'TIME_WAIT').length,
      malformedRows: malformed,
      repairedRows: 0,
      hiddenProcesses: 0,
      scanMs,
      engine: 'systeminformation',
    },
  };
}

export class SystemInformationCollector implements Collector {
  async collect(): Promise<Scan> {
    const si = await import('systeminformation');
    const started = performance.now();
    const [connections, processes] = await Promise.all([si.networkConnections(), si.processes()]);
    return scanFromSi(
      connections as SiConnection[],
      processes.list as SiProcess[],
      Math.round(performance.now() - started),
    );
  }
}
