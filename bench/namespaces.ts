// The cost of reading many network namespaces (issue 11): N namespaces × 200 sockets against one
// namespace holding the same N × 200 sockets, with the same processes, polled steadily. Goal: 50
// namespaces at 1 Hz within 2× the CPU of one namespace. Polls run back to back for a whole
// re-read cycle (TCP_REREAD_EVERY_POLLS), and the mean is what 1 Hz costs: it includes each
// namespace's periodic full read. Also: what namespaces that only a bind mount holds cost (entered
// with nsenter). Needs root (ip netns).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  EMPTY_ENTERED_EVERY_POLLS,
  LinuxCollector,
  TCP_REREAD_EVERY_POLLS,
} from '../src-main/collect/linux/linux-collector';
import { Workload } from '../tests/helpers/workload';

export interface NamespaceFigures {
  namespaces: number;
  sockets: number;
  /** Mean CPU ms of a steady poll over a re-read cycle, N namespaces × 200 sockets. */
  spreadCpuMs: number;
  spreadWallMs: number;
  /** Of those polls, the slowest (a poll where namespaces are read in full). */
  spreadMaxWallMs: number;
  /** tcp/tcp6 tables read per poll, and namespaces whose TCP rows were kept, on average. */
  tcpTablesRead: number;
  tcpKept: number;
  /** The same sockets and processes, all in Porthole's own namespace. */
  oneCpuMs: number;
  oneWallMs: number;
}

interface PollFigures {
  cpuMs: number;
  wallMs: number;
  maxWallMs: number;
  sockets: number;
  tcpTablesRead: number;
  tcpKept: number;
}

const PER_NAMESPACE_CONNECTIONS = 99; // a listener + 99 connections (both ends) ≈ 200 sockets
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'ignore' });
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Steady polls, at least a whole re-read cycle of them after two to warm the caches: the mean. */
function steadyPoll(runs: number): PollFigures {
  const collector = new LinuxCollector();
  collector.collectSync();
  const sockets = collector.collectSync().sockets.length;
  const cpu: number[] = [];
  const wall: number[] = [];
  let tcpTablesRead = 0;
  let tcpKept = 0;
  const polls = Math.max(runs, TCP_REREAD_EVERY_POLLS);
  for (let i = 0; i < polls; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    collector.collectSync();
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
    tcpTablesRead += collector.lastNamespaceReads.tcpTablesRead;
    tcpKept += collector.lastNamespaceReads.tcpKept;
  }
  return {
    cpuMs: mean(cpu),
    wallMs: mean(wall),
    maxWallMs: Math.max(...wall),
    sockets,
    tcpTablesRead: tcpTablesRead / polls,
    tcpKept: tcpKept / polls,
  };
}

/** A listener and its 99 connections, in `namespace` (null: Porthole's own). */
async function populate(workload: Workload, helpers: string, namespace: string | null): Promise<void> {
  const child = join(helpers, 'socket-child.cjs');
  const start = (plan: object) =>
    namespace === null
      ? workload.start(plan as Record<string, unknown>)
      : workload.run('ip', ['netns', 'exec', namespace, process.execPath, child, JSON.stringify(plan)]);
  const server = await start({ role: 'listen', host: '127.0.0.1' });
  await start({ role: 'connect', host: '127.0.0.1', port: server.port, count: PER_NAMESPACE_CONNECTIONS });
}

