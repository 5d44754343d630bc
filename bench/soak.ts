// npm run soak: `porthole serve` under hostile and busy conditions for a minute (issue 10).
// 20 viewers: 18 well-behaved (subscribe and acknowledge, as the UI does), one that never reads,
// one that sends snapshot requests as fast as it can; 2,000 short loopback connections a second.
// Prints the server's memory, each good viewer's longest wait between deltas, what happened to the
// two bad ones, and whether the server lived, against the goals.
// Usage: npm run soak [-- --seconds 60 --rate 2000 --interval 500 --node-arg=--cpu-prof]
//
// npm run soak -- --endurance (issue 27): the long run instead — 30 minutes on a host holding
// 20,000 sockets with 500 short connections a second, four viewers of which one is slow (it
// acknowledges each message 3 s late). Prints the server's RSS and open files every 5 minutes and
// their slope per 10 minutes (least squares, after a 3-minute warm-up; RSS and the heaps measured
// after a garbage collection in every thread, through the server's inspector), and the bytes
// waiting in the kernel for each viewer: flat figures mean nothing grows.
// Options: --minutes 30 --sockets 20000 --rate 500 --interval 1000
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { SERVE_PROTOCOL, SERVE_TOKEN_PREFIX, type ServerMessage } from '../src-main/shared/ipc';
import { startServe, type Served } from '../tests/helpers/serve';
import { holdSockets } from './held-sockets';
import { Inspector } from '../tests/helpers/inspector';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    rate: { type: 'string', default: '2000' },
    interval: { type: 'string', default: '500' },
    /** e.g. --node-arg=--cpu-prof to see where the server spends its time */
    'node-arg': { type: 'string', multiple: true, default: [] },
    endurance: { type: 'boolean', default: false },
    minutes: { type: 'string', default: '30' },
    sockets: { type: 'string', default: '20000' },
  },
});
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const GOOD_VIEWERS = 18;
const RSS_GOAL_MB = 300;
const GAP_GOAL_MS = 1000;
/** Endurance: what counts as flat, per 10 minutes (the heap settles in steps of a few MB). */
const RSS_FLAT_MB_PER_10MIN = 5;
const FDS_FLAT_PER_10MIN = 1;
/** Left out of the slopes: TIME_WAIT from the churn builds up for its first minute (60 s timers). */
const WARM_UP_MINUTES = 3;
const root = join(__dirname, '..', '..'); // out/bench → the project

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

function connect(served: Served): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `ws://127.0.0.1:${served.port}/stream`,
      [SERVE_PROTOCOL, SERVE_TOKEN_PREFIX + served.token],
      {
        headers: { origin: `http://127.0.0.1:${served.port}` },
      },
    );
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** A viewer like the UI: acknowledges each message; records the longest wait between deltas. */
async function goodViewer(served: Served) {
  const ws = await connect(served);
  /** `from`: gaps count from the moment the soak starts (setting up 20 viewers is not the test). */
  // lastAt/maxServerGapMs: the same gap by the server's clock (delta.at); the rest of a wait was on the way or here.
  const state = {
    deltas: 0,
    last: 0,
    from: Infinity,
    maxGapMs: 0,
    maxGapAt: 0,
    lastAt: 0,
    maxServerGapMs: 0,
    closed: false,
    scanMs: [] as number[],
  };
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    if (message.type === 'delta' || message.type === 'resync') {
      const now = performance.now();
      if (state.last >= state.from && now - state.last > state.maxGapMs) {
        state.maxGapMs = now - state.last;
        state.maxGapAt = now - state.from;
      }
      state.last = now;
      if (message.type === 'delta') {
        const at = Date.parse(message.delta.at);
        if (state.lastAt > 0 && state.last >= state.from)
          state.maxServerGapMs = Math.max(state.maxServerGapMs, at - state.lastAt);
        state.lastAt = at;
        state.deltas++;
        if (message.delta.stats) state.scanMs.push(message.delta.stats.scanMs);
      }
      ws.send(JSON.stringify({ type: 'ack' }));
    }
  });
  ws.on('close', () => (state.closed = true));
  ws.send(JSON.stringify({ type: 'subscribe' }));
  return { ws, state };
}

/** Subscribes, asks for snapshots, and never reads a byte again. */
async function nonReader(served: Served) {
  const ws = await connect(served);
  const state = { closeCode: 0 };
  ws.on('error', () => {});
  ws.on('close', (code) => (state.closeCode = code));
  ws.send(JSON.stringify({ type: 'subscribe' }));
  (ws as unknown as { _socket: Socket })._socket.pause();
  let id = 0;
  const timer = setInterval(() => {
    if (ws.readyState === ws.OPEN) for (let i = 0; i < 20; i++) ws.send(JSON.stringify({ type: 'snapshot', id: ++id }));
  }, 100);
  return { ws, state, stop: () => clearInterval(timer), sent: () => id };
}

