// Every TCP state change, from the kernel's tracepoint sock:inet_sock_set_state, read through a
// tracefs instance of Porthole's own (never the global trace buffer) that is removed on close and
// on exit. Polling cannot see a connection that opens and closes between two polls; this can.
// Needs root (or CAP_SYS_ADMIN / tracefs access); without it, open() says why and nothing is left.

import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { TCP_STATES, type TcpState } from '../../shared/contract';
import type { KernelTcpEvent } from '../../track/connection-chains';

export type { KernelTcpEvent };

const TRACEFS = '/sys/kernel/tracing';
const EVENT = 'events/sock/inet_sock_set_state';
const INSTANCE_PREFIX = 'porthole-';
const BUFFER_KB_PER_CPU = 4096;

/** TCP_NEW_SYN_RECV (12) is a request socket: shown as SYN_RECV, as the poll does. */
function stateName(kernel: string): TcpState | null {
  const name = kernel.replace(/^TCP_/, '');
  if (name === 'NEW_SYN_RECV') return 'SYN_RECV';
  return (TCP_STATES as readonly string[]).includes(name) ? (name as TcpState) : null;
}

const LINE =
  /^\s*.+?-(\d+)\s+\[\d+\]\s+\S+\s+(\d+\.\d+): inet_sock_set_state: family=AF_INET(6?) protocol=IPPROTO_TCP sport=(\d+) dport=(\d+) saddr=(\S+) daddr=(\S+) saddrv6=(\S+) daddrv6=(\S+) oldstate=(\w+) newstate=(\w+)/;

/**
 * Parses one trace_pipe line; null for anything else (other protocols, lost-event notices).
 * @param offsetMs wall clock minus the trace clock (mono), in ms
 */
export function parseTraceLine(line: string, offsetMs: number): KernelTcpEvent | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const from = stateName(m[10]);
  const to = stateName(m[11]);
  if (!from || !to) return null;
  const v6 = m[3] === '6';
  return {
    at: Number(m[2]) * 1000 + offsetMs,
    pid: Number(m[1]),
    family: v6 ? 6 : 4,
    localAddress: v6 ? m[8] : m[6],
    localPort: Number(m[4]),
    remoteAddress: v6 ? m[9] : m[7],
    remotePort: Number(m[5]),
    from,
    to,
  };
}

const pidAlive = (pid: number) => existsSync(`/proc/${pid}`);

export type TracerOpening = { ok: true; tracer: TcpStateTracer } | { ok: false; reason: string };

export class TcpStateTracer {
  private fd: number | null;
  private readonly buffer = Buffer.alloc(1 << 20);
  private partial = '';
  private readonly offsetMs: number;
  /** Lines the kernel reported as lost (its buffer overflowed between reads). */
  lost = 0;

  private constructor(
    private readonly dir: string,
    fd: number,
  ) {
    this.fd = fd;
    this.offsetMs = Date.now() - Number(process.hrtime.bigint()) / 1e6;
  }

  /** Creates Porthole's own instance and starts recording; says why when it cannot. */
  static open(root = TRACEFS): TracerOpening {
    if (process.platform !== 'linux') return { ok: false, reason: 'kernel TCP events are a Linux feature' };
    if (!existsSync(`${root}/instances`)) {
      // tracefs is not mounted here: root may mount it (it holds no state until used).
      if (process.getuid?.() === 0) spawnSync('mount', ['-t', 'tracefs', 'nodev', root], { stdio: 'ignore' });
      if (!existsSync(`${root}/instances`))
        return { ok: false, reason: `tracefs is not available at ${root} (needs root)` };
    }
    if (!existsSync(`${root}/${EVENT}`))
      return { ok: false, reason: 'this kernel has no sock:inet_sock_set_state tracepoint' };
    removeStaleInstances(root);
    // pid (for the stale-instance sweep) and a random part: one process may host several pollers.
    const dir = `${root}/instances/${INSTANCE_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      mkdirSync(dir);
      writeFileSync(`${dir}/trace_clock`, 'mono');
      writeFileSync(`${dir}/buffer_size_kb`, String(BUFFER_KB_PER_CPU));
      writeFileSync(`${dir}/${EVENT}/filter`, 'protocol == 6');
      writeFileSync(`${dir}/${EVENT}/enable`, '1');
      const fd = openSync(`${dir}/trace_pipe`, constants.O_RDONLY | constants.O_NONBLOCK);
      const tracer = new TcpStateTracer(dir, fd);
      process.once('exit', () => tracer.close());
      return { ok: true, tracer };
    } catch (error) {
      removeInstance(dir);
      const code = (error as NodeJS.ErrnoException).code;
      return {
        ok: false,
        reason:
          code === 'EACCES' || code === 'EPERM'
            ? 'not permitted to use tracefs (run as root)'
            : (error as Error).message,
      };
    }
  }

  /** Every event recorded since the last call, in order. */
  drain(): KernelTcpEvent[] {
    if (this.fd === null) return [];
    const events: KernelTcpEvent[] = [];
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw error;
      }
      if (n <= 0) break;
      const lines = (this.partial + this.buffer.toString('utf8', 0, n)).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        const event = parseTraceLine(line, this.offsetMs);
        if (event) events.push(event);
        else if (line.includes('LOST')) this.lost += Number(/LOST (\d+)/.exec(line)?.[1] ?? 1);
      }
    }
    return events;
  }

  /** Stops recording and removes the instance: nothing is left behind in tracefs. */
  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    removeInstance(this.dir);
  }
}

function removeInstance(dir: string): void {
  try {
    writeFileSync(`${dir}/${EVENT}/enable`, '0');
  } catch {
    // never created, or already gone
  }
  try {
    rmdirSync(dir);
  } catch {
    // already gone
  }
}

/** Instances left by a Porthole that was killed (SIGKILL skips exit handlers). */
function removeStaleInstances(root: string): void {
  for (const name of readdirSync(`${root}/instances`)) {
    const pid = Number(name.slice(INSTANCE_PREFIX.length).split('-')[0]);
    if (name.startsWith(INSTANCE_PREFIX) && Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid))
      removeInstance(`${root}/instances/${name}`);
  }
}
