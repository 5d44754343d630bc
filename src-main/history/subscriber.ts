// The recorder as one more subscriber of the poll stream (beside the UI's viewers), in a thread of
// its own (recorder-worker.ts): each message is handed on as the poll worker sent it (text) and
// recorded there in one transaction, and acknowledged once it is, so at most one message is on its
// way at a time. A history that cannot be written (a full disk, a read-only folder) pauses
// recording, said once, while the live view goes on; it is tried again on the next resync. Its
// state is the host's to show (status bar, stderr), and a viewer may turn recording off and on again.

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { HistoryStatus } from '../shared/contract';
import type { Poller, Subscription } from '../poll/poller';
import { DEFAULT_LIMITS, type RecorderLimits } from './recorder';
import {
  RECORDER_WORKER_YOUNG_MB,
  type FromRecorderWorker,
  type RecorderWorkerOptions,
  type ToRecorderWorker,
} from './recorder-protocol';

/** How often a paused recorder asks for the whole table again, to try writing once more. */
const RETRY_MS = 60_000;
/**
 * How long start() waits for the first table to be recorded (the poll loop answers a new
 * subscriber at once, unless it has stalled): past it, recording is said to have begun anyway.
 */
const FIRST_RECORD_WAIT_MS = 10_000;
/** How long a stopping recorder thread may take to close its database before it is ended. */
const STOP_WAIT_MS = 5_000;

interface Running {
  worker: Worker;
  subscription: Subscription;
  retry: NodeJS.Timeout | null;
  /** Resolves once the thread has ended. */
  ended: Promise<void>;
}

export class RecordingControl {
  private status: HistoryStatus;
  private readonly listeners = new Set<(status: HistoryStatus) => void>();
  private running: Running | null = null;
  private starting: Promise<boolean> | null = null;

  /**
   * @param path the history file, or null where this host records none (`--no-history`)
   * @param say a line for the host's log (stderr)
   * @param limits what is kept (retention, size, connections a minute one by one)
   * @param workerPath the built recorder thread; by default the one beside this file in out/main
   */
  constructor(
    private readonly poller: Poller,
    readonly path: string | null,
    private readonly say: (line: string) => void,
    private readonly limits: RecorderLimits = DEFAULT_LIMITS,
    private readonly workerPath = join(__dirname, 'recorder-worker.js'),
  ) {
    this.status = { state: 'off', path, message: path ? 'recording is turned off' : 'this host records no history' };
  }

  get current(): HistoryStatus {
    return this.status;
  }

  /** Called at each change of state; returns the way to stop listening. */
  onStatus(listener: (status: HistoryStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(state: HistoryStatus['state'], message: string | null, line?: string): void {
    this.status = { state, path: this.path, message };
    if (line) this.say(line);
    for (const listener of this.listeners) listener(this.status);
  }

  /** Starts recording; false (said, and the state says why) when the history cannot be opened. */
  start(): Promise<boolean> {
    if (this.running) return Promise.resolve(true);
    if (!this.path) return Promise.resolve(false);
    this.starting ??= this.open(this.path).finally(() => (this.starting = null));
    return this.starting;
  }

  private async open(path: string): Promise<boolean> {
    const worker = new Worker(this.workerPath, {
      workerData: { path, limits: this.limits } satisfies RecorderWorkerOptions,
      resourceLimits: { maxYoungGenerationSizeMb: RECORDER_WORKER_YOUNG_MB },
    });
    const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const first = await new Promise<FromRecorderWorker>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (error) => resolve({ type: 'unavailable', reason: error.message }));
      void ended.then(() => resolve({ type: 'unavailable', reason: 'the recorder thread ended as it started' }));
    });
    if (first.type !== 'opened') {
      const why = first.type === 'unavailable' ? first.reason : `the recorder thread said ${first.type} first`;
      void worker.terminate();
      this.set('unavailable', why, `porthole: not recording history: ${why}`);
      return false;
    }
    if (first.note) this.say(`porthole: ${first.note}`);
    const post = (message: ToRecorderWorker) => worker.postMessage(message);
    // Recording has begun once the table as it is now is in the history (the stream's first
    // message to a new subscriber), not before: a viewer that turns it on and then asks the
    // history finds what is there now.
    let begun = () => {};
    const firstRecorded = new Promise<void>((resolve) => (begun = resolve));
    const running: Running = {
      worker,
      subscription: this.poller.subscribe((json) => post({ type: 'message', json })),
      retry: null,
      ended,
    };
    this.running = running;
    worker.on('message', (answer: FromRecorderWorker) => {
      this.answered(running, path, answer);
      begun();
    });
    worker.on('error', (error) => this.lost(running, path, error.message));
    void ended.then(() => {
      this.lost(running, path, 'the recorder thread ended');
      begun();
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([firstRecorded, new Promise((resolve) => (timer = setTimeout(resolve, FIRST_RECORD_WAIT_MS)))]);
    clearTimeout(timer);
    if (this.running !== running) return false; // lost meanwhile: said
    if (this.status.state !== 'paused') this.set('recording', null);
    return true;
  }

  private answered(running: Running, path: string, answer: FromRecorderWorker): void {
    if (this.running !== running) return;
    const { subscription } = running;
    if (answer.type === 'gap') subscription.resync();
    else if (answer.type === 'recorded' && this.status.state === 'paused') {
      if (running.retry) clearInterval(running.retry);
      running.retry = null;
      this.set('recording', null, `porthole: recording history again (${path})`);
    } else if (answer.type === 'failed' && this.status.state !== 'paused') {
      this.set('paused', answer.reason, `porthole: history paused, the live view goes on: ${answer.reason} (${path})`);
      running.retry = setInterval(() => subscription.resync(), RETRY_MS);
      running.retry.unref();
    }
    subscription.ack();
  }

  /** The thread failed or ended unasked (its heap, a crash): what it committed stays; recording stops, said. */
  private lost(running: Running, path: string, why: string): void {
    if (this.running !== running) return;
    this.release(running);
    this.set('unavailable', why, `porthole: history stopped, the live view goes on: ${why} (${path})`);
  }

  private release(running: Running): void {
    this.running = null;
    running.subscription.close();
    if (running.retry) clearInterval(running.retry);
  }

  /**
   * Stops recording (what was committed stays); `off`: a user turned it off, said so. Resolves
   * once the thread has closed the history.
   */
  async stop(off = false): Promise<void> {
    await this.starting;
    const running = this.running;
    if (running) {
      this.release(running);
      running.worker.postMessage({ type: 'stop' } satisfies ToRecorderWorker);
      const timer = setTimeout(() => void running.worker.terminate(), STOP_WAIT_MS);
      await running.ended;
      clearTimeout(timer);
    }
    if (off)
      this.set(
        'off',
        'recording is turned off',
        this.path ? `porthole: recording turned off (${this.path})` : undefined,
      );
  }
}