export async function benchNamespaces(helpers: string, counts: number[], runs: number): Promise<NamespaceFigures[]> {
  const figures: NamespaceFigures[] = [];
  const prefix = `pb${process.pid}n`;
  for (const count of counts) {
    process.stderr.write(`   namespaces: ${count} × 200 sockets…\n`);
    const names = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
    const workload = new Workload(helpers);
    let spread: ReturnType<typeof steadyPoll>;
    try {
      for (const name of names) {
        ip('netns', 'add', name);
        ip('-n', name, 'link', 'set', 'lo', 'up');
      }
      for (let i = 0; i < names.length; i += 10)
        await Promise.all(names.slice(i, i + 10).map((name) => populate(workload, helpers, name)));
      spread = steadyPoll(runs);
    } finally {
      await workload.stop();
      for (const name of names) {
        try {
          ip('netns', 'delete', name);
        } catch {
          // not made
        }
      }
    }
    const together = new Workload(helpers);
    let one: ReturnType<typeof steadyPoll>;
    try {
      for (let i = 0; i < count; i += 10)
        await Promise.all(Array.from({ length: Math.min(10, count - i) }, () => populate(together, helpers, null)));
      one = steadyPoll(runs);
    } finally {
      await together.stop();
    }
    figures.push({
      namespaces: count,
      sockets: count * (1 + 2 * PER_NAMESPACE_CONNECTIONS),
      spreadCpuMs: spread.cpuMs,
      spreadWallMs: spread.wallMs,
      spreadMaxWallMs: spread.maxWallMs,
      tcpTablesRead: spread.tcpTablesRead,
      tcpKept: spread.tcpKept,
      oneCpuMs: one.cpuMs,
      oneWallMs: one.wallMs,
    });
  }
  return figures;
}

/** What `count` namespaces held only by bind mounts (no process: entered with nsenter) add to a poll. */
export function benchMountOnly(count: number, runs: number): { beforeMs: number; afterMs: number } {
  const before = steadyPoll(runs).wallMs;
  const names = Array.from({ length: count }, (_, i) => `pb${process.pid}m${i}`);
  try {
    for (const name of names) ip('netns', 'add', name);
    return { beforeMs: before, afterMs: steadyPoll(runs).wallMs };
  } finally {
    for (const name of names) {
      try {
        ip('netns', 'delete', name);
      } catch {
        // not made
      }
    }
  }
}

export function printNamespaceFigures(
  figures: NamespaceFigures[],
  mountOnly: { count: number; beforeMs: number; afterMs: number },
): void {
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  console.log(
    `\nNetwork namespaces: a steady poll (mean of ${TCP_REREAD_EVERY_POLLS}, a whole re-read cycle), N namespaces × 200 sockets vs one namespace with the same sockets:`,
  );
  for (const f of figures)
    console.log(
      `  ${String(f.namespaces).padStart(2)} × 200 (${f.sockets} sockets): ${fmt(f.spreadWallMs)} ms wall (slowest ${fmt(f.spreadMaxWallMs)}) / ${fmt(f.spreadCpuMs)} ms CPU` +
        `  vs one namespace ${fmt(f.oneWallMs)} / ${fmt(f.oneCpuMs)} ms  = ${(f.spreadCpuMs / f.oneCpuMs).toFixed(2)}× CPU` +
        `  (at 1 Hz: ${(f.spreadCpuMs / 10).toFixed(2)}% vs ${(f.oneCpuMs / 10).toFixed(2)}% of a core);` +
        ` per poll ${f.tcpTablesRead.toFixed(1)} TCP tables read, ${f.tcpKept.toFixed(1)} namespaces' TCP rows kept`,
    );
  const largest = figures[figures.length - 1];
  if (largest) {
    const ratio = largest.spreadCpuMs / largest.oneCpuMs;
    console.log(
      `  ${ratio <= 2 ? 'met ' : 'MISSED'}  ${largest.namespaces} namespaces at 1 Hz within 2× the CPU of one namespace with the same sockets: ${ratio.toFixed(2)}×`,
    );
    // What the ratio hides when the baseline is nearly free (one quiet namespace: its table kept).
    console.log(
      `  figure  each quiet namespace beyond the first costs ${fmt((largest.spreadCpuMs - largest.oneCpuMs) / (largest.namespaces - 1))} ms CPU a poll (counters, listeners, UDP and Unix tables read through /proc)`,
    );
  }
  console.log(
    `  ${mountOnly.count} empty namespaces held only by a bind mount (entered with nsenter, an empty one every ${EMPTY_ENTERED_EVERY_POLLS}th poll): poll ${fmt(mountOnly.beforeMs)} → ${fmt(mountOnly.afterMs)} ms (${fmt((mountOnly.afterMs - mountOnly.beforeMs) / mountOnly.count)} ms each, on average)`,
  );
}
