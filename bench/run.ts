// npm run bench: Porthole's Linux collector against ss, netstat, lsof and systeminformation on
// 200, 2,000, 20,000 and 50,000 loopback sockets held by ~20 processes. Prints medians side by side.
// Usage: npm run bench [-- --sizes 200,2000,20000,50000 --runs 7 --loop-seconds 20 --renderer-rows 20000
//                        --namespaces 1,10,50 --live-sockets 50000
//                        --only namespaces|event-rate|event-to-ui|renderer|cli|history|windows|live-desktop]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LinuxCollector } from '../src-main/collect/linux/linux-collector';
import { Workload } from '../tests/helpers/workload';
import { holdSockets } from './held-sockets';
import { benchRenderer } from './renderer-bench';
import { benchEventToUi } from './event-to-ui';
import { benchMountOnly, benchNamespaces, printNamespaceFigures } from './namespaces';
import { benchEventRate, buildLoadClient, printEventRate } from './event-rate';
import { benchHistory, printHistoryFigures } from './history';
import { benchWindows, printWindowsFigures } from './windows';
import { benchLiveDesktop, printLiveDesktop } from './live-desktop';

const root = join(__dirname, '..', '..'); // out/bench → the project
const helpers = join(root, 'tests/helpers');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '200,2000,20000,50000' },
    runs: { type: 'string', default: '7' },
    'loop-seconds': { type: 'string', default: '20' },
    'renderer-rows': { type: 'string', default: '50000' },
    namespaces: { type: 'string', default: '1,10,50' },
    'live-sockets': { type: 'string', default: '50000' },
    only: { type: 'string' },
  },
});

/** N namespaces × 200 sockets against one namespace (issue 11); root only. */
async function namespaceSection(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('\nNetwork namespaces: not measured (making namespaces needs root).');
    return;
  }
  const counts = values.namespaces.split(',').map(Number);
  const figures = await benchNamespaces(helpers, counts, Math.max(runs, 5));
  const mountOnly = benchMountOnly(10, Math.max(runs, 5));
  printNamespaceFigures(figures, { count: 10, ...mountOnly });
}
/** Event mode at 20,000 back-to-back connections and 10,000 a second (issue 12); root only. */
/** Kernel event → painted in the browser UI (issue 29's goals: median ≤ 50 ms, p99 ≤ 150 ms). */
async function eventToUiSection(): Promise<void> {
  const rate = 500;
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const toUi = await benchEventToUi(helpers, rate, 5);
  console.log(
    toUi.available
      ? `  event-to-UI latency (kernel event → painted in Chromium, porthole serve, ${toUi.shown} of ${toUi.made} connections at ${rate}/s): median ${fmt(toUi.medianMs)} ms, p99 ${fmt(toUi.p99Ms)} ms, max ${fmt(toUi.maxMs)} ms (goals ≤ 50 and ≤ 150 ms: ${toUi.medianMs <= 50 && toUi.p99Ms <= 150 ? 'met' : 'MISSED'})`
      : `  event-to-UI latency: kernel events unavailable (${toUi.reason})`,
  );
}

async function eventRateSection(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('\nEvent mode at full rate: not measured (kernel events need root).');
    return;
  }
  const client = buildLoadClient(root);
  if ('reason' in client) {
    console.log(`\nEvent mode at full rate: not measured (${client.reason}).`);
    return;
  }
  printEventRate(await benchEventRate(root, client.path));
}
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);
const loopSeconds = Number(values['loop-seconds']);

interface Sample {
  wallMs: number;
  cpuMs: number;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summarise = (samples: Sample[]): Sample => ({
  wallMs: median(samples.map((s) => s.wallMs)),
  cpuMs: median(samples.map((s) => s.cpuMs)),
});

/** CPU time of this process's waited-for children (cutime + cstime), in ms. */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10; // fields 16, 17; USER_HZ = 100
}
function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function measure(
  times: number,
  run: () => unknown | Promise<unknown>,
  between?: () => Promise<void>,
): Promise<Sample> {
  const samples: Sample[] = [];
  for (let i = 0; i < times; i++) {
    if (between) await between();
    const cpu0 = ownCpuMs() + childrenCpuMs();
    const t0 = performance.now();
    await run();
    samples.push({ wallMs: performance.now() - t0, cpuMs: ownCpuMs() + childrenCpuMs() - cpu0 });
  }
  return summarise(samples);
}

