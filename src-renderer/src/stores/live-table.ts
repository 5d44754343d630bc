// The renderer's copy of the socket table: the stream's table (track/stream-table.ts) with what a
// view adds — rows highlighted as they change, closed rows lingering a moment, rate histories.
// Plain TypeScript (the Pinia store wraps it), so it is tested without a browser.
import type { Delta, Socket, SocketKey, StreamMessage, TcpTraffic } from '../../../src-main/shared/contract';
import { diffTables } from '../../../src-main/track/diff';
import { socketKey } from '../../../src-main/track/identity';
import { StreamTable } from '../../../src-main/track/stream-table';
import { emptyStats } from '../../../src-main/shared/contract';

export type Highlight = 'added' | 'changed' | 'removed';

/** How long new, changed and closed rows stay highlighted; closed rows linger that long. */
export const HIGHLIGHT_MS = 4000;

/** One reading of a connection's rates, for its sparkline. */
export interface RateSample {
  /** Wall-clock ms of the scan. */
  at: number;
  sendRate: number;
  receiveRate: number;
}
/** Readings kept per connection (a minute at the default 1 s poll), and connections kept: bounded. */
export const HISTORY_SAMPLES = 60;
export const HISTORY_CONNECTIONS = 2_000;

export class LiveTable extends StreamTable {
  /** Closed sockets shown for a few seconds after they went. */
  readonly lingering = new Map<SocketKey, Socket>();
  readonly highlights = new Map<SocketKey, { kind: Highlight; at: number }>();
  /**
   * Recent rates of the connections whose figures moved, newest connection last (the oldest is
   * dropped beyond HISTORY_CONNECTIONS): a sparkline has a past from the moment one is opened.
   */
  readonly rateHistory = new Map<SocketKey, RateSample[]>();

  /**
   * Applies one message. Returns the delta it amounted to (a resync is turned into the difference
   * from what was shown, so histories carry on), or 'gap' when a delta does not follow on.
   */
  receive(message: StreamMessage, now: number): Delta | 'gap' {
    const since = this.seq;
    const statsBefore = this.stats;
    const received = this.applyMessage(message);
    if (received === 'gap') return 'gap';
    if (received.type === 'resync') {
      const { resync, previous } = received;
      const { added, removed, changed } = diffTables(previous, this.sockets);
      for (const key of removed) this.rateHistory.delete(key);
      // A first resync is the table, not news: nothing is highlighted.
      if (since >= 0) for (const socket of added) this.highlights.set(socketKey(socket), { kind: 'added', at: now });
      return {
        seq: resync.seq,
        since,
        at: resync.at,
        added,
        removed,
        changed,
        processes: resync.processes,
        stats: resync.stats ?? statsBefore ?? emptyStats(),
      };
    }
    const { delta, applied } = received;
    for (const socket of applied.gone) {
      const key = socketKey(socket);
      this.lingering.set(key, socket);
      this.highlights.set(key, { kind: 'removed', at: now });
      this.rateHistory.delete(key);
    }
    // A delta that follows on from seq 0 (the empty table of a loop that had not polled yet) is
    // the first table, not news, as a first resync is: nothing it adds is highlighted.
    const first = delta.since === 0;
    for (const socket of delta.added) {
      const key = socketKey(socket);
      this.lingering.delete(key);
      if (!first) this.highlights.set(key, { kind: 'added', at: now });
    }
    for (const change of delta.changed) {
      if (change.from.state !== undefined || change.from.pid !== undefined)
        this.highlights.set(change.key, { kind: 'changed', at: now });
    }
    const at = Date.parse(delta.at);
    for (const socket of delta.added) if (socket.traffic) this.sample(socketKey(socket), socket.traffic, at);
    for (const change of delta.changed) if (change.to.traffic) this.sample(change.key, change.to.traffic, at);
    for (const update of delta.traffic ?? []) this.sample(update.key, update.traffic, at);
    return delta;
  }

  private sample(key: SocketKey, traffic: TcpTraffic, at: number): void {
    if (traffic.sendRate === null || traffic.receiveRate === null) return;
    const samples = this.rateHistory.get(key) ?? [];
    this.rateHistory.delete(key); // re-inserted last: the map's order is the least recently moved first
    samples.push({ at, sendRate: traffic.sendRate, receiveRate: traffic.receiveRate });
    if (samples.length > HISTORY_SAMPLES) samples.shift();
    this.rateHistory.set(key, samples);
    if (this.rateHistory.size > HISTORY_CONNECTIONS) this.rateHistory.delete(this.rateHistory.keys().next().value!);
  }

  /**
   * Drops highlights and lingering rows older than HIGHLIGHT_MS. Says what went: 'rows' when a
   * lingering row left the table, 'highlights' when only rows' glow did (the rows stay as they
   * were: a view need not sort and group them again), null when nothing.
   */
  expire(now: number): 'rows' | 'highlights' | null {
    let went: 'rows' | 'highlights' | null = null;
    for (const [key, h] of this.highlights) {
      if (now - h.at < HIGHLIGHT_MS) continue;
      this.highlights.delete(key);
      if (this.lingering.delete(key)) went = 'rows';
      else went ??= 'highlights';
    }
    return went;
  }
}
