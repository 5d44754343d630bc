// The poll loop, in a worker thread so that reading /proc never blocks a UI or a server. It owns the
// tracker and every subscriber's delta stream; the main thread only forwards text. Kernel events
// are read by a thread of its own (event-worker.ts), whose finished connections ride this stream.

import { setPriority } from 'node:os';
import { join } from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { createCollector, hostInfo } from '../collect';
import { DeltaStream, MAX_COALESCED_CHAINS } from '../track/delta-stream';
import { outbox } from '../common/outbox';
import { buildSnapshot } from '../export/snapshot';
import { trayModel } from '../track/tray';
import { listenerGroups } from '../track/views';
import { Tracker } from '../track/tracker';
import type { ConnectionChain } from '../track/connection-chains';
import { emptyStats, type Delta, type EventMode, type Resync, type StreamMessage } from '../shared/contract';
import {
  type EventWorkerOptions,
  type FromEventWorker,
  type FromPollWorker,
  type PollWorkerOptions,
  type SubscriberId,
  type ToPollWorker,
} from './protocol';

if (!parentPort) throw new Error('poll-worker must run in a worker thread');
const port = parentPort;

try {
  // On Linux this lowers this thread only: when both cores are busy, the UI thread goes first.
  setPriority(0, 10);
} catch {
  // not permitted, or not supported on this platform: polling still works
}

const options = workerData as PollWorkerOptions;
const collector = createCollector();
const tracker = new Tracker();
const post = (message: FromPollWorker) => port.postMessage(message);

// Event mode: the kernel's TCP events fill in what happens between polls, read by a thread of
// their own (event-worker.ts) so that a long poll never keeps them waiting in the kernel's buffer.
// Without permission the reason is said once (in every resync and delta) and polling goes on.
const eventReader =
  options.events === false
    ? null
    : new Worker(join(__dirname, 'event-worker.js'), {
        workerData: { bufferKbPerCpu: options.eventBufferKb } satisfies EventWorkerOptions,
      });
/** Replaced, never changed, when the kernel's lost count moves: a message once sent stays as it was. */
let eventMode: EventMode = { active: false, reason: 'turned off' };
let readerExited = false;
eventReader?.once('exit', () => (readerExited = true));
/** Finished connections from the reader, until the next delta carries them (bounded). */
let finished: ConnectionChain[] = [];
/** Finished connections past that bound, for the next delta (no viewer got them). */
let finishedDropped = 0;
const MAX_FINISHED = MAX_COALESCED_CHAINS;
/** Published this often, so a finished connection reaches the viewers well before the next poll. */
const EVENT_PUBLISH_MS = 200;
/** Settles once the reader has said whether events are recorded: the first resync says it too. */
const eventModeKnown = new Promise<void>((resolve) => {
  if (!eventReader) return resolve();
  const giveUp = setTimeout(() => {
    eventMode = { active: false, reason: 'the kernel event reader did not start' };
    resolve();
  }, 5_000);
  eventReader.on('message', (message: FromEventWorker) => {
    if (message.type === 'mode') {
      clearTimeout(giveUp);
      eventMode = message.active ? { active: true, reason: null, lost: 0 } : { active: false, reason: message.reason };
      resolve();
    } else if (message.type === 'chains') {
      for (const chain of message.chains) finished.push(chain);
      if (finished.length > MAX_FINISHED) {
        finishedDropped += finished.length - MAX_FINISHED;
        finished = finished.slice(-MAX_FINISHED);
      }
      if (message.lost !== eventMode.lost) eventMode = { ...eventMode, lost: message.lost };
    } else post({ type: 'error', message: message.message });
  });
  eventReader.on('error', (error) => {
    clearTimeout(giveUp);
    eventMode = { active: false, reason: `the kernel event reader failed: ${error.message}` };
    resolve();
  });
});

function drainEvents(): ConnectionChain[] {
  const chains = finished;
  finished = [];
  return chains;
}

const withEvents = (delta: Delta, chains: ConnectionChain[]): Delta => {
  delta.eventMode = eventMode;
  if (chains.length > 0) delta.chains = chains;
  if (finishedDropped > 0) {
    delta.chainsDropped = finishedDropped;
    finishedDropped = 0;
  }
  return delta;
};