function command(cmd: string, args: string[]): () => void {
  return () => {
    const result = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 30 });
    if (result.status !== 0 && result.status !== 1) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}`);
  };
}

function available(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function tcpSocketCount(): number {
  return new LinuxCollector().collectSync().sockets.filter((s) => s.protocol === 'tcp').length;
}

interface Row {
  tool: string;
  bySize: Map<number, Sample>;
}

/** What bench/loop-probe.ts measures: see there. */
interface LoopFigures {
  p99: number;
  max: number;
  cpuPercent: number;
  polls: number;
  eventMode: { active: boolean; reason: string | null } | null;
  chainsPerSecond: number;
  latencyMedianMs: number | null;
  latencyP99Ms: number | null;
}

function runLoopProbe(seconds: number, mode: 'events' | 'poll' = 'events'): Promise<LoopFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'loop-probe.js'), String(seconds), mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as LoopFigures) : reject(new Error(`loop probe exited ${code}`)),
    );
  });
}

/** The renderer in Chromium (issue 14's goals at 50,000 rows): first render, a 1,000-change delta, typing in the filter. */
async function rendererSection() {
  const rendererRows = Number(values['renderer-rows']);
  const figures = await benchRenderer(join(root, 'out/bench-renderer'), rendererRows, Math.max(3, Math.min(runs, 7)));
  const med = (pick: (f: (typeof figures)[number]) => number) => median(figures.map(pick));
  const renderer = {
    firstRender: med((f) => f.firstRender),
    applied: med((f) => f.applied),
    rendered: med((f) => f.rendered),
    painted: med((f) => f.painted),
    keystrokeMax: med((f) => f.keystrokeMax),
    keystrokeMedian: med((f) => f.keystrokeMedian),
    fanout: med((f) => f.fanout),
    heapMb: med((f) => f.heapMb),
  };
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const goal = (met: boolean) => (met ? 'met' : 'MISSED');
  console.log(
    `\nRenderer in Chromium (median of ${figures.length} page loads, ${rendererRows} rows; ${figures[0].rowsInDom} rows in the DOM, virtualised):`,
  );
  console.log(
    `  first full render of ${rendererRows} rows: ${fmt(renderer.firstRender)} ms (goal ≤ 1000 ms: ${goal(renderer.firstRender <= 1000)})`,
  );
  console.log(
    `  a 1,000-change delta applied to the store: ${fmt(renderer.applied)} ms; re-rendered: ${fmt(renderer.rendered)} ms`,
  );
  console.log(`  … until painted: ${fmt(renderer.painted)} ms (goal ≤ 50 ms: ${goal(renderer.painted <= 50)})`);
  console.log(
    `  typing in the filter: slowest keystroke ${fmt(renderer.keystrokeMax)} ms, median ${fmt(renderer.keystrokeMedian)} ms until rendered (goal ≤ 12 ms, a frame with room: ${goal(renderer.keystrokeMax <= 12)})`,
  );
  console.log(
    `  a port's fan-out with ${Math.round(rendererRows / 20)} peers (${figures[0].fanoutGroups} groups drawn): ${fmt(renderer.fanout)} ms until painted (goal < 100 ms at 1,000 peers: ${goal(renderer.fanout < 100)})`,
  );
  console.log(
    `  the page's JavaScript heap with ${rendererRows} rows, after garbage collection: ${renderer.heapMb.toFixed(0)} MB (goal ≤ 150 MB: ${goal(renderer.heapMb <= 150)})`,
  );
  return renderer;
}

/**
 * Issue 29's live desktop: its load, the tools beside Porthole in it, each host's memory; then, in
 * the same load, polling once a second, event-to-UI latency and typing in the renderer.
 */
