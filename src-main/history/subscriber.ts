// The recorder as one more subscriber of the poll stream (beside the UI's viewers): each message
// recorded in one transaction, then acknowledged. A history that cannot be written (a full disk,
// a read-only folder) pauses recording, said once, while the live view goes on; it is tried again
// on the next resync. Its state is the host's to show (status bar, stderr), and a viewer may turn
// recording off and on again.

import type { HistoryStatus, StreamMessage } from '../shared/contract';
import type { Poller, Subscription } from '../poll/poller';
import { DEFAULT_LIMITS, HistoryRecorder, type RecorderLimits } from './recorder';
import { HistoryStore } from './store';

/** How often a paused recorder asks for the whole table again, to try writing once more. */
const RETRY_MS = 60_000;

export class RecordingControl {
  private status: HistoryStatus;
  private readonly listeners = new Set<(status: HistoryStatus) => void>();
  private running: { subscription: Subscription; store: HistoryStore; retry: NodeJS.Timeout | null } | null = null;

  /**
   * @param path the history file, or null where this host records none (`--no-history`)
   * @param say a line for the host's log (stderr)
   * @param limits what is kept (retention, size, connections a minute one by one)
   */
  constructor(
    private readonly poller: Poller,
    readonly path: string | null,
    private readonly say: (line: string) => void,
    private readonly limits: RecorderLimits = DEFAULT_LIMITS,
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
  start(): boolean {
    if (this.running) return true;
    if (!this.path) return false;
    const path = this.path;
    let store: HistoryStore;
    try {
      const opening = HistoryStore.open(path);
      store = opening.store;
      if (opening.note) this.say(`porthole: ${opening.note}`);
    } catch (error) {
      const why = (error as Error).message;
      this.set('unavailable', why, `porthole: not recording history: ${why}`);
      return false;
    }
    const recorder = new HistoryRecorder(store, this.limits);
    const running = { subscription: null as unknown as Subscription, store, retry: null as NodeJS.Timeout | null };
    running.subscription = this.poller.subscribe((json) => {
      const subscription = running.subscription;
      try {
        const message = JSON.parse(json) as StreamMessage;
        if (this.status.state === 'paused' && message.type !== 'resync') return;
        if (recorder.receive(message) === 'gap') subscription.resync();
        else if (this.status.state === 'paused') {
          if (running.retry) clearInterval(running.retry);
          running.retry = null;
          this.set('recording', null, `porthole: recording history again (${path})`);
        }
      } catch (error) {
        if (this.status.state !== 'paused') {
          const why = (error as Error).message;
          this.set('paused', why, `porthole: history paused, the live view goes on: ${why} (${path})`);
          running.retry = setInterval(() => subscription.resync(), RETRY_MS);
          running.retry.unref();
        }
      } finally {
        subscription.ack();
      }
    });
    this.running = running;
    this.set('recording', null);
    return true;
  }

  /** Stops recording (what was committed stays); `off`: a user turned it off, said so. */
  stop(off = false): void {
    const running = this.running;
    this.running = null;
    if (running) {
      running.subscription.close();
      if (running.retry) clearInterval(running.retry);
      running.store.close();
    }
    if (off)
      this.set(
        'off',
        'recording is turned off',
        this.path ? `porthole: recording turned off (${this.path})` : undefined,
      );
  }
}
