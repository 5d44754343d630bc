// The poll loop, in a worker thread so that reading /proc never blocks a UI or a server. It owns the
// tracker and every subscriber's delta stream; the main thread only forwards text. Kernel events
// are read by a thread of its own (event-worker.ts), whose finished connections ride this stream.

import { setPriority } from 'node:os';
import { join } from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { createCollector, hostInfo, releaseTcpEvents, type Scan } from '../collect';
import { DeltaStream, MAX_COALESCED_CHAINS } from '../track/delta-stream';
import { outbox } from '../common/outbox';
import { heapTrim } from '../common/heap-trim';
import { StreamCounters, tableMetrics } from '../export/metrics';
import { buildSnapshot } from '../export/snapshot';
import { trayModel } from '../track/tray';
import { listenerGroups } from '../track/views';
import { Tracker } from '../track/tracker';
import type { ConnectionChain } from '../track/connection-chains';
import { emptyStats, type Delta, type EventMode, type Resync, type StreamMessage } from '../shared/contract';
import {
  EVENT_ALIVE_MS,
  EVENT_WORKER_YOUNG_MB,
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
const collector = createCollector(undefined, { traffic: options.traffic });
const tracker = new Tracker();
const post = (message: FromPollWorker) => port.postMessage(message);

// Event mode: the kernel's TCP events fill in what happens between polls, read by a thread of
// their own (event-worker.ts) so that a long poll never keeps them waiting in the kernel's buffer.
// Without permission the reason is said once (in every resync and delta) and polling goes on.
// A reader that ends on its own is started again (bounded); one that stops answering is said to
// have, and ended and started again if it stays silent.

/** Restarts of the reader allowed within READER_RESTART_WINDOW_MS: one that keeps dying is given up on. */
const READER_RESTARTS = 5;
const READER_RESTART_WINDOW_MS = 60_000;
/** No word from the reader for this long (it says it is alive every EVENT_ALIVE_MS): said to be stuck. */
const READER_SILENT_MS = 5 * EVENT_ALIVE_MS;
/** Silent this long: ended and started again. */
const READER_STUCK_MS = 30_000;

/** Replaced, never changed, when the kernel's lost count moves: a message once sent stays as it was. */
let eventMode: EventMode = { active: false, reason: 'turned off' };
let eventReader: Worker | null = null;
let readerExited = false;
/** The reader's tracefs instance, removed here if it ends without removing it. */
let readerInstance: string | null = null;
let readerHeardAt = 0;
/** The mode the reader said before it fell silent, restored when it speaks again. */
let modeBeforeSilence: EventMode | null = null;
let readerRestarts: number[] = [];
/** Events lost by readers that have ended: the lost count carries on across a restart. */
let lostBefore = 0;
let readerLost = 0;
/** Finished connections from the reader, until the next delta carries them (bounded). */
let finished: ConnectionChain[] = [];
/** Finished connections past that bound, for the next delta (no viewer got them). */
let finishedDropped = 0;
const MAX_FINISHED = MAX_COALESCED_CHAINS;
/**
 * Finished connections go out as they arrive from the reader, at most one delta per frame (16 ms:
 * a burst is coalesced, a viewer is never sent more than it could paint); a change of the event
 * mode alone is published at the latest after EVENT_MODE_MS.
 */
const EVENT_COALESCE_MS = 16;
const EVENT_MODE_MS = 200;
let lastEventPublish = 0;
let eventPublishTimer: NodeJS.Timeout | null = null;
function publishEventsSoon(): void {
  if (eventPublishTimer) return;
  const wait = Math.max(0, lastEventPublish + EVENT_COALESCE_MS - Date.now());
  eventPublishTimer = setTimeout(() => {
    eventPublishTimer = null;
    lastEventPublish = Date.now();
    publishEvents();
  }, wait);
}

/** Starts a reader; `said` is called once it has said whether events are recorded (or failed). */
function startEventReader(said: () => void): void {
  const reader = new Worker(join(__dirname, 'event-worker.js'), {
    workerData: { bufferKbPerCpu: options.eventBufferKb, tag: options.eventTag } satisfies EventWorkerOptions,
    resourceLimits: { maxYoungGenerationSizeMb: EVENT_WORKER_YOUNG_MB },
  });
  eventReader = reader;
  readerExited = false;
  readerInstance = null;
  readerLost = 0;
  readerHeardAt = Date.now();
  const giveUp = setTimeout(() => {
    eventMode = { active: false, reason: 'the kernel event reader did not start' };
    said();
  }, 5_000);
  reader.on('message', (message: FromEventWorker) => {
    if (reader !== eventReader) return;
    readerHeardAt = Date.now();
    if (modeBeforeSilence) {
      eventMode = modeBeforeSilence;
      modeBeforeSilence = null;
    }
    if (message.type === 'mode') {
      clearTimeout(giveUp);
      readerInstance = message.instance ?? null;
      eventMode = message.active
        ? { active: true, reason: null, lost: lostBefore }
        : { active: false, reason: message.reason };
      said();
    } else if (message.type === 'chains') {
      for (const chain of message.chains) finished.push(chain);
      if (finished.length > MAX_FINISHED) {
        finishedDropped += finished.length - MAX_FINISHED;
        finished = finished.slice(-MAX_FINISHED);
      }
      readerLost = message.lost;
      if (lostBefore + message.lost !== eventMode.lost) eventMode = { ...eventMode, lost: lostBefore + message.lost };
      publishEventsSoon();
    } else if (message.type === 'error') post({ type: 'error', message: message.message });
  });
  reader.on('error', (error) => {
    if (reader !== eventReader) return;
    clearTimeout(giveUp);
    post({ type: 'error', message: `the kernel event reader failed: ${error.message}` });
  });
  reader.once('exit', () => {
    clearTimeout(giveUp);
    if (reader !== eventReader) return;
    readerExited = true;
    if (!stopped && (eventMode.active || modeBeforeSilence)) readerEnded('ended');
    said();
  });
}

/** The reader ended without being asked (or was ended, stuck): cleans up after it and starts another. */
function readerEnded(how: string): void {
  if (readerInstance) releaseTcpEvents(readerInstance);
  readerInstance = null;
  lostBefore += readerLost;
  modeBeforeSilence = null;
  const now = Date.now();
  readerRestarts = readerRestarts.filter((at) => now - at < READER_RESTART_WINDOW_MS);
  if (readerRestarts.length >= READER_RESTARTS) {
    eventReader = null;
    eventMode = {
      active: false,
      reason: `the kernel event reader ${how} ${readerRestarts.length + 1} times within a minute and is not started again; only polls are recorded`,
    };
    post({ type: 'error', message: `The kernel event reader ${how} too often; it is not started again.` });
    return;
  }
  readerRestarts.push(now);
  eventMode = {
    active: false,
    reason: `the kernel event reader ${how}; it is being started again (changes between polls meanwhile are missed)`,
    lost: lostBefore,
    interrupted: true,
  };
  post({ type: 'error', message: `The kernel event reader ${how}; started again.` });
  // Said at once: the new reader may be recording again before the next poll's delta.
  publishEvents();
  startEventReader(() => undefined);
}

/** Settles once the reader has said whether events are recorded: the first resync says it too. */
const eventModeKnown = new Promise<void>((resolve) => {
  if (options.events === false) resolve();
  else startEventReader(resolve);
});

const readerWatch =
  options.events === false
    ? null
    : setInterval(() => {
        if (!eventReader || readerExited || (!eventMode.active && !modeBeforeSilence)) return;
        const silentMs = Date.now() - readerHeardAt;
        if (silentMs >= READER_STUCK_MS) {
          const stuck = eventReader;
          eventReader = null; // its exit is not a death to react to: this is
          // Its instance goes once the thread has (its files open, tracefs refuses to remove it).
          const instance = readerInstance;
          readerInstance = null;
          void stuck.terminate().then(() => instance && releaseTcpEvents(instance));
          readerEnded(`did not answer for ${Math.round(silentMs / 1000)} s and was ended`);
        } else if (silentMs >= READER_SILENT_MS) {
          modeBeforeSilence ??= eventMode;
          eventMode = {
            active: false,
            reason: `the kernel event reader has not answered for ${Math.round(silentMs / 1000)} s; changes between polls may be lost`,
            lost: modeBeforeSilence.lost,
            interrupted: true,
          };
        }
      }, EVENT_ALIVE_MS);

function drainEvents(): ConnectionChain[] {
  const chains = finished;
  finished = [];
  return chains;
}

/** The event mode the last delta carried. */
let publishedMode: EventMode | null = null;
const withEvents = (delta: Delta, chains: ConnectionChain[]): Delta => {
  delta.eventMode = publishedMode = eventMode;
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

/** The poll's garbage, collected when it has piled up (common/heap-trim.ts). */
const heap = heapTrim();

/** The exporter's counters, kept here from every delta: the exporter asks for them, not for the stream. */
const streamCounters = new StreamCounters();

/** A delta to every subscriber, counted for the exporter. */
function publish(delta: Delta, first = false, goneConnected = 0): void {
  streamCounters.observe(delta, first, goneConnected);
  stream.publish(delta);
}

/** Folds a scan in and publishes what changed. */
function publishScan(scan: Scan): void {
  const first = !tracker.scanned;
  const gone = tracker.connectionsGone;
  const delta = withEvents(tracker.update(scan, new Date()), drainEvents());
  publish(delta, first, tracker.connectionsGone - gone);
}

async function pollOnce(): Promise<void> {
  const started = Date.now();
  try {
    // The first table goes out as soon as it is read; its owners follow in this poll's delta.
    const scan = await collector.collect({ early: publishScan });
    publishScan(scan);
    // The table moved on: the last resync (and the JSON of it, a few MB a 10,000 sockets) is
    // stale, and kept it would stay in the heap until someone asks for another.
    lastResync = null;
    heap.check();
  } catch (error) {
    post({ type: 'error', message: `Reading the socket table failed: ${(error as Error).message}` });
  }
  post({ type: 'alive' });
  if (!stopped) timer = setTimeout(() => void pollOnce(), Math.max(0, intervalMs - (Date.now() - started)));
}

/** Finished connections, and a change of event mode, as a delta between polls. */
function publishEvents(): void {
  // Before the first table there is nothing to tell news against (and a delta would claim a
  // scan's figures): events wait in the reader and go out with the first table.
  if (!tracker.scanned) return;
  const chains = drainEvents();
  if (chains.length > 0 || finishedDropped > 0 || eventMode !== publishedMode)
    publish(withEvents(tracker.between(new Date()), chains));
}

const eventTimer = options.events !== false ? setInterval(publishEvents, EVENT_MODE_MS) : null;

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
    case 'metrics':
      post({
        type: 'metrics',
        requestId: message.requestId,
        json: JSON.stringify(tableMetrics(currentResync(), streamCounters.counters)),
      });
      break;
    case 'stop':
      stopped = true;
      if (timer) clearTimeout(timer);
      if (eventTimer) clearInterval(eventTimer);
      if (eventPublishTimer) clearTimeout(eventPublishTimer);
      if (readerWatch) clearInterval(readerWatch);
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
