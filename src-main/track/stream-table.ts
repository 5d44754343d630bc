// The socket table kept from the delta stream: the one implementation every consumer uses — the
// CLI's `watch`, the exporter, another machine's table in `serve --source`, and the renderer's
// LiveTable. A message is applied in order (a delta that does not follow on is a gap, and the
// consumer asks for the whole table again); a stream from elsewhere is checked whole against its
// bounds before any of it is applied, so a refused message leaves the table as it was.

import type {
  Delta,
  EventMode,
  NetNamespace,
  ProcessInfo,
  PublishedPort,
  Resync,
  ScanStats,
  Socket,
  SocketChange,
  SocketKey,
  StreamMessage,
  TrafficUpdate,
} from '../shared/contract';
import { socketKey } from './identity';

/** Sockets by their identity: what every table of the stream holds. */
export type AppliedTable = Map<SocketKey, Socket>;

/** A stream that breaks a bound or a rule of the protocol: `path` names the part, `message` why. */
export class StreamRefused extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export interface StreamTableOptions {
  /** Rewrites a socket as it enters the table (a source's machine is stamped on it); its key follows. */
  stamp?: (socket: Socket) => Socket;
  /** The table's key for a key of the stream (a source's keys carry its machine's suffix). */
  rekey?: (key: SocketKey) => SocketKey;
  /**
   * For a stream from elsewhere: the most sockets and processes it may hold, and every change
   * must name a socket it sent. Without limits (this machine's own stream) nothing is checked.
   */
  limits?: { maxSockets: number; maxProcesses: number };
}

/** What a delta did to the table, in the table's keys: what a consumer shows or passes on. */
export interface AppliedDelta {
  added: Socket[];
  /** Keys that were in the table. */
  removed: SocketKey[];
  /** The sockets those keys held. */
  gone: Socket[];
  changed: SocketChange[];
  /** Traffic figures of sockets still in the table. */
  traffic: TrafficUpdate[];
  /** The event mode, when this delta changed it (a host sends its mode with every delta). */
  eventMode: EventMode | undefined;
}

export type Received =
  | { type: 'resync'; resync: Resync; previous: AppliedTable }
  | { type: 'delta'; delta: Delta; applied: AppliedDelta }
  /** The delta did not follow on from the table's seq: nothing was applied. */
  | 'gap';

export class StreamTable {
  /** Replaced whole by a resync (the previous map is handed to the caller), changed in place by a delta. */
  sockets: AppliedTable = new Map();
  readonly processes = new Map<number, ProcessInfo>();
  /** The stream's seq applied last; -1 before the first resync. */
  seq = -1;
  at = '';
  stats: ScanStats | null = null;
  /** Whether the host records every TCP change (kernel events) or only polls; null until told. */
  eventMode: EventMode | null = null;
  /** The host's poll interval (ms); null until told. */
  intervalMs: number | null = null;
  /** The namespaces and published ports, as last sent whole (empty: one namespace). */
  namespaces: NetNamespace[] = [];
  publishedPorts: PublishedPort[] = [];
  /** Finished connections the host could not send to this consumer (it fell behind), in all. */
  chainsDropped = 0;

  constructor(private readonly options: StreamTableOptions = {}) {}

  /** Applies one message; a delta that does not follow on from `seq` is a gap and changes nothing. */
  applyMessage(message: StreamMessage): Received {
    if (message.type === 'resync')
      return { type: 'resync', resync: message.resync, previous: this.applyResync(message.resync) };
    if (message.delta.since !== this.seq) return 'gap';
    return { type: 'delta', delta: message.delta, applied: this.applyChanges(message.delta) };
  }

  /** The whole state now, as a resync: what a new subscriber or a recording starts from. */
  current(): Resync {
    return {
      seq: this.seq,
      at: this.at,
      sockets: [...this.sockets.values()],
      processes: [...this.processes.values()],
      stats: this.stats,
      namespaces: this.namespaces,
      publishedPorts: this.publishedPorts,
      ...(this.eventMode ? { eventMode: this.eventMode } : {}),
      ...(this.intervalMs ? { intervalMs: this.intervalMs } : {}),
    };
  }

  private applyResync(resync: Resync): AppliedTable {
    const limits = this.options.limits;
    if (limits && resync.sockets.length > limits.maxSockets)
      throw new StreamRefused('resync.sockets', `holds over ${limits.maxSockets} sockets`);
    if (limits && resync.processes.length > limits.maxProcesses)
      throw new StreamRefused('resync.processes', `holds over ${limits.maxProcesses} processes`);
    const stamp = this.options.stamp;
    const next = new Map<SocketKey, Socket>();
    for (const socket of resync.sockets) {
      const entered = stamp ? stamp(socket) : socket;
      next.set(socketKey(entered), entered);
    }
    const previous = this.sockets;
    this.sockets = next;
    this.processes.clear();
    for (const p of resync.processes) this.processes.set(p.pid, p);
    this.seq = resync.seq;
    this.at = resync.at;
    this.stats = resync.stats;
    if (resync.eventMode) this.eventMode = resync.eventMode;
    if (resync.intervalMs) this.intervalMs = resync.intervalMs;
    this.namespaces = resync.namespaces ?? [];
    this.publishedPorts = resync.publishedPorts ?? [];
    return previous;
  }

