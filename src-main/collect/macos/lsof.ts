// The macOS collector: `lsof -F` (its field output, NUL-terminated), which names every socket's
// owner from the kernel's file tables as proc_pidfdinfo does, in one run. The same program and
// format on Linux, where the tests run it for real. Sockets with no open file (TIME_WAIT) are not
// in it: netstat would show them without an owner.

import { execFile } from 'node:child_process';
import type { ProcessInfo, Scan, Socket, TcpState } from '../../shared/contract';
import type { Collector } from '../collector';
import { inodelessSocket } from '../inodeless';

/**
 * The arguments: numeric hosts and ports, whole command names, TCP and UDP; fields p (pid), c
 * (command), u (uid), L (login), f (fd), t (IPv4 or IPv6), P (protocol), n (name), T (TCP state),
 * NUL-terminated.
 */
export const LSOF_ARGS = ['-nP', '+c', '0', '-iTCP', '-iUDP', '-FpcuLftPnT0'];
/** The most of lsof's output read (64 MiB: some 400,000 sockets); past it the run is refused. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
/** A run that takes longer is ended. */
const TIMEOUT_MS = 20_000;

/** TCP states as lsof prints them on macOS (tcp_fsm.h) and on Linux, in the names ss uses. */
const STATES: Record<string, TcpState> = {
  LISTEN: 'LISTEN',
  ESTABLISHED: 'ESTABLISHED',
  SYN_SENT: 'SYN_SENT',
  SYN_RCVD: 'SYN_RECV',
  SYN_RECV: 'SYN_RECV',
  FIN_WAIT_1: 'FIN_WAIT1',
  FIN_WAIT1: 'FIN_WAIT1',
  FIN_WAIT_2: 'FIN_WAIT2',
  FIN_WAIT2: 'FIN_WAIT2',
  CLOSE_WAIT: 'CLOSE_WAIT',
  CLOSING: 'CLOSING',
  LAST_ACK: 'LAST_ACK',
  TIME_WAIT: 'TIME_WAIT',
  CLOSED: 'CLOSE',
  CLOSE: 'CLOSE',
};

/**
 * "127.0.0.1:80", "[::1]:80", "*:5353", "[fe80::1%en0]:123": the address and port, or null. `*`
 * is the unspecified address of the file's family (`ipv6`: its type field said IPv6).
 */
export function parseLsofEndpoint(text: string, ipv6 = false): { address: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  if (port > 65535) return null;
  // lsof writes an unspecified address as *: which family it is, the file's type says.
  const address = m[1] === '*' ? (ipv6 ? '::' : '0.0.0.0') : m[1];
  return { address, port };
}

interface Parsed {
  sockets: Socket[];
  processes: ProcessInfo[];
  malformed: number;
}

/**
 * The sockets and their owners in lsof's -F0 output. A socket open in several processes (shared
 * after a fork) is one socket with every pid; a file line that does not parse is counted.
 */
export function parseLsof(output: string): Parsed {
  const byIdentity = new Map<string, Socket>();
  const processes = new Map<number, ProcessInfo>();
  let malformed = 0;
  let pid: number | null = null;
  for (const line of output.split('\n')) {
    if (line === '') continue;
    const fields = new Map<string, string>();
    for (const field of line.split('\0')) {
      if (field === '') continue;
      // T comes several times (TST=, TQR=, TQS=): the state is the one read.
      if (field[0] === 'T' && !field.startsWith('TST=')) continue;
      fields.set(field[0], field.slice(1));
    }
    if (fields.has('p')) {
      pid = /^\d+$/.test(fields.get('p')!) ? Number(fields.get('p')) : null;
      if (pid !== null) {
        const uid = fields.get('u');
        processes.set(pid, {
          pid,
          ppid: null,
          name: fields.get('c') ?? '',
          command: fields.get('c') ?? '',
          user: fields.get('L') ?? null,
          uid: uid !== undefined && /^\d+$/.test(uid) ? Number(uid) : null,
          startedAt: null,
          cwd: null,
        });
      }
      continue;
    }
    if (!fields.has('f')) continue;
    const socket = socketOf(fields, pid, processes.get(pid ?? -1)?.name ?? null);
    if (socket === null) {
      malformed++;
      continue;
    }
    const identity = `${socket.protocol}|${socket.localAddress}|${socket.localPort}|${socket.remoteAddress}|${socket.remotePort}|${socket.state}`;
    const seen = byIdentity.get(identity);
    if (seen === undefined) byIdentity.set(identity, socket);
    else if (socket.pid !== null && !seen.pids.includes(socket.pid)) seen.pids.push(socket.pid);
  }
  const owners = new Set([...byIdentity.values()].flatMap((s) => s.pids));
  return {
    sockets: [...byIdentity.values()],
    processes: [...processes.values()].filter((p) => owners.has(p.pid)),
    malformed,
  };
}

function socketOf(fields: Map<string, string>, pid: number | null, name: string | null): Socket | null {
  const protocol = fields.get('P');
  const text = fields.get('n');
  if ((protocol !== 'TCP' && protocol !== 'UDP') || text === undefined) return null;
  const [localText, remoteText] = text.split('->');
  const ipv6 = fields.get('t') === 'IPv6';
  const local = parseLsofEndpoint(localText, ipv6);
  const remote = remoteText === undefined ? null : parseLsofEndpoint(remoteText, ipv6);
  if (local === null || (remoteText !== undefined && remote === null)) return null;
  let state: Socket['state'];
  if (protocol === 'TCP') {
    const tcp = STATES[fields.get('T')?.replace(/^ST=/, '') ?? ''];
    if (tcp === undefined) return null;
    state = tcp;
  } else state = remote === null ? 'UNCONN' : 'ESTABLISHED';
  return inodelessSocket({
    protocol: protocol === 'TCP' ? 'tcp' : 'udp',
    family: ipv6 || local.address.includes(':') ? 6 : 4,
    local,
    remote,
    state,
    pid,
    processName: name,
  });
}

/** Runs lsof; its exit code is 1 when it found nothing to list, which is an empty table. */
export function runLsof(command = 'lsof'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      LSOF_ARGS,
      { encoding: 'utf8', maxBuffer: MAX_OUTPUT_BYTES, timeout: TIMEOUT_MS },
      (error, stdout) => {
        if (error && !(error.code === 1 && stdout !== undefined)) reject(new Error(`lsof failed: ${error.message}`));
        else resolve(stdout);
      },
    );
  });
}

export class LsofCollector implements Collector {
  constructor(private readonly command = 'lsof') {}

  async collect(): Promise<Scan> {
    const started = performance.now();
    const parsed = parseLsof(await runLsof(this.command));
    return {
      sockets: parsed.sockets,
      processes: parsed.processes.sort((a, b) => a.pid - b.pid),
      stats: {
        unattributed: 0,
        malformedRows: parsed.malformed,
        repairedRows: 0,
        // lsof lists only what it may see: other users' processes need root.
        hiddenProcesses: 0,
        scanMs: Math.round(performance.now() - started),
        engine: 'lsof',
      },
    };
  }
}
