// The main-thread side of the poll worker: starts it, hands out its deltas, answers "what now?".

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromPollWorker, PollWorkerOptions, ToPollWorker } from './poll-protocol';

export interface PollerOptions {
  intervalMs: number;
  /** The built worker script; by default the one beside this file in out/main. */
  workerPath?: string;
}

export type DeltaListener = (json: string, seq: number) => void;

export class Poller {
  private readonly worker: Worker;
  private readonly listeners = new Set<DeltaListener>();
  private readonly errorListeners = new Set<(message: string) => void>();
  private readonly pending = new Map<number, (json: string) => void>();
  private nextRequestId = 1;

  constructor(options: PollerOptions) {
    const workerData: PollWorkerOptions = { intervalMs: options.intervalMs };
    this.worker = new Worker(options.workerPath ?? join(__dirname, 'poll-worker.js'), { workerData });
    this.worker.on('message', (message: FromPollWorker) => this.receive(message));
    this.worker.on('error', (error) => this.errorListeners.forEach((l) => l(error.message)));
  }

  /** Deltas as JSON text: a host that only forwards them never parses them. */
  onDelta(listener: DeltaListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onError(listener: (message: string) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** The whole current table as JSON: `{ seq, sockets, processes, stats }`. */
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
    if (message.type === 'delta') this.listeners.forEach((l) => l(message.json, message.seq));
    else if (message.type === 'error') this.errorListeners.forEach((l) => l(message.message));
    else {
      this.pending.get(message.requestId)?.(message.json);
      this.pending.delete(message.requestId);
    }
  }
}
