// The renderer's copy of the socket table, kept from the stream: plain TypeScript (the Pinia store
// wraps it), so applying messages is tested without a browser.
import type {
  Delta,
  EventMode,
  NetNamespace,
  ProcessInfo,
  PublishedPort,
  Resync,
  ScanStats,
  Socket,
  SocketKey,
  StreamMessage,
  TcpTraffic,
} from '../../../src-main/shared/contract';
import { applyDelta } from '../../../src-main/track/apply-delta';
import { diffTables } from '../../../src-main/track/diff';
import { socketKey } from '../../../src-main/track/identity';
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

export class LiveTable {
  readonly sockets = new Map<SocketKey, Socket>();
  readonly processes = new Map<number, ProcessInfo>();
  /** Closed sockets shown for a few seconds after they went. */
  readonly lingering = new Map<SocketKey, Socket>();
  readonly highlights = new Map<SocketKey, { kind: Highlight; at: number }>();
  seq = -1;
  at = '';
  stats: ScanStats | null = null;
  /** Whether the host records every TCP change (kernel events) or only polls; null until told. */
  eventMode: EventMode | null = null;
  /** The host's poll interval (ms); null until told. */
  intervalMs: number | null = null;
  /** Finished connections the host could not send to this view (it fell behind), since it opened. */
  chainsDropped = 0;
  /** The network namespaces and published ports, as last sent whole (empty: one namespace). */
  namespaces: NetNamespace[] = [];
  publishedPorts: PublishedPort[] = [];
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
    if (message.type === 'resync') return this.resync(message.resync, now);
    const delta = message.delta;
    if (delta.since !== this.seq) return 'gap';
    for (const key of delta.removed) {
      const socket = this.sockets.get(key);
      if (socket) this.lingering.set(key, socket);
      this.highlights.set(key, { kind: 'removed', at: now });
    }
    applyDelta(this.sockets, delta);
    for (const socket of delta.added) {
      const key = socketKey(socket);
      this.lingering.delete(key);
      this.highlights.set(key, { kind: 'added', at: now });
    }
    for (const change of delta.changed) {
      if (change.from.state !== undefined || change.from.pid !== undefined)
        this.highlights.set(change.key, { kind: 'changed', at: now });
    }
    for (const p of delta.processes) this.processes.set(p.pid, p);
    const at = Date.parse(delta.at);
    for (const socket of delta.added) if (socket.traffic) this.sample(socketKey(socket), socket.traffic, at);
    for (const change of delta.changed) if (change.to.traffic) this.sample(change.key, change.to.traffic, at);
    for (const update of delta.traffic ?? []) this.sample(update.key, update.traffic, at);
    for (const key of delta.removed) this.rateHistory.delete(key);
    this.seq = delta.seq;
    this.at = delta.at;
    this.stats = delta.stats;
    if (delta.eventMode) this.eventMode = delta.eventMode;
    this.chainsDropped += delta.chainsDropped ?? 0;
    if (delta.namespaces) this.namespaces = delta.namespaces;
    if (delta.publishedPorts) this.publishedPorts = delta.publishedPorts;
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

  /** Drops highlights and lingering rows older than HIGHLIGHT_MS; true when something went. */
  expire(now: number): boolean {
    let changed = false;
    for (const [key, h] of this.highlights) {
      if (now - h.at < HIGHLIGHT_MS) continue;
      this.highlights.delete(key);
      this.lingering.delete(key);
      changed = true;
    }
    return changed;
  }

  private resync(resync: Resync, now: number): Delta {
    const next = new Map<SocketKey, Socket>();
    for (const socket of resync.sockets) next.set(socketKey(socket), socket);
    const { added, removed, changed } = diffTables(this.sockets, next);
    const delta: Delta = {
      seq: resync.seq,
      since: this.seq,
      at: resync.at,
      added,
      removed,
      changed,
      processes: resync.processes,
      stats: resync.stats ?? this.stats ?? emptyStats(),
    };
    this.sockets.clear();
    for (const [key, socket] of next) this.sockets.set(key, socket);
    for (const key of removed) this.rateHistory.delete(key);
    this.processes.clear();
    for (const p of resync.processes) this.processes.set(p.pid, p);
    this.seq = resync.seq;
    this.at = resync.at;
    this.stats = resync.stats;
    if (resync.eventMode) this.eventMode = resync.eventMode;
    if (resync.intervalMs) this.intervalMs = resync.intervalMs;
    this.namespaces = resync.namespaces ?? [];
    this.publishedPorts = resync.publishedPorts ?? [];
    // A first resync is the table, not news: nothing is highlighted.
    if (delta.since >= 0)
      for (const socket of added) this.highlights.set(socketKey(socket), { kind: 'added', at: now });
    return delta;
  }
}
