// The poll loop, in a worker thread so that reading /proc never blocks a UI or a server.

import { parentPort, workerData } from 'node:worker_threads';
import { createCollector } from '../collect';
import { Tracker } from '../track/tracker';
import { clampInterval, type FromPollWorker, type PollWorkerOptions, type ToPollWorker } from './poll-protocol';

const port = parentPort;
if (!port) throw new Error('poll-worker must run in a worker thread');

const collector = createCollector();
const tracker = new Tracker();
let intervalMs = clampInterval((workerData as PollWorkerOptions).intervalMs);
let timer: NodeJS.Timeout | null = null;
let stopped = false;

function post(message: FromPollWorker): void {
  port!.postMessage(message);
}

async function pollOnce(): Promise<void> {
  const started = Date.now();
  try {
    const scan = await collector.collect();
    const delta = tracker.update(scan, new Date());
    post({ type: 'delta', seq: delta.seq, json: JSON.stringify(delta) });
  } catch (error) {
    post({ type: 'error', message: `Reading the socket table failed: ${(error as Error).message}` });
  }
  if (!stopped) timer = setTimeout(() => void pollOnce(), Math.max(0, intervalMs - (Date.now() - started)));
}

port.on('message', (message: ToPollWorker) => {
  if (message.type === 'interval') {
    intervalMs = clampInterval(message.ms);
  } else if (message.type === 'current') {
    const { seq, sockets, processes, scan } = tracker.current();
    post({
      type: 'current',
      requestId: message.requestId,
      json: JSON.stringify({ seq, sockets, processes, stats: scan?.stats ?? null }),
    });
  } else if (message.type === 'stop') {
    stopped = true;
    if (timer) clearTimeout(timer);
    port.close();
  }
});

void pollOnce();