// Every subscriber in step is sent the same delta object: it is serialised once (memoised by
// object), and the text crosses to the main thread once with the list of its subscribers, not a
// copy per subscriber. Outgoing messages are gathered until the current task ends.
const serialised = new WeakMap<object, string>();
const jsonOf = (message: StreamMessage): string => {
  const body = message.type === 'delta' ? message.delta : message.resync;
  let json = serialised.get(body);
  if (json === undefined) serialised.set(body, (json = JSON.stringify(message)));
  return json;
};
const queue = outbox<SubscriberId>((ids, json) => post({ type: 'stream', ids, json }));
const sendStream = (id: SubscriberId, message: StreamMessage): void => queue(id, jsonOf(message));
/** The table as it is now, as one Resync per table version, shared by all who ask for it at once. */
let lastResync: Resync | null = null;
const currentResync = (): Resync => {
  if (
    lastResync?.seq !== tracker.currentSeq ||
    lastResync.intervalMs !== intervalMs ||
    lastResync.eventMode !== eventMode
  )
    lastResync = { ...tracker.current(), eventMode, intervalMs };
  return lastResync;
};
const bareJson = new WeakMap<Resync, string>();
/**
 * The table as a snapshot document, serialised here once per table version: the main thread
 * forwards its text and never parses a table to build one (≈ 60 ms of its time at 40,000 sockets).
 */
const snapshotJson = new WeakMap<Resync, string>();
const snapshotOf = (resync: Resync): string => {
  let json = snapshotJson.get(resync);
  if (json === undefined) {
    const snapshot = buildSnapshot(
      {
        sockets: resync.sockets,
        processes: resync.processes,
        stats: resync.stats ?? emptyStats(),
        namespaces: resync.namespaces,
        publishedPorts: resync.publishedPorts,
      },
      hostInfo(),
      new Date(resync.at || Date.now()),
    );
    snapshotJson.set(resync, (json = JSON.stringify(snapshot)));
  }
  return json;
};
const stream = new DeltaStream<SubscriberId>(sendStream, currentResync);
let intervalMs = options.intervalMs;
let timer: NodeJS.Timeout | null = null;
let stopped = false;

async function pollOnce(): Promise<void> {
  const started = Date.now();
  try {
    const scan = await collector.collect();
    stream.publish(withEvents(tracker.update(scan, new Date()), drainEvents()));
  } catch (error) {
    post({ type: 'error', message: `Reading the socket table failed: ${(error as Error).message}` });
  }
  if (!stopped) timer = setTimeout(() => void pollOnce(), Math.max(0, intervalMs - (Date.now() - started)));
}

const eventTimer = eventReader
  ? setInterval(() => {
      // Before the first table there is nothing to tell news against (and a delta would claim a
      // scan's figures): events wait in the reader and go out with the first table.
      if (!tracker.scanned) return;
      const chains = drainEvents();
      if (chains.length > 0 || finishedDropped > 0) stream.publish(withEvents(tracker.between(new Date()), chains));
    }, EVENT_PUBLISH_MS)
  : null;

// Until the event reader has said whether events are recorded, requests wait: a resync sent
// before would say the wrong mode.
port.on('message', (message: ToPollWorker) => void eventModeKnown.then(() => handle(message)));

function handle(message: ToPollWorker): void {
  switch (message.type) {
    case 'interval':
      intervalMs = message.ms;
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
    case 'current': {
      const resync = currentResync();
      let json = bareJson.get(resync);
      if (json === undefined) bareJson.set(resync, (json = JSON.stringify(resync)));
      post({ type: 'current', requestId: message.requestId, json });
      break;
    }
    case 'snapshot':
      post({ type: 'snapshot', requestId: message.requestId, json: snapshotOf(currentResync()) });
      break;
    case 'tray':
      post({
        type: 'tray',
        requestId: message.requestId,
        json: JSON.stringify(trayModel(listenerGroups(currentResync().sockets))),
      });
      break;
    case 'stop':
      stopped = true;
      if (timer) clearTimeout(timer);
      if (eventTimer) clearInterval(eventTimer);
      // The reader removes its tracefs instance, then ends; this worker ends when it has.
      if (eventReader && !readerExited) {
        eventReader.postMessage({ type: 'stop' });
        eventReader.once('exit', () => port.close());
        setTimeout(() => port.close(), 2_000).unref();
      } else port.close();
      break;
  }
}

void eventModeKnown.then(() => pollOnce());