async function liveDesktopSection(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('\nA live desktop: not measured (kernel events and every process’s sockets need root).');
    return;
  }
  let loop: LoopFigures | null = null;
  const figures = await benchLiveDesktop(
    helpers,
    join(root, 'bin/porthole.js'),
    Number(values['live-sockets']),
    Math.min(runs, 5),
    async () => {
      loop = await runLoopProbe(Math.min(loopSeconds, 20), 'poll');
      console.log("\nIn the live desktop's load:");
      await eventToUiSection();
      await rendererSection();
    },
  );
  printLiveDesktop(figures);
  const cpu = (loop as LoopFigures | null)?.cpuPercent ?? NaN;
  console.log(
    `  polling once a second: ${cpu.toFixed(1)}% of one core, the poller's process (goal ≤ 8%: ${cpu <= 8 ? 'met' : 'MISSED'})`,
  );
}

/** Wall time from the shell of one run of a command, as a person waits for it. */
function wallMs(command: string, args: string[]): number {
  const t0 = performance.now();
  spawnSync(command, args, { stdio: 'ignore' });
  return performance.now() - t0;
}

/**
 * `porthole who PORT` from the shell (issue 25's goal: 150 ms), beside `lsof -i :PORT` and
 * `ss -ltnp` asked the same question, and `node -e 0` (what any Node command costs to start).
 */
async function cliSection(): Promise<void> {
  const workload = new Workload(helpers);
  const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
  const port = String(server.port);
  const n = Math.max(runs, 9);
  const median = (samples: number[]) => samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)];
  const time = (command: string, args: string[]) => {
    wallMs(command, args); // warm the page cache
    return median(Array.from({ length: n }, () => wallMs(command, args)));
  };
  try {
    const who = time(process.execPath, [join(root, 'bin/porthole.js'), 'who', port]);
    const rows: [string, number][] = [
      [`porthole who ${port}`, who],
      [`lsof -i :${port}`, time('lsof', ['-i', `:${port}`])],
      ['ss -ltnp', time('ss', ['-ltnp'])],
      ['node -e 0 (Node starting, nothing else)', time(process.execPath, ['-e', '0'])],
    ];
    console.log(`
From the shell, one question about one port (median of ${n} runs, wall time):`);
    for (const [tool, ms] of rows) console.log(`  ${tool.padEnd(44)} ${ms.toFixed(0).padStart(5)} ms`);
    console.log(`  porthole who: goal ≤ 150 ms: ${who <= 150 ? 'met' : 'MISSED'}`);
  } finally {
    await workload.stop();
  }
}

