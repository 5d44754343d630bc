// The poll loop, in a worker thread so that reading /proc never blocks a UI or a server. It owns the
// tracker and every subscriber's delta stream; the main thread only forwards text.

import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { createCollector } from '../collect';
import { DeltaStream } from '../track/delta-stream';
import { Tracker } from '../track/tracker';
import { ChainAssembler, type ConnectionChain } from '../track/connection-chains';
import { TcpStateTracer } from '../collect/linux/tcp-state-events';
import type { Delta, EventMode, Resync, StreamMessage } from '../shared/contract';
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

const options = workerData as PollWorkerOptions;
const collector = createCollector();
const tracker = new Tracker();
const post = (message: FromPollWorker) => port.postMessage(message);

// Event mode: the kernel's TCP events fill in what happens between polls. Without permission the
// reason is said once (in every resync and delta) and polling goes on.
const opening =
  options.events === false
    ? { ok: false as const, reason: 'turned off' }
    : TcpStateTracer.open(undefined, options.eventBufferKb);
const tracer = opening.ok ? opening.tracer : null;
/** Replaced, never changed, when the kernel's lost count moves: a message once sent stays as it was. */
let eventMode: EventMode = tracer
  ? { active: true, reason: null, lost: 0 }
  : { active: false, reason: opening.ok ? null : opening.reason };
const assembler = new ChainAssembler();
/** Drained this often, so a finished connection reaches the viewers well before the next poll. */
const EVENT_DRAIN_MS = 200;
/** A connection with no change for this long lost its end (events dropped): forget it. */
const OPEN_CHAIN_MAX_AGE_MS = 10 * 60_000;

function drainEvents(): ConnectionChain[] {
  if (!tracer) return [];
  const finished: ConnectionChain[] = [];
  for (const event of tracer.drain()) {
    const chain = assembler.push(event);
    if (chain) finished.push(chain);
  }
  if (tracer.lost !== eventMode.lost) eventMode = { ...eventMode, lost: tracer.lost };
  return finished;
}

const withEvents = (delta: Delta, chains: ConnectionChain[]): Delta => {
  delta.eventMode = eventMode;
  if (chains.length > 0) delta.chains = chains;
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
let outbox: Map<string, SubscriberId[]> | null = null;
/** Subscribers with a message in the outbox: a second one for the same subscriber flushes first, so its order holds. */
const waiting = new Set<SubscriberId>();
const flushOutbox = (): void => {
  if (!outbox) return;
  for (const [json, ids] of outbox) post({ type: 'stream', ids, json });
  outbox = null;
  waiting.clear();
};
const sendStream = (id: SubscriberId, message: StreamMessage): void => {
  if (waiting.has(id)) flushOutbox();
  if (!outbox) {
    outbox = new Map();
    queueMicrotask(flushOutbox);
  }
  const json = jsonOf(message);
  const ids = outbox.get(json);
  if (ids) ids.push(id);
  else outbox.set(json, [id]);
  waiting.add(id);
};
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
const stream = new DeltaStream<SubscriberId>(sendStream, currentResync);
let intervalMs = clampInterval(options.intervalMs);
let timer: NodeJS.Timeout | null = null;
let stopped = false;

async function pollOnce(): Promise<void> {
  const started = Date.now();
  try {
    const scan = await collector.collect();
    stream.publish(withEvents(tracker.update(scan, new Date()), drainEvents()));
    assembler.prune(Date.now(), OPEN_CHAIN_MAX_AGE_MS);
  } catch (error) {
    post({ type: 'error', message: `Reading the socket table failed: ${(error as Error).message}` });
  }
  if (!stopped) timer = setTimeout(() => void pollOnce(), Math.max(0, intervalMs - (Date.now() - started)));
}

const eventTimer = tracer
  ? setInterval(() => {
      try {
        const chains = drainEvents();
        if (chains.length > 0) stream.publish(withEvents(tracker.between(new Date()), chains));
      } catch (error) {
        post({ type: 'error', message: `Reading kernel TCP events failed: ${(error as Error).message}` });
      }
    }, EVENT_DRAIN_MS)
  : null;

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
    case 'current': {
      const resync = currentResync();
      let json = bareJson.get(resync);
      if (json === undefined) bareJson.set(resync, (json = JSON.stringify(resync)));
      post({ type: 'current', requestId: message.requestId, json });
      break;
    }
    case 'stop':
      stopped = true;
      if (timer) clearTimeout(timer);
      if (eventTimer) clearInterval(eventTimer);
      tracer?.close();
      port.close();
      break;
  }
});

void pollOnce();
