// `node out/bench/loop-probe.js SECONDS [events|poll]`: a process that only hosts the poller, as the
// Electron main process does, and measures while the worker polls once a second: its CPU, then its
// event-loop delay, in two windows (the delay monitor's own 1 ms timer costs ~2% of a core, which
// is not polling's), and in event mode, in the second window, how long a finished connection takes
// from its last kernel event to this thread (event-to-UI latency, before the window's own IPC hop;
// parsing the messages for it is the probe's cost, kept out of the CPU window). Prints one JSON line.
// Run by bench/run.ts while its workload holds the sockets.
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Poller } from '../src-main/poll/poller';
import type { StreamMessage } from '../src-main/shared/contract';

const seconds = Number(process.argv[2] ?? 20);
const events = process.argv[3] !== 'poll';
const root = join(__dirname, '..', '..'); // out/bench → the project
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

async function probe(): Promise<void> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const poller = new Poller({ intervalMs: 1000, workerPath: join(root, 'out/main/poll-worker.js'), events });
  let polls = 0;
  let chains = 0;
  let eventMode: unknown = null;
  const latencies: number[] = [];
  // Parsing is the probe's cost, not the host's (which forwards text): not done in the CPU window.
  let parsing = true;
  const subscription = poller.subscribe((json) => {
    if (!json.includes('"chains"')) polls++;
    // Only a message that may carry finished connections is parsed: the app's host forwards text.
    if (parsing && (json.includes('"chains"') || json.includes('"resync"'))) {
      const message = JSON.parse(json) as StreamMessage;
      if (message.type === 'resync') eventMode = message.resync.eventMode;
      else
        for (const chain of message.delta.chains ?? []) {
          chains++;
          latencies.push(Date.now() - chain.steps[chain.steps.length - 1].at);
        }
    }
    subscription.ack();
  });
  // Steady state: let the cold poll (a full owner scan) and the JIT's first passes go by.
  await wait(3000);
  const cpu0 = cpuMs();
  const t0 = performance.now();
  polls = 0;
  parsing = false;
  await wait(seconds * 1000);
  const elapsed = performance.now() - t0;
  const cpuPercent = ((cpuMs() - cpu0) / elapsed) * 100;
  const cpuPolls = polls;
  // The second window: finished connections counted and timed (the first poll's wait is long past).
  parsing = true;
  chains = 0;
  latencies.length = 0;
  const t1 = performance.now();
  histogram.enable();
  await wait(seconds * 1000);
  histogram.disable();
  const chainsPerSecond = (chains / (performance.now() - t1)) * 1000;
  await poller.stop();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : null;
  const figures = {
    p99: histogram.percentile(99) / 1e6,
    max: histogram.max / 1e6,
    cpuPercent,
    polls: cpuPolls,
    eventMode,
    chainsPerSecond,
    latencyMedianMs: at(0.5),
    latencyP99Ms: at(0.99),
  };
  process.stdout.write(JSON.stringify(figures) + '\n');
}

void probe();