async function main(): Promise<void> {
  if (values.only === 'namespaces') return namespaceSection();
  if (values.only === 'cli') return cliSection();
  if (values.only === 'history') return printHistoryFigures(benchHistory(root, Math.max(runs, 5)));
  if (values.only === 'windows') return printWindowsFigures(await benchWindows(root, helpers));
  if (values.only === 'event-rate') return eventRateSection();
  if (values.only === 'event-to-ui') return eventToUiSection();
  if (values.only === 'renderer') return void (await rendererSection());
  if (values.only === 'live-desktop') return liveDesktopSection();
  const rows = new Map<string, Row>();
  const record = (tool: string, size: number, sample: Sample) => {
    if (!rows.has(tool)) rows.set(tool, { tool, bySize: new Map() });
    rows.get(tool)!.bySize.set(size, sample);
  };
  const loop: Record<number, LoopFigures> = {};
  const actual: Record<number, number> = {};
  const si = await import('systeminformation');

  for (const size of sizes) {
    process.stderr.write(`\n== ${size} sockets: setting up…\n`);
    const { workload, servers } = await holdSockets(size, helpers);
    try {
      actual[size] = tcpSocketCount();
      process.stderr.write(`   ${actual[size]} TCP sockets in the table; measuring (${runs} runs each)…\n`);
      const slowRuns = size >= 20000 ? Math.min(runs, 3) : runs;

      record(
        'porthole cold poll (full owner scan)',
        size,
        await measure(runs, () => new LinuxCollector().collectSync()),
      );
      const steady = new LinuxCollector();
      steady.collectSync();
      steady.collectSync();
      record('porthole steady-state poll', size, await measure(runs, () => steady.collectSync()));
      // The same through /proc/net text, where netlink is not available.
      const steadyProc = new LinuxCollector({ engine: 'proc' });
      steadyProc.collectSync();
      steadyProc.collectSync();
      record('porthole steady-state poll, /proc', size, await measure(runs, () => steadyProc.collectSync()));
      // The same while one connection streams (100 KB/s): TCP counters move on every poll, so the
      // kernel's dump is never skipped (a busy host's steady state); and what tcp_info adds to it.
      const streaming = new Workload(helpers);
      await streaming.start({ role: 'transfer', host: '127.0.0.1', send: 1, reply: 1, rate: 100_000 });
      const aChunkGoesOut = () => new Promise<void>((resolve) => setTimeout(resolve, 60));
      for (const [tool, traffic] of [
        ['porthole steady-state poll, TCP moving', true],
        ['porthole steady-state poll, TCP moving, no tcp_info', false],
      ] as const) {
        const busy = new LinuxCollector({ traffic });
        busy.collectSync();
        busy.collectSync();
        record(tool, size, await measure(runs, () => busy.collectSync(), aChunkGoesOut));
      }
      await streaming.stop();

      // 1% churn between polls: a client process holding 1% of the connections is replaced.
      const churnCount = Math.max(1, Math.round(size / 200));
      const churnLoad = new Workload(helpers);
      const churned = new LinuxCollector();
      churned.collectSync();
      record(
        'porthole poll after 1% churn',
        size,
        await measure(
          runs,
          () => churned.collectSync(),
          async () => {
            await churnLoad.stop();
            await churnLoad.start({ role: 'connect', host: '127.0.0.1', port: servers[0].port, count: churnCount });
          },
        ),
      );
      await churnLoad.stop();

      record('ss -tanp', size, await measure(runs, command('ss', ['-tanp'])));
      if (available('netstat')) record('netstat -tanp', size, await measure(slowRuns, command('netstat', ['-tanp'])));
      if (available('lsof')) record('lsof -nP -iTCP', size, await measure(slowRuns, command('lsof', ['-nP', '-iTCP'])));
      record('systeminformation.networkConnections()', size, await measure(slowRuns, () => si.networkConnections()));

      // The 1 Hz loop runs in a process of its own that loads only the poller, like the app's main
      // process: this one holds the benchmark's heap (Playwright, systeminformation, tool outputs),
      // whose garbage collection pauses are not polling's.
      loop[size] = await runLoopProbe(loopSeconds);
    } finally {
      await workload.stop();
    }
  }

  // Print: one column per size, wall/CPU ms and the ratio to ss -tanp's wall time.
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const header = ['tool', ...sizes.map((s) => `${s} (${actual[s]} tcp): wall / cpu ms, × ss`)];
  const table = [...rows.values()].map((row) => [
    row.tool,
    ...sizes.map((size) => {
      const s = row.bySize.get(size);
      const ss = rows.get('ss -tanp')?.bySize.get(size);
      return s ? `${fmt(s.wallMs)} / ${fmt(s.cpuMs)}  ${ss ? (s.wallMs / ss.wallMs).toFixed(2) + '×' : ''}` : '-';
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  |  ');
  const engine = new LinuxCollector().collectSync().stats.engine;
  console.log(
    `\nMedian wall and CPU time per reading (CPU includes child processes). Porthole's own namespace read through: ${engine}.\n`,
  );
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('--+--'));
  for (const row of table) console.log(line(row));
  console.log('\nMain thread while the worker polls once a second:');
  for (const size of sizes) {
    const l = loop[size];
    console.log(
      `  ${size}: event-loop delay p99 ${fmt(l.p99)} ms, max ${fmt(l.max)} ms; process CPU ${l.cpuPercent.toFixed(1)}% of one core over ${l.polls} polls (the poller's own process, measured apart from the delay monitor)`,
    );
  }

  // Issue 12's goals: the poll, its CPU and the main thread's delay at the largest size (50,000 by
  // default); against systeminformation at 20,000 (at 50,000 it takes seconds a call).
  const big = Math.max(...sizes);
  const siSize = sizes.includes(20000) ? 20000 : big;
  const get = (tool: string, size = big) => rows.get(tool)?.bySize.get(size);
  const steady = get('porthole steady-state poll')!;
  const ss = get('ss -tanp')!;
  const siSample = get('systeminformation.networkConnections()', siSize)!;
  const siSteady = get('porthole steady-state poll', siSize)!;
  const moving = get('porthole steady-state poll, TCP moving')!;
  const goals = [
    [
      `steady-state poll with owners ≤ 0.1× ss -tanp at ${big} (a quiet table: the dump is kept)`,
      steady.wallMs / ss.wallMs,
      steady.wallMs / ss.wallMs <= 0.1,
      '×',
    ],
    [
      `≥ 10× faster than systeminformation at ${siSize}`,
      siSample.wallMs / siSteady.wallMs,
      siSample.wallMs / siSteady.wallMs >= 10,
      '× faster',
    ],
    [`CPU of polling once a second ≤ 10% of one core at ${big}`, loop[big].cpuPercent, loop[big].cpuPercent <= 10, '%'],
    [`main-thread event-loop delay < 20 ms while polling at ${big}`, loop[big].max, loop[big].max < 20, ' ms max'],
  ] as const;
  console.log(`\nGoals:`);
  for (const [goal, value, met, unit] of goals)
    console.log(`  ${met ? 'met ' : 'MISSED'}  ${goal}: ${value.toFixed(2)}${unit}`);
  // Not a goal of its own, said beside them: on a busy host the dump is made on every poll.
  const bare = get('porthole steady-state poll, TCP moving, no tcp_info')!;
  console.log(
    `  figure  while TCP moves on every poll (the dump is never kept): ${(moving.wallMs / ss.wallMs).toFixed(2)}× ss -tanp at ${big} (${fmt(moving.wallMs)} ms; ${fmt(bare.wallMs)} ms without tcp_info)`,
  );

  await namespaceSection();
  await cliSection();

  // Event mode under churn: ~500 short connections a second, ~10 TCP state changes each (both
  // ends), with the kernel's events recorded, against the same with polling only.
  const RATE = 500;
  const churn = new Workload(helpers);
  try {
    await churn.run(process.execPath, [join(helpers, 'connection-rate.cjs'), String(RATE)]);
    const eventSeconds = Math.min(loopSeconds, 10);
    const polled = await runLoopProbe(eventSeconds, 'poll');
    const evented = await runLoopProbe(eventSeconds, 'events');
    console.log(
      `\nEvent mode, ${RATE} short connections/s (≈${RATE * 10} TCP state changes/s), ${eventSeconds} s windows:`,
    );
    if (!evented.eventMode?.active)
      console.log(`  kernel events unavailable: ${evented.eventMode?.reason ?? 'unknown'}`);
    else
      console.log(
        [
          `  process CPU: ${evented.cpuPercent.toFixed(1)}% of one core with events, ${polled.cpuPercent.toFixed(1)}% polling only (events cost ${(evented.cpuPercent - polled.cpuPercent).toFixed(1)} points)`,
          `  finished connection ends delivered: ${evented.chainsPerSecond.toFixed(0)}/s (both ends of ${RATE}/s made = ${RATE * 2}/s); polling only: none`,
          `  event-to-host latency (last kernel event → the host's main thread): median ${fmt(evented.latencyMedianMs ?? NaN)} ms, p99 ${fmt(evented.latencyP99Ms ?? NaN)} ms`,
          `  main-thread event-loop delay with events: p99 ${fmt(evented.p99)} ms, max ${fmt(evented.max)} ms`,
        ].join('\n'),
      );
  } finally {
    await churn.stop();
  }
  await eventRateSection();
  await eventToUiSection();

  const renderer = await rendererSection();
  const history = benchHistory(root, Math.max(runs, 5));
  printHistoryFigures(history);
  const windows = await benchWindows(root, helpers);
  printWindowsFigures(windows);
  await liveDesktopSection();

  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    join(root, 'bench/results/latest.json'),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        sizes,
        actual,
        rows: [...rows.values()].map((r) => ({ tool: r.tool, bySize: Object.fromEntries(r.bySize) })),
        loop,
        renderer,
        history,
        windows,
      },
      null,
      2,
    ),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