/** Reads everything, and keeps 64 snapshot requests outstanding at all times. */
async function flooder(served: Served) {
  const ws = await connect(served);
  const state = { ok: 0, busy: 0, closeCode: 0 };
  let id = 0;
  const ask = () => ws.readyState === ws.OPEN && ws.send(JSON.stringify({ type: 'snapshot', id: ++id }));
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    if (message.type !== 'reply') return;
    if (message.ok) state.ok++;
    else state.busy++;
    ask();
  });
  ws.on('error', () => {});
  ws.on('close', (code) => (state.closeCode = code));
  for (let i = 0; i < 64; i++) ask();
  return { ws, state };
}

function startLoad(rate = RATE): Promise<{ made: () => number; stop: () => void }> {
  const child = spawn(process.execPath, [join(root, 'tests/helpers/background-load.cjs'), '0', String(rate)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let made = 0;
  return new Promise((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      made = (JSON.parse(line) as { made: number }).made;
      resolve({ made: () => made, stop: () => child.kill('SIGKILL') });
    });
  });
}

async function main(): Promise<void> {
  const served = await startServe(['--interval', values.interval], values['node-arg']);
  const exited = new Promise<number | null>((resolve) => served.child.once('exit', (code) => resolve(code)));
  let serverExit: number | null | 'alive' = 'alive';
  void exited.then((code) => (serverExit = code));
  const rssStart = rssMb(served.child.pid!);
  const good = await Promise.all(Array.from({ length: GOOD_VIEWERS }, () => goodViewer(served)));
  const silent = await nonReader(served);
  const flood = await flooder(served);
  const load = await startLoad();
  const madeAtStart = load.made();
  const rss: number[] = [];
  const started = performance.now();
  for (const v of good) v.state.from = started;
  console.log(`soak: ${SECONDS} s, ${RATE} short connections/s, serve --interval ${values.interval}, 20 viewers`);
  while (performance.now() - started < SECONDS * 1000 && serverExit === 'alive') {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (serverExit === 'alive') rss.push(rssMb(served.child.pid!));
  }
  const elapsed = (performance.now() - started) / 1000;
  const made = load.made() - madeAtStart;
  load.stop();
  silent.stop();
  // Read every outcome before this script closes anything itself.
  const alive = serverExit === 'alive';
  const goodClosed = good.filter((v) => v.state.closed).length;
  const minDeltas = Math.min(...good.map((v) => v.state.deltas));
  const silentClose = silent.state.closeCode;
  const floodOutcome = { ...flood.state };
  const gaps = good.map((v) => v.state.maxGapMs).sort((a, b) => a - b);
  const worstAt = good.reduce((w, v) => (v.state.maxGapMs > w.state.maxGapMs ? v : w)).state.maxGapAt;
  const scans = good[0].state.scanMs.sort((a, b) => a - b);
  const peak = Math.max(...rss);
  const drops = served.stderr.filter((l) => l.startsWith('dropped a viewer'));
  for (const v of [...good.map((g) => g.ws), silent.ws, flood.ws]) v.terminate();
  await served.stop();

  const row = (label: string, value: string, goal = '') =>
    console.log(`  ${label.padEnd(44)} ${value.padEnd(30)} ${goal}`);
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log('');
  row('short connections made', `${made} (${(made / elapsed).toFixed(0)}/s)`, `asked ${RATE}/s`);
  row(
    'server RSS: start / median / peak',
    `${rssStart.toFixed(0)} / ${rss.sort((a, b) => a - b)[rss.length >> 1]?.toFixed(0)} / ${peak.toFixed(0)} MB`,
    `goal < ${RSS_GOAL_MB} MB: ${verdict(peak < RSS_GOAL_MB)}`,
  );
  row(
    'good viewers: longest wait between deltas',
    `median ${gaps[gaps.length >> 1].toFixed(0)} ms, max ${gaps[gaps.length - 1].toFixed(0)} ms (at ${(worstAt / 1000).toFixed(1)} s)`,
    `goal ≤ ${GAP_GOAL_MS} ms: ${verdict(gaps[gaps.length - 1] <= GAP_GOAL_MS)}`,
  );
  row(
    'the same, by the server\u2019s clock (max)',
    `${Math.max(...good.map((v) => v.state.maxServerGapMs)).toFixed(0)} ms between published deltas`,
  );
  row(
    'poll duration (scanMs): median / max',
    `${scans[scans.length >> 1]?.toFixed(0)} / ${scans.at(-1)?.toFixed(0)} ms`,
  );
  row('good viewers: deltas received (fewest)', String(minDeltas));
  row('good viewers closed by the server', String(goodClosed), `goal 0: ${verdict(goodClosed === 0)}`);
  row('non-reading viewer', `${silent.sent()} requests sent`, silentClose ? `closed (${silentClose})` : 'still open');
  row(
    'flooding viewer',
    `${floodOutcome.ok} snapshots, ${floodOutcome.busy} busy`,
    floodOutcome.closeCode ? `closed (${floodOutcome.closeCode})` : 'still served',
  );
  for (const line of drops) console.log(`    server said: ${line}`);
  row('server', alive ? 'alive throughout' : `EXITED (${serverExit})`, `goal alive: ${verdict(alive)}`);
  const met = peak < RSS_GOAL_MB && gaps[gaps.length - 1] <= GAP_GOAL_MS && alive && goodClosed === 0;
  console.log(`\nsoak: ${met ? 'every goal met' : 'a goal was MISSED'}`);
  process.exitCode = met ? 0 : 1;
}

