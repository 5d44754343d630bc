// Event mode at full rate (issue 12): how many short connections reach a viewer with their whole
// chain, through the real engine (the poll worker, as `watch` and the UI run it), when a C client
// (bench/load/connections.c) makes them as fast as the kernel takes them, and at a sustained rate.
// Counts complete chains of both ends against the connections made, the events the kernel lost,
// the finished connections not sent, and the process's CPU; and the same rate polling only.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Poller } from '../src-main/poll/poller';
import type { StreamMessage } from '../src-main/shared/contract';
import { chainPath } from '../src-main/track/connection-chains';

const CLIENT = 'SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT';
const SERVER = 'SYN_RECV → ESTABLISHED → CLOSE_WAIT → LAST_ACK → CLOSED';

export interface RateFigures {
  label: string;
  made: number;
  seconds: number;
  clientComplete: number;
  serverComplete: number;
  lost: number;
  dropped: number;
  /** The whole process (host thread and poll worker), % of one core, while connections were made. */
  cpuPercent: number;
  pollOnlyCpuPercent: number | null;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Builds the C load client; null and why when there is no compiler. */
export function buildLoadClient(root: string): { path: string } | { reason: string } {
  const out = join(root, 'out/bench');
  mkdirSync(out, { recursive: true });
  const path = join(out, 'connections');
  const built = spawnSync('cc', ['-O2', '-pthread', '-o', path, join(root, 'bench/load/connections.c')], {
    encoding: 'utf8',
  });
  if (built.error || built.status !== 0)
    return { reason: `no C compiler to build the load client (${built.error?.message ?? built.stderr.trim()})` };
  return { path };
}

async function runOnce(
  root: string,
  client: string,
  count: number,
  rate: number,
  events: boolean,
): Promise<Omit<RateFigures, 'label' | 'pollOnlyCpuPercent'>> {
  const poller = new Poller({
    intervalMs: Number(process.env.BENCH_INTERVAL ?? 1000),
    workerPath: join(root, 'out/main/poll-worker.js'),
    events,
  });
  let port = -1;
  const ends: { local: number; remote: number; complete: boolean; path: string }[] = [];
  let lost = 0;
  let dropped = 0;
  const subscription = poller.subscribe((json) => {
    // Only messages that may carry finished connections or the lost count are parsed.
    if (json.includes('"chains"') || json.includes('"lost"')) {
      const message = JSON.parse(json) as StreamMessage;
      const mode = message.type === 'delta' ? message.delta.eventMode : message.resync.eventMode;
      lost = Math.max(lost, mode?.lost ?? 0);
      if (message.type === 'delta') {
        dropped += message.delta.chainsDropped ?? 0;
        for (const c of message.delta.chains ?? [])
          ends.push({ local: c.localPort, remote: c.remotePort, complete: c.complete, path: chainPath(c) });
      }
    }
    subscription.ack();
  });
  await wait(2500); // the cold poll and the tracer's start
  const lostBefore = lost;
  const child = spawn(client, [String(count), String(rate)], { stdio: ['ignore', 'pipe', 'pipe'] });
  createInterface({ input: child.stderr }).once('line', (line) => (port = (JSON.parse(line) as { port: number }).port));
  let result = '';
  child.stdout.on('data', (chunk: Buffer) => (result += chunk.toString()));
  const cpu0 = cpuMs();
  const t0 = performance.now();
  await new Promise((resolve) => child.once('exit', resolve));
  const cpuPercent = ((cpuMs() - cpu0) / (performance.now() - t0)) * 100;
  await wait(2000); // the last drains
  subscription.close();
  await poller.stop();
  const run = JSON.parse(result) as { made: number; seconds: number };
  const count_ = (local: (e: (typeof ends)[number]) => boolean, path: string) =>
    ends.filter((e) => local(e) && e.complete && e.path === path).length;
  const ours = ends.filter((e) => e.remote === port || e.local === port);
  const incomplete = ours.filter((e) => !e.complete).length;
  const otherPaths = ours.filter((e) => e.complete && e.path !== CLIENT && e.path !== SERVER);
  if (process.env.BENCH_DEBUG)
    console.error(
      `   (ends seen ${ours.length} of ${2 * run.made}: ${incomplete} incomplete; other paths: ${[...new Set(otherPaths.map((e) => e.path))].slice(0, 3).join(' | ')} ×${otherPaths.length})`,
    );
  return {
    made: run.made,
    seconds: run.seconds,
    clientComplete: count_((e) => e.remote === port, CLIENT),
    serverComplete: count_((e) => e.local === port, SERVER),
    lost: lost - lostBefore,
    dropped,
    cpuPercent,
  };
}

export async function benchEventRate(root: string, client: string): Promise<RateFigures[]> {
  const figures: RateFigures[] = [];
  for (const [label, count, rate] of [
    ['20,000 back to back', 20_000, 0],
    ['10,000/s for 10 s', 100_000, 10_000],
  ] as const) {
    process.stderr.write(`   event rate: ${label}…\n`);
    const evented = await runOnce(root, client, count, rate, true);
    const polled = rate > 0 ? await runOnce(root, client, count, rate, false) : null;
    figures.push({ label, ...evented, pollOnlyCpuPercent: polled?.cpuPercent ?? null });
  }
  return figures;
}

export function printEventRate(figures: RateFigures[]): void {
  console.log('\nEvent mode at full rate (C client on loopback; chains counted as a viewer of the stream gets them):');
  for (const f of figures) {
    const pct = (n: number) => ((n / f.made) * 100).toFixed(2);
    const rate = Math.round(f.made / f.seconds).toLocaleString('en-US');
    console.log(
      `  ${f.label}: ${f.made} made in ${f.seconds.toFixed(2)} s (${rate}/s); complete chains: clients ${pct(f.clientComplete)}%, servers ${pct(f.serverComplete)}%; ` +
        `kernel lost ${f.lost} events, ${f.dropped} finished connections not sent; CPU ${f.cpuPercent.toFixed(0)}% of a core` +
        (f.pollOnlyCpuPercent === null
          ? ''
          : f.cpuPercent > f.pollOnlyCpuPercent
            ? ` (polling only ${f.pollOnlyCpuPercent.toFixed(0)}%: events cost ${((f.cpuPercent - f.pollOnlyCpuPercent) / (f.made / f.seconds / 1000)).toFixed(1)} points per 1,000 connections/s)`
            : ` (polling only ${f.pollOnlyCpuPercent.toFixed(0)}%: the cores are saturated by the load itself, so the difference is not the events' cost; see the 500/s figures)`),
    );
    const worst = Math.min(f.clientComplete, f.serverComplete) / f.made;
    console.log(
      `  ${worst >= 0.999 ? 'met ' : 'MISSED'}  ≥ 99.9% complete chains, ${f.label}: ${(worst * 100).toFixed(2)}%`,
    );
  }
}
