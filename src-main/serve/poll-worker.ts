// The poll loop, in a worker thread so that reading /proc never blocks a UI or a server. It owns the
// tracker and every subscriber's delta stream; the main thread only forwards text.

import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { createCollector } from '../collect';
import { DeltaStream } from '../track/delta-stream';
import { Tracker } from '../track/tracker';
import {
  clampInterval,
  type FromPollWorker,
  type PollWorkerOptions,
  type SubscriberId,
  type ToPollWorker,
} from './poll-protocol';

const port = parentPort;
if (!port) throw new Error('poll-worker must run in a worker thread');

try {
  // On Linux this lowers this thread only: when both cores are busy, the UI thread goes first.
  setPriority(0, 10);
} catch {
  // not permitted, or not supported on this platform: polling still works
}

const collector = createCollector();
const tracker = new Tracker();
const post = (message: FromPollWorker) => port.postMessage(message);
const stream = new DeltaStream<SubscriberId>(
  (id, message) => post({ type: 'stream', id, json: JSON.stringify(message) }),
  () => tracker.current(),
);
let intervalMs = clampInterval((workerData as PollWorkerOptions).intervalMs);
let timer: NodeJS.Timeout | null = null;
let stopped = false;

async function pollOnce(): Promise<void> {
  const started = Date.now();
  try {
    stream.publish(tracker.update(await collector.collect(), new Date()));
  } catch (error) {
    post({ type: 'error', message: `Reading the socket table failed: ${(error as Error).message}` });
  }
  if (!stopped) timer = setTimeout(() => void pollOnce(), Math.max(0, intervalMs - (Date.now() - started)));
}

port.on('message', (message: ToPollWorker) => {
  switch (message.type) {
    case 'interval':
      intervalMs = clampInterval(message.ms);
      break;
    case 'subscribe':
      stream.subscribe(message.id);
      break;
    case 'unsubscribe':
      stream.unsubscribe(message.id);
      break;
    case 'ack':
      stream.ack(message.id);
      break;
    case 'pause':
      stream.setPaused(message.id, message.paused);
      break;
    case 'resync':
      stream.requestResync(message.id);
      break;
    case 'current':
      post({ type: 'current', requestId: message.requestId, json: JSON.stringify(tracker.current()) });
      break;
    case 'stop':
      stopped = true;
      if (timer) clearTimeout(timer);
      port.close();
      break;
  }
});

void pollOnce();