const openFiles = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** Bytes the kernel holds unsent, per connection from the server's port (ss's Send-Q). */
function sendQueues(port: number): number[] {
  const out = spawnSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => Number(line.trim().split(/\s+/)[1]));
}

/** Least-squares slope of (minute, value) after the warm-up, per 10 minutes. */
function slopePer10Min(samples: { minute: number; value: number }[]): number {
  const kept = samples.filter((s) => s.minute >= WARM_UP_MINUTES);
  const n = kept.length;
  if (n < 2) return 0;
  const mx = kept.reduce((a, s) => a + s.minute, 0) / n;
  const my = kept.reduce((a, s) => a + s.value, 0) / n;
  const sxy = kept.reduce((a, s) => a + (s.minute - mx) * (s.value - my), 0);
  const sxx = kept.reduce((a, s) => a + (s.minute - mx) ** 2, 0);
  return sxx === 0 ? 0 : (sxy / sxx) * 10;
}

/** A viewer that reads everything but acknowledges each message `lagMs` late: the server coalesces for it. */
async function slowViewer(served: Served, lagMs: number) {
  const ws = await connect(served);
  const state = { messages: 0, closed: false, resyncs: 0 };
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    if (message.type !== 'delta' && message.type !== 'resync') return;
    state.messages++;
    if (message.type === 'resync') state.resyncs++;
    setTimeout(() => ws.readyState === ws.OPEN && ws.send(JSON.stringify({ type: 'ack' })), lagMs);
  });
  ws.on('close', () => (state.closed = true));
  ws.send(JSON.stringify({ type: 'subscribe' }));
  return { ws, state };
}

