// Every TCP state change, from the kernel's tracepoint sock:inet_sock_set_state, read through a
// tracefs instance of Porthole's own (never the global trace buffer) that is removed on close and
// on exit. Polling cannot see a connection that opens and closes between two polls; this can.
// Needs root (or CAP_SYS_ADMIN / tracefs access); without it, open() says why and nothing is left.
// The ring buffer is read in its binary form, a page at a time per CPU (trace-ring.ts); the text
// of trace_pipe, which the kernel formats event by event, is the fallback for a layout this reader
// does not know. Events the kernel could not keep (its buffer full) are counted from its own
// per-CPU stats, never silently missing.

import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { TCP_STATES, type TcpState } from '../../shared/contract';
import type { KernelTcpEvent } from '../../track/connection-chains';
import {
  parsePageLayout,
  parseTcpEventLayout,
  parseTracePage,
  type PageLayout,
  type TcpEventLayout,
} from './trace-ring';
import { BUFFER_KB_PER_CPU } from '../event-buffer';

export type { KernelTcpEvent };

const TRACEFS = '/sys/kernel/tracing';
const EVENT = 'events/sock/inet_sock_set_state';
const INSTANCE_PREFIX = 'porthole-';
/** An event is stamped a little before it is committed to its page: held back this much more. */
const HOLD_BACK_MS = 1;
/** tracefs hands trace_pipe_raw out a page at a time; a page is this or smaller on every arch. */
const MAX_PAGE_BYTES = 65_536;

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

/** The binary way in: one trace_pipe_raw per CPU, and the layouts to read its pages. */
interface RawReader {
  fds: number[];
  page: PageLayout;
  event: TcpEventLayout;
}

export class TcpStateTracer {
  private closed = false;
  private readonly buffer = Buffer.alloc(1 << 20);
  private partial = '';
  private readonly offsetMs: number;
  private readonly v4Text = new Map<number, string>();
  /** Events newer than the last drain's start, for the next (see drainPages). */
  private held: KernelTcpEvent[] = [];
  /**
   * Events the kernel could not keep since recording began: overwritten or dropped when its
   * buffer was full (its per-CPU stats), or announced as LOST in the text stream.
   */
  lost = 0;
  private lostLines = 0;
  /** Whether pages are read in binary (the fast way) or the text stream is parsed. */
  readonly format: 'binary' | 'text';

  private constructor(
    /** Porthole's own tracefs instance, removed on close. */
    readonly instance: string,
    /** trace_pipe, read when the binary pages cannot be. */
    private readonly textFd: number | null,
    private readonly raw: RawReader | null,
    private readonly statsPaths: string[],
    /**
     * Pages read from one CPU in one drain at most: twice a buffer's worth (the kernel keeps one
     * page aside for the reader, and writes on while it reads), so a drain is bounded.
     */
    private readonly pagesPerDrain: number,
  ) {
    this.format = raw ? 'binary' : 'text';
    this.offsetMs = Date.now() - Number(process.hrtime.bigint()) / 1e6;
  }