  /** Checked whole first (with limits), then applied: removed, added, changed, then traffic. */
  private applyChanges(delta: Delta): AppliedDelta {
    const { stamp, rekey, limits } = this.options;
    const key = rekey ?? ((k: SocketKey) => k);
    const goneKeys = delta.removed.map(key).filter((k) => this.sockets.has(k));
    const added = stamp ? delta.added.map(stamp) : delta.added;
    const changed: SocketChange[] =
      stamp || rekey
        ? delta.changed.map((c) => ({ key: key(c.key), from: c.from, to: stamp ? stamp(c.to) : c.to }))
        : delta.changed;
    if (limits) this.check(delta, new Set(goneKeys), added, changed, limits);
    const { gone, traffic } = applySocketChanges(this.sockets, goneKeys, added, changed, delta.traffic ?? [], key);
    for (const p of delta.processes) this.processes.set(p.pid, p);
    for (const pid of delta.processesGone ?? []) this.processes.delete(pid);
    const eventMode =
      delta.eventMode && JSON.stringify(delta.eventMode) !== JSON.stringify(this.eventMode)
        ? delta.eventMode
        : undefined;
    this.seq = delta.seq;
    this.at = delta.at;
    this.stats = delta.stats;
    if (delta.eventMode) this.eventMode = delta.eventMode;
    if (delta.namespaces) this.namespaces = delta.namespaces;
    if (delta.publishedPorts) this.publishedPorts = delta.publishedPorts;
    this.chainsDropped += delta.chainsDropped ?? 0;
    return { added, removed: goneKeys, gone, changed, traffic, eventMode };
  }

  private check(
    delta: Delta,
    gone: ReadonlySet<SocketKey>,
    added: Socket[],
    changed: SocketChange[],
    limits: NonNullable<StreamTableOptions['limits']>,
  ): void {
    const addedKeys = new Set(added.map(socketKey));
    for (const change of changed) {
      const known = (this.sockets.has(change.key) && !gone.has(change.key)) || addedKeys.has(change.key);
      // Never quoting what was refused.
      if (!known || socketKey(change.to) !== change.key)
        throw new StreamRefused('delta.changed', 'changes a socket it never sent');
    }
    const grown = [...addedKeys].filter((k) => !this.sockets.has(k) || gone.has(k)).length;
    if (this.sockets.size - gone.size + grown > limits.maxSockets)
      throw new StreamRefused('its table', `would grow over ${limits.maxSockets} sockets`);
    const newPids = new Set(delta.processes.map((p) => p.pid).filter((pid) => !this.processes.has(pid)));
    const gonePids = new Set((delta.processesGone ?? []).filter((pid) => this.processes.has(pid)));
    if (this.processes.size + newPids.size - gonePids.size > limits.maxProcesses)
      throw new StreamRefused('its processes', `would grow over ${limits.maxProcesses}`);
  }
}

/**
 * Applies a delta's socket changes to a table in place — removed, added, changed, then traffic —
 * and returns the sockets removed (for callers that show what went).
 */
export function applyDelta(
  table: AppliedTable,
  delta: Pick<Delta, 'added' | 'removed' | 'changed' | 'traffic'>,
): Socket[] {
  return applySocketChanges(table, delta.removed, delta.added, delta.changed, delta.traffic ?? [], (k) => k).gone;
}

/** The one place a table's sockets change: `removed` and `changed` are in the table's keys already. */
function applySocketChanges(
  table: AppliedTable,
  removed: readonly SocketKey[],
  added: readonly Socket[],
  changed: readonly SocketChange[],
  trafficUpdates: readonly TrafficUpdate[],
  key: (streamKey: SocketKey) => SocketKey,
): { gone: Socket[]; traffic: TrafficUpdate[] } {
  const gone: Socket[] = [];
  for (const k of removed) {
    const socket = table.get(k);
    if (socket) gone.push(socket);
    table.delete(k);
  }
  for (const socket of added) table.set(socketKey(socket), socket);
  for (const change of changed) table.set(change.key, change.to);
  const traffic: TrafficUpdate[] = [];
  for (const update of trafficUpdates) {
    const k = key(update.key);
    const socket = table.get(k);
    if (!socket) continue; // a connection that closed in the same poll
    table.set(k, { ...socket, traffic: update.traffic });
    traffic.push(k === update.key ? update : { key: k, traffic: update.traffic });
  }
  return { gone, traffic };
}

/** The two things a subscriber says back to the stream's server. */
export interface StreamReplies {
  /** Asks for the whole table next (after a gap). */
  resync(): void;
  /** The message is applied: the next may be sent. */
  ack(): void;
}

/**
 * The subscriber's loop, one message at a time: what the table made of it is handed on (a gap
 * instead asks for the whole table), then the message is acknowledged.
 */
export function follow<R>(received: R | 'gap', replies: StreamReplies, handle: (received: R) => void): void {
  if (received === 'gap') replies.resync();
  else handle(received);
  replies.ack();
}
