// The main-thread side of the poll loop: starts it (a worker thread, or the privileged helper: see
// channel.ts), routes each subscriber's stream messages, and forwards acknowledgements and
// visibility. Messages stay JSON text: hosts forward them as they are. A loop that dies is started
// again (bounded), and every subscriber continues from a resync.

import { randomBytes, randomUUID } from 'node:crypto';
import { heapTrim } from '../common/heap-trim';
import { checkInterval } from '../shared/interval';
import type { KillOutcome } from '../shared/ipc';
import type { LoopStatus } from '../shared/contract';
import type { FromHelper, ToHelper } from './helper-protocol';
import { releaseTaggedTcpEvents, returnFreedMemory } from '../collect';
import { workerChannel, type ChannelFactory, type PollChannel } from './channel';
import type { PollWorkerOptions, SubscriberId } from './protocol';

/** Every edge checked the user's interval already (shared/interval.ts); another here is a bug. */
function intervalOrThrow(ms: number): number {
  const interval = checkInterval(ms);
  if (!interval.ok) throw new RangeError(interval.reason);
  return interval.ms;
}

export interface PollerOptions {
  intervalMs: number;
  /** The built worker script; by default the one beside this file in out/main. */
  workerPath?: string;
  /** Record every TCP state change from kernel events where permitted (default true). */
  events?: boolean;
  /** The kernel's event buffer per CPU (KiB): bigger holds longer bursts between two reads. */
  eventBufferKb?: number;
  /** Each TCP connection's byte counters and rates (default true; PollWorkerOptions.traffic). */
  traffic?: boolean;
  /** Where the loop runs (default: a worker thread); `restart` when it can be started again. */
  channel?: { factory: ChannelFactory; restart: boolean };
  /** Silence after which the loop is said to have stalled, and after which it is started again. */
  watch?: { stalledMs: number; stuckMs: number };
}

/** What the main thread asks of the table, answered as JSON: the whole state, a snapshot, the tray's, the exporter's. */
type TableRequest = 'current' | 'snapshot' | 'tray' | 'metrics';

/** Restarts allowed within RESTART_WINDOW_MS: a loop that keeps dying is given up on, and said so. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/**
 * The loop says it is alive after every poll: silent for STALLED_INTERVALS intervals (and at least
 * STALLED_MIN_MS, as a poll of a big table on a busy host takes seconds) it is said to have stalled
 * (stopped, or stuck in a call); silent for STUCK_MS it is ended and started again.
 */