  /**
   * Creates Porthole's own instance and starts recording; says why when it cannot.
   * @param bufferKbPerCpu the kernel's buffer for it (tests make it small to see it fill)
   */
  static open(root = TRACEFS, bufferKbPerCpu = BUFFER_KB_PER_CPU, tag?: string): TracerOpening {
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
    // pid (for the stale-instance sweep), the poll worker's tag (for its host to sweep after it)
    // and a random part: one process may host several pollers.
    const tagged = tag !== undefined && TAG.test(tag) ? `${tag}-` : '';
    // node:crypto is required here: the collectors load this module, and `who` never traces.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
    const dir = `${root}/instances/${INSTANCE_PREFIX}${process.pid}-${tagged}${randomBytes(4).toString('hex')}`;
    try {
      mkdirSync(dir);
      writeFileSync(`${dir}/trace_clock`, 'mono');
      writeFileSync(`${dir}/buffer_size_kb`, String(bufferKbPerCpu));
      writeFileSync(`${dir}/${EVENT}/filter`, 'protocol == 6');
      writeFileSync(`${dir}/${EVENT}/enable`, '1');
      const cpus = readdirSync(`${dir}/per_cpu`).filter((name) => /^cpu\d+$/.test(name));
      const raw = openRawReader(root, dir, cpus);
      const fd = raw ? null : openSync(`${dir}/trace_pipe`, constants.O_RDONLY | constants.O_NONBLOCK);
      const stats = cpus.map((cpu) => `${dir}/per_cpu/${cpu}/stats`);
      const tracer = new TcpStateTracer(dir, fd, raw, stats, 2 * Math.ceil((bufferKbPerCpu * 1024) / 4096) + 2);
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
    if (this.closed) return [];
    const events = this.raw ? this.drainPages(this.raw) : this.drainText(this.textFd!);
    let lost = 0;
    for (const path of this.statsPaths) lost += lostOf(path);
    this.lost = Math.max(this.lost, this.lostLines, lost);
    return events;
  }

  /**
   * Every CPU's pages until none is left, merged by time. The CPUs are read one after the other:
   * an event stamped after this drain began may be in a later CPU's pages while an earlier one,
   * on a CPU already read, waits for the next drain. One connection's events are often on two
   * CPUs, so what is newer than the drain's start is held back until the next one: events are
   * handed out in time order.
   */
  private drainPages(raw: RawReader): KernelTcpEvent[] {
    let horizon = Number(process.hrtime.bigint()) / 1e6 + this.offsetMs - HOLD_BACK_MS;
    const events: KernelTcpEvent[] = this.held;
    const page = this.buffer.subarray(0, MAX_PAGE_BYTES);
    for (const fd of raw.fds) {
      let pages = 0;
      for (; pages < this.pagesPerDrain; pages++) {
        let n: number;
        try {
          n = readSync(fd, page, 0, page.length, null);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
          throw error;
        }
        if (n <= 0) break;
        for (const event of parseTracePage(page.subarray(0, n), raw.page, raw.event, this.offsetMs, this.v4Text).events)
          events.push(event);
      }
      // Pages left on this CPU for the next drain: nothing newer than what was read of it goes out yet.
      if (pages === this.pagesPerDrain && events.length > 0) horizon = Math.min(horizon, events[events.length - 1].at);
    }
    events.sort((a, b) => a.at - b.at);
    let ready = events.length;
    while (ready > 0 && events[ready - 1].at > horizon) ready--;
    this.held = events.slice(ready);
    events.length = ready;
    return events;
  }

  private drainText(fd: number): KernelTcpEvent[] {
    const events: KernelTcpEvent[] = [];
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, this.buffer, 0, this.buffer.length, null);
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
        else if (line.includes('LOST')) this.lostLines += Number(/LOST (\d+)/.exec(line)?.[1] ?? 1);
      }
    }
    return events;
  }

  /** Stops recording and removes the instance: nothing is left behind in tracefs. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.textFd !== null) closeSync(this.textFd);
    for (const fd of this.raw?.fds ?? []) closeSync(fd);
    removeInstance(this.instance);
  }

  /**
   * Removes an instance of this process's that a reader ending abruptly (its thread gone) left
   * recording; never anything else's. False while it is still there (its files not yet closed).
   */
  static release(instance: string, root = TRACEFS): boolean {
    const name = instance.slice(`${root}/instances/`.length);
    if (
      !instance.startsWith(`${root}/instances/`) ||
      !/^[\w-]+$/.test(name) ||
      !name.startsWith(`${INSTANCE_PREFIX}${process.pid}-`)
    )
      return true;
    removeInstance(instance);
    return !existsSync(instance);
  }

  /** Removes every instance of this process's named with `tag`; false while one is still there. */
  static releaseTagged(tag: string, root = TRACEFS): boolean {
    if (!TAG.test(tag)) return true;
    const prefix = `${INSTANCE_PREFIX}${process.pid}-${tag}-`;
    let gone = true;
    for (const name of readdirSync(`${root}/instances`))
      if (name.startsWith(prefix)) gone = TcpStateTracer.release(`${root}/instances/${name}`, root) && gone;
    return gone;
  }
}

/** The per-CPU binary pipes, when this reader knows the layouts tracefs describes; else null. */
function openRawReader(root: string, dir: string, cpus: string[]): RawReader | null {
  let page: PageLayout | null;
  let event: TcpEventLayout | null;
  try {
    page = parsePageLayout(readFileSync(`${root}/events/header_page`, 'latin1'));
    event = parseTcpEventLayout(readFileSync(`${dir}/${EVENT}/format`, 'latin1'));
  } catch {
    return null;
  }
  if (!page || !event || cpus.length === 0) return null;
  const fds: number[] = [];
  try {
    for (const cpu of cpus)
      fds.push(openSync(`${dir}/per_cpu/${cpu}/trace_pipe_raw`, constants.O_RDONLY | constants.O_NONBLOCK));
  } catch {
    for (const fd of fds) closeSync(fd);
    return null;
  }
  return { fds, page, event };
}

/** Events one CPU's buffer lost since the instance began: overwritten (`overrun`, `commit overrun`) or dropped. */
export function parseLostFromStats(stats: string): number {
  const value = (name: string) => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
  return value('overrun') + value('commit overrun') + value('dropped events');
}

function lostOf(statsPath: string): number {
  try {
    return parseLostFromStats(readFileSync(statsPath, 'latin1'));
  } catch {
    return 0;
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

/** What a poll worker's tag may be (it becomes part of a folder name). */
const TAG = /^[0-9a-f]{1,16}$/;

/** Instances left by a Porthole that was killed (SIGKILL skips exit handlers). */
function removeStaleInstances(root: string): void {
  for (const name of readdirSync(`${root}/instances`)) {
    const pid = Number(name.slice(INSTANCE_PREFIX.length).split('-')[0]);
    if (name.startsWith(INSTANCE_PREFIX) && Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid))
      removeInstance(`${root}/instances/${name}`);
  }
}