async function endurance(): Promise<void> {
  const minutes = Number(values.minutes);
  const sockets = Number(values.sockets);
  const rate = Number(values.rate === '2000' ? '500' : values.rate);
  const interval = values.interval === '500' ? '1000' : values.interval;
  const held = await holdSockets(sockets, join(root, 'tests/helpers'));
  // Its inspector (loopback, a port of the kernel's choice): garbage is collected in every thread
  // before each measure of what the heaps hold, so a slope is a leak, not garbage not yet taken.
  const served = await startServe(
    ['--interval', interval, '--no-history'],
    ['--inspect-port=0', ...values['node-arg']],
  );
  const pid = served.child.pid!;
  const inspector = await Inspector.open(served.child, served.stderr);
  const good = await Promise.all(Array.from({ length: 3 }, () => goodViewer(served)));
  const slow = await slowViewer(served, 3000);
  const load = await startLoad(rate);
  const madeAtStart = load.made();
  console.log(
    `soak --endurance: ${minutes} min, ${sockets} sockets held, ${rate} short connections/s, serve --interval ${interval}, 3 viewers + 1 slow`,
  );
  const rss: { minute: number; value: number }[] = [];
  /** Every minute, after a garbage collection in every thread: the heaps' bytes and the RSS. */
  const heap: { minute: number; value: number }[] = [];
  const rssAfterGc: { minute: number; value: number }[] = [];
  let nextGc = 1;
  const fds: { minute: number; value: number }[] = [];
  const queues: number[] = [];
  const started = performance.now();
  for (const v of good) v.state.from = started;
  let nextReport = 0;
  while (performance.now() - started < minutes * 60_000 && served.child.exitCode === null) {
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    if (served.child.exitCode !== null) break;
    const minute = (performance.now() - started) / 60_000;
    rss.push({ minute, value: rssMb(pid) });
    fds.push({ minute, value: openFiles(pid) });
    const waiting = sendQueues(served.port);
    queues.push(Math.max(0, ...waiting));
    if (minute >= nextGc) {
      heap.push({ minute, value: (await inspector.heapAfterGc()) / 1024 / 1024 });
      rssAfterGc.push({ minute, value: rssMb(pid) });
      nextGc += 1;
    }
    if (minute >= nextReport) {
      console.log(
        `  ${minute.toFixed(1).padStart(5)} min: RSS ${rss.at(-1)!.value.toFixed(0)} MB (after GC ${rssAfterGc.at(-1)?.value.toFixed(0) ?? '—'}), heaps after GC ${heap.at(-1)?.value.toFixed(0) ?? '—'} MB, ${fds.at(-1)!.value} open files, Send-Q to viewers ${waiting.join(' / ')} B, slow viewer ${slow.state.messages} messages`,
      );
      nextReport += 5;
    }
  }
  const elapsedMin = (performance.now() - started) / 60_000;
  const made = load.made() - madeAtStart;
  const alive = served.child.exitCode === null;
  const closed = [...good.map((v) => v.state.closed), slow.state.closed].filter(Boolean).length;
  const gaps = good.map((v) => v.state.maxGapMs);
  load.stop();
  inspector.close();
  for (const v of [...good.map((g) => g.ws), slow.ws]) v.terminate();
  await served.stop();
  await held.workload.stop();

  // The verdict on RSS is taken after garbage collection (a 50,000-row table's garbage moves the
  // RSS by a hundred MB between collections); the slope of every 10 s sample is printed too.
  const rssSlope = slopePer10Min(rssAfterGc);
  const rawSlope = slopePer10Min(rss);
  const heapSlope = slopePer10Min(heap);
  const fdSlope = slopePer10Min(fds);
  const row = (label: string, value: string, goal = '') =>
    console.log(`  ${label.padEnd(40)} ${value.padEnd(36)} ${goal}`);
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const rssFlat = Math.abs(rssSlope) <= RSS_FLAT_MB_PER_10MIN;
  const fdsFlat = Math.abs(fdSlope) <= FDS_FLAT_PER_10MIN;
  const queuesBounded =
    Math.max(...queues.slice(queues.length >> 1)) <= Math.max(...queues.slice(0, queues.length >> 1)) * 2 + 65536;
  console.log('');
  row('ran', `${elapsedMin.toFixed(1)} min, ${made} short connections (${(made / elapsedMin / 60).toFixed(0)}/s)`);
  row(
    'server RSS: first / last / peak',
    `${rss[0]?.value.toFixed(0)} / ${rss.at(-1)?.value.toFixed(0)} / ${Math.max(...rss.map((s) => s.value)).toFixed(0)} MB`,
  );
  row(
    'server RSS after GC: first / last',
    `${rssAfterGc[0]?.value.toFixed(0)} / ${rssAfterGc.at(-1)?.value.toFixed(0)} MB`,
  );
  row(
    'server RSS slope, after GC',
    `${rssSlope.toFixed(2)} MB per 10 min`,
    `goal |slope| ≤ ${RSS_FLAT_MB_PER_10MIN}: ${verdict(rssFlat)}`,
  );
  row('server RSS slope, every sample', `${rawSlope.toFixed(2)} MB per 10 min`);
  row(
    'heaps after GC: first / last, slope',
    `${heap[0]?.value.toFixed(1)} / ${heap.at(-1)?.value.toFixed(1)} MB, ${heapSlope.toFixed(2)} MB per 10 min`,
  );
  row('open files: first / last', `${fds[0]?.value} / ${fds.at(-1)?.value}`);
  row(
    'open files slope',
    `${fdSlope.toFixed(2)} per 10 min`,
    `goal |slope| ≤ ${FDS_FLAT_PER_10MIN}: ${verdict(fdsFlat)}`,
  );
  row(
    'Send-Q to viewers: max, first / second half',
    `${Math.max(...queues.slice(0, queues.length >> 1))} / ${Math.max(...queues.slice(queues.length >> 1))} B`,
    `goal no growth: ${verdict(queuesBounded)}`,
  );
  row('good viewers: longest wait between deltas', `${Math.max(...gaps).toFixed(0)} ms`);
  row('slow viewer', `${slow.state.messages} messages (${slow.state.resyncs} resyncs)`);
  row('viewers closed by the server', String(closed), `goal 0: ${verdict(closed === 0)}`);
  row('server', alive ? 'alive throughout' : 'EXITED', `goal alive: ${verdict(alive)}`);
  const met = rssFlat && fdsFlat && queuesBounded && closed === 0 && alive;
  console.log(`\nsoak --endurance: ${met ? 'every goal met' : 'a goal was MISSED'}`);
  process.exitCode = met ? 0 : 1;
}

void (values.endurance ? endurance() : main());