const STALLED_INTERVALS = 3;
const STALLED_MIN_MS = 5_000;
const STUCK_MS = 60_000;
const WATCH_EVERY_MS = 1_000;
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
  private channel: PollChannel;
  private readonly subscribers = new Map<SubscriberId, (json: string) => void>();
  private readonly errorListeners = new Set<(message: string) => void>();
  /** Tables asked for and not yet answered: the whole state (a Resync), or a snapshot document. */
  private readonly pending = new Map<number, { what: TableRequest; resolve: (json: string) => void }>();
  private readonly stopping = new Map<number, (outcome: KillOutcome) => void>();
  private readonly options: PollWorkerOptions;
  private factory: ChannelFactory;
  private readonly workerPath: string | undefined;
  private restartable: boolean;
  private restarts: number[] = [];
  private intervalMs: number;
  private nextRequestId = 1;
  private stopped = false;
  /** Whether the current channel has said anything yet (a helper refused consent never does). */
  private delivered = false;
  /** Settles a switchTo(): true at the new channel's first message, false if it ended first. */
  private started: ((ok: boolean) => void) | null = null;
  private status: LoopStatus;
  private readonly statusListeners = new Set<(status: LoopStatus) => void>();
  /**
   * The tag of the current channel's event readers' tracefs instances (PollWorkerOptions): removed
   * here by it if the thread dies with them.
   */
  private eventTag = '';
  /** When the current channel last said anything (ms), null before its first message. */
  private heardAt: number | null = null;
  private readonly watchLimits: { stalledMs: number; stuckMs: number } | undefined;
  private readonly watch: NodeJS.Timeout;
  /** This (the host's) thread's heap, trimmed as the worker's is: it holds what the host made of the stream. */
  private readonly heap = heapTrim();

  constructor(options: PollerOptions) {
    intervalOrThrow(options.intervalMs);
    // Every host that polls runs for long, passing each table and delta between threads.
    returnFreedMemory();
    this.options = {
      intervalMs: options.intervalMs,
      events: options.events ?? true,
      ...(options.eventBufferKb ? { eventBufferKb: options.eventBufferKb } : {}),
      ...(options.traffic === false ? { traffic: false } : {}),
    };
    this.intervalMs = options.intervalMs;
    this.workerPath = options.workerPath;
    this.factory = options.channel?.factory ?? workerChannel(options.workerPath);
    this.restartable = options.channel?.restart ?? true;
    this.watchLimits = options.watch;
    this.channel = this.open();
    this.status = {
      state: 'running',
      kind: this.channel.kind,
      lastHeardAt: null,
      restarts: 0,
      lastRestartAt: null,
      message: null,
    };
    this.watch = setInterval(() => this.checkAlive(), WATCH_EVERY_MS);
    this.watch.unref();
  }

  /** How the loop is doing now. */
  get loopStatus(): LoopStatus {
    return this.status;
  }

  /** Called at every change of loopStatus; returns the way to stop listening. */
  onStatus(listener: (status: LoopStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  private setStatus(change: Partial<LoopStatus>): void {
    const heard = this.heardAt === null ? this.status.lastHeardAt : new Date(this.heardAt).toISOString();
    this.status = { ...this.status, kind: this.channel.kind, lastHeardAt: heard, ...change };
    for (const listener of this.statusListeners) listener(this.status);
  }

  private get loopName(): string {
    return this.channel.kind === 'helper' ? 'privileged helper' : 'poll worker';
  }

  /** Silence from a loop that has spoken: stalled (said), then stuck (ended and started again). */
  private checkAlive(): void {
    if (this.stopped || this.heardAt === null) return;
    this.heap.check();
    const silentMs = Date.now() - this.heardAt;
    const stalledMs = this.watchLimits?.stalledMs ?? Math.max(STALLED_MIN_MS, STALLED_INTERVALS * this.intervalMs);
    const stuckMs = this.watchLimits?.stuckMs ?? STUCK_MS;
    if (silentMs >= stuckMs) {
      const stuck = this.channel;
      const why = `The ${this.loopName} did not answer for ${Math.round(silentMs / 1000)} s`;
      this.heardAt = null;
      if (!this.restartable) {
        this.setStatus({ state: 'failed', message: `${why} and cannot be started again here.` });
        return;
      }
      this.restarted(`${why}; it was ended and is being started again.`);
      const tag = this.eventTag;
      this.reopen();
      void stuck.close().then(() => this.releaseEvents(tag));
    } else if (silentMs >= stalledMs && this.status.state === 'running') {
      const since = new Date(this.heardAt).toLocaleTimeString('en-GB');
      this.setStatus({
        state: 'stalled',
        message: `The ${this.loopName} has not answered since ${since}: the table shown is as of then.`,
      });
    }
  }

  /** Counts a restart and says so (errorListeners hear it too). */
  private restarted(message: string): void {
    const now = new Date();
    this.errorListeners.forEach((l) => l(message));
    this.setStatus({
      state: 'restarting',
      restarts: this.status.restarts + 1,
      lastRestartAt: now.toISOString(),
      message,
    });
  }

  /** 'helper' while the privileged helper polls (every owner visible), else 'worker'. */
  get kind(): 'worker' | 'helper' {
    return this.channel.kind;
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
    return this.ask('current');
  }

  /** The table now as a snapshot document's JSON (export/snapshot.ts), built where the table is. */
  snapshot(): Promise<string> {
    return this.ask('snapshot');
  }

  /** What the tray icon shows (a TrayModel's JSON), worked out where the table is: a few hundred bytes. */
  tray(): Promise<string> {
    return this.ask('tray');
  }

  /**
   * What the exporter's metrics need (export/metrics.ts TableMetrics as JSON): the table's counts
   * and the stream's counters, kept where the table is, so the exporter holds no table of its own.
   */
  metrics(): Promise<string> {
    return this.ask('metrics');
  }

  private ask(what: TableRequest): Promise<string> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      this.pending.set(requestId, { what, resolve });
      this.send({ type: what, requestId });
    });
  }

  setInterval(ms: number): void {
    this.intervalMs = intervalOrThrow(ms);
    this.send({ type: 'interval', ms });
  }

  /**
   * Stops a process through the privileged helper, which checks that it holds a socket in the
   * table now and is the process the user saw (start time). Only while the helper polls.
   */
  stopProcess(target: { pid: number; startedAt: string; force: boolean }): Promise<KillOutcome> {
    if (this.channel.kind !== 'helper')
      return Promise.resolve({ ok: false, pid: target.pid, reason: 'no privileged helper is running' });
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      this.stopping.set(requestId, resolve);
      this.send({ type: 'stop-process', requestId, ...target });
    });
  }

  /**
   * Moves the loop elsewhere (e.g. to the privileged helper after the user's consent): the old one
   * ends, every subscriber continues from a resync of the new one.
   */
  async switchTo(channel: { factory: ChannelFactory; restart: boolean }): Promise<boolean> {
    const old = this.channel;
    this.factory = channel.factory;
    this.restartable = channel.restart;
    this.restarts = [];
    const started = new Promise<boolean>((resolve) => (this.started = resolve));
    this.reopen();
    const ok = await started;
    await old.close();
    return ok;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watch);
    await this.channel.close();
  }

  private open(): PollChannel {
    this.delivered = false;
    this.eventTag = randomBytes(4).toString('hex');
    const channel: PollChannel = this.factory(
      {
        message: (message) => {
          if (this.channel !== channel) return;
          this.delivered = true;
          this.heardAt = Date.now();
          if (this.status.state !== 'running') this.setStatus({ state: 'running', message: null });
          this.started?.(true);
          this.started = null;
          this.receive(message);
        },
        error: (message) => this.errorListeners.forEach((l) => l(message)),
        exit: () => {
          if (this.channel === channel) this.lost();
        },
      },
      { ...this.options, intervalMs: this.intervalMs, eventTag: this.eventTag },
    );
    return channel;
  }

  /** A worker thread that died took its event readers with it, which had no time to clean up. */
  private releaseEvents(tag: string): void {
    releaseTaggedTcpEvents(tag);
  }

  /** The loop ended on its own: start it again, within bounds, and resume every subscriber. */
  private lost(): void {
    this.releaseEvents(this.eventTag);
    if (this.stopped) return;
    const say = (message: string) => this.errorListeners.forEach((l) => l(message));
    const withoutHelper = (why: string) => {
      const message = `${why}; polling goes on without it (owners of other users’ sockets unknown).`;
      say(message);
      this.setStatus({ state: 'restarting', message });
      this.started?.(false);
      this.started = null;
      this.factory = workerChannel(this.workerPath);
      this.restartable = true;
      this.reopen();
    };
    // It never spoke: consent refused, or no helper to run.
    if (this.channel.kind === 'helper' && !this.delivered) return withoutHelper('The privileged helper did not start');
    if (this.channel.kind === 'helper' && !this.restartable) return withoutHelper('The privileged helper ended');
    const now = Date.now();
    this.restarts = this.restarts.filter((at) => now - at < RESTART_WINDOW_MS);
    if (this.restarts.length >= MAX_RESTARTS) {
      const message = `The ${this.loopName} ended ${this.restarts.length + 1} times within a minute; it is not started again.`;
      say(message);
      this.setStatus({ state: 'failed', message });
      return;
    }
    this.restarts.push(now);
    this.restarted(`The ${this.loopName} ended; started again.`);
    this.reopen();
  }

  /** A new channel, with the interval, every subscriber (each gets a resync) and what was asked. */
  private reopen(): void {
    this.heardAt = null;
    this.channel = this.open();
    this.channel.send({ type: 'interval', ms: this.intervalMs });
    for (const id of this.subscribers.keys()) this.channel.send({ type: 'subscribe', id });
    for (const [requestId, { what }] of this.pending) this.channel.send({ type: what, requestId });
    for (const [requestId, resolve] of this.stopping) {
      resolve({ ok: false, pid: 0, reason: 'the privileged helper ended before it answered' });
      this.stopping.delete(requestId);
    }
  }

  private send(message: ToHelper): void {
    this.channel.send(message);
  }

  private receive(message: FromHelper): void {
    if (message.type === 'alive') return;
    if (message.type === 'stream') for (const id of message.ids) this.subscribers.get(id)?.(message.json);
    else if (message.type === 'error') this.errorListeners.forEach((l) => l(message.message));
    else if (message.type === 'stopped') {
      this.stopping.get(message.requestId)?.(message.outcome);
      this.stopping.delete(message.requestId);
    } else {
      this.pending.get(message.requestId)?.resolve(message.json);
      this.pending.delete(message.requestId);
    }
  }
}
