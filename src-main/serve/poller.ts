// The main-thread side of the poll worker: starts it, routes each subscriber's stream messages, and
// forwards acknowledgements and visibility. Messages stay JSON text: hosts forward them as they are.

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromPollWorker, PollWorkerOptions, SubscriberId, ToPollWorker } from './poll-protocol';

export interface PollerOptions {
  intervalMs: number;
  /** The built worker script; by default the one beside this file in out/main. */
  workerPath?: string;
  /** Record every TCP state change from kernel events where permitted (default true). */
  events?: boolean;
  /** The kernel's event buffer per CPU (KiB): bigger holds longer bursts between two reads. */
  eventBufferKb?: number;
}

/** One subscriber's end of the stream. */
export interface Subscription {
  readonly id: SubscriberId;
  /** Call once a message has been applied: the next one may then be sent. */
  ack(): void;
  /** Hold (and coalesce) messages while the view is hidden. */
  setPaused(paused: boolean): void;
  /** Ask for the whole state next, e.g. after seeing a gap in seq. */
  resync(): void;
  close(): void;
}

export class Poller {
  private readonly worker: Worker;
  private readonly subscribers = new Map<SubscriberId, (json: string) => void>();
  private readonly errorListeners = new Set<(message: string) => void>();
  private readonly pending = new Map<number, (json: string) => void>();
  private nextRequestId = 1;

  constructor(options: PollerOptions) {
    const workerData: PollWorkerOptions = {
      intervalMs: options.intervalMs,
      events: options.events ?? true,
      ...(options.eventBufferKb ? { eventBufferKb: options.eventBufferKb } : {}),
    };
    this.worker = new Worker(options.workerPath ?? join(__dirname, 'poll-worker.js'), { workerData });
    this.worker.on('message', (message: FromPollWorker) => this.receive(message));
    this.worker.on('error', (error) => this.errorListeners.forEach((l) => l(error.message)));
  }

  /** Starts a stream: a resync first, then deltas, each as JSON text of a StreamMessage. */
  subscribe(onMessage: (json: string) => void): Subscription {
    const id = randomUUID();
    this.subscribers.set(id, onMessage);
    this.send({ type: 'subscribe', id });
    return {
      id,
      ack: () => this.send({ type: 'ack', id }),
      setPaused: (paused) => this.send({ type: 'pause', id, paused }),
      resync: () => this.send({ type: 'resync', id }),
      close: () => {
        this.subscribers.delete(id);
        this.send({ type: 'unsubscribe', id });
      },
    };
  }

  onError(listener: (message: string) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** The whole current state as JSON (a Resync). */
  current(): Promise<string> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      this.pending.set(requestId, resolve);
      this.send({ type: 'current', requestId });
    });
  }

  setInterval(ms: number): void {
    this.send({ type: 'interval', ms });
  }

  async stop(): Promise<void> {
    this.send({ type: 'stop' });
    await new Promise<void>((resolve) => {
      const timeout = setTimeout(() => void this.worker.terminate().then(() => resolve()), 2000);
      this.worker.once('exit', () => {
        clearTimeout(timeout);
        resolve();
      });
    });
  }

  private send(message: ToPollWorker): void {
    this.worker.postMessage(message);
  }

  private receive(message: FromPollWorker): void {
    if (message.type === 'stream') for (const id of message.ids) this.subscribers.get(id)?.(message.json);
    else if (message.type === 'error') this.errorListeners.forEach((l) => l(message.message));
    else {
      this.pending.get(message.requestId)?.(message.json);
      this.pending.delete(message.requestId);
    }
  }
}
