// Fans the delta stream out to subscribers, each at its own pace. A subscriber acknowledges what it
// applied; one that falls behind (slow link, hidden window) gets its deltas coalesced into one, and
// one too far behind gets a full resync instead: nothing is ever queued without bound.

import type {
  Delta,
  ProcessInfo,
  Resync,
  SocketChange,
  SocketKey,
  StreamMessage,
  TcpTraffic,
} from '../shared/contract';
import { socketKey } from './identity';

/** `b` applied after `a`, as one delta: applying it equals applying `a` then `b`. */
export function composeDeltas(a: Delta, b: Delta): Delta {
  const added = new Map(a.added.map((s) => [socketKey(s), s]));
  const removed = new Set<SocketKey>(a.removed);
  const changed = new Map<SocketKey, SocketChange>(a.changed.map((c) => [c.key, c]));
  for (const key of b.removed) {
    if (added.delete(key)) continue; // added and gone within the window; an older copy stays removed
    changed.delete(key);
    removed.add(key);
  }
  for (const socket of b.added) added.set(socketKey(socket), socket);
  for (const change of b.changed) {
    if (added.has(change.key)) {
      added.set(change.key, change.to);
      continue;
    }
    const earlier = changed.get(change.key);
    changed.set(
      change.key,
      earlier ? { key: change.key, from: { ...change.from, ...earlier.from }, to: change.to } : change,
    );
  }
  // Traffic figures: the newest per connection; an added or changed socket carries its own.
  const traffic = new Map<SocketKey, TcpTraffic>((a.traffic ?? []).map((u) => [u.key, u.traffic]));
  for (const key of b.removed) traffic.delete(key);
  for (const socket of b.added) traffic.delete(socketKey(socket));
  for (const change of b.changed) traffic.delete(change.key);
  for (const update of b.traffic ?? []) traffic.set(update.key, update.traffic);
  // A pid gone in one and sent in the other is what the later one says; the two lists stay apart.
  const processes = new Map<number, ProcessInfo>(a.processes.map((p) => [p.pid, p]));
  const processesGone = new Set(a.processesGone);
  for (const p of b.processes) {
    processes.set(p.pid, p);
    processesGone.delete(p.pid);
  }
  for (const pid of b.processesGone ?? []) {
    processes.delete(pid);
    processesGone.add(pid);
  }
  const composed: Delta = {
    seq: b.seq,
    since: a.since,
    at: b.at,
    added: [...added.values()],
    removed: [...removed],
    changed: [...changed.values()],
    processes: [...processes.values()],
    stats: b.stats,
  };
  if (processesGone.size > 0) composed.processesGone = [...processesGone];
  if (traffic.size > 0) composed.traffic = [...traffic].map(([key, figures]) => ({ key, traffic: figures }));
  const chains = [...(a.chains ?? []), ...(b.chains ?? [])];
  // A subscriber far behind keeps the newest finished connections, not an unbounded history, and
  // is told how many it was not sent.
  if (chains.length > 0) composed.chains = chains.slice(-MAX_COALESCED_CHAINS);
  const dropped = (a.chainsDropped ?? 0) + (b.chainsDropped ?? 0) + Math.max(0, chains.length - MAX_COALESCED_CHAINS);
  if (dropped > 0) composed.chainsDropped = dropped;
  const eventMode = b.eventMode ?? a.eventMode;
  if (eventMode) composed.eventMode = eventMode;
  // Sent whole when they change: the newest whole list wins.
  const namespaces = b.namespaces ?? a.namespaces;
  if (namespaces) composed.namespaces = namespaces;
  const publishedPorts = b.publishedPorts ?? a.publishedPorts;
  if (publishedPorts) composed.publishedPorts = publishedPorts;
  return composed;
}

/** Finished connections kept when deltas are coalesced for a slow subscriber: a burst of 20,000
 * connections (40,000 ends) in under a second fits whole. */
export const MAX_COALESCED_CHAINS = 50_000;

export interface StreamLimits {
  /** Messages a subscriber may have unacknowledged before its deltas are held and coalesced. */
  window: number;
  /** A held, coalesced delta bigger than this (entries) is dropped for a full resync. */
  maxPendingEntries: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { window: 4, maxPendingEntries: 50_000 };

interface Subscriber {
  /** The seq the subscriber will be at once it has applied everything sent. */
  seq: number;
  inFlight: number;
  paused: boolean;
  pending: Delta | null;
  needsResync: boolean;
  /** Finished connections it was owed and not sent (a resync carries none), for its next delta. */
  droppedChains: number;
}

const chainCount = (d: Delta | null) => (d?.chains?.length ?? 0) + (d?.chainsDropped ?? 0);

const size = (d: Delta) => d.added.length + d.removed.length + d.changed.length;

export class DeltaStream<Id> {
  private readonly subscribers = new Map<Id, Subscriber>();

  constructor(
    private readonly send: (id: Id, message: StreamMessage) => void,
    private readonly current: () => Resync,
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  ) {}

  /** A new subscriber starts from the whole current state. */
  subscribe(id: Id): void {
    this.subscribers.set(id, {
      seq: -1,
      inFlight: 0,
      paused: false,
      pending: null,
      needsResync: true,
      droppedChains: 0,
    });
    this.flush(id);
  }

  unsubscribe(id: Id): void {
    this.subscribers.delete(id);
  }

  publish(delta: Delta): void {
    for (const [id, sub] of this.subscribers) {
      if (sub.needsResync) {
        // The resync it is owed will include this table, but no finished connection.
        if (sub.seq >= 0) sub.droppedChains += chainCount(delta);
        continue;
      }
      sub.pending = sub.pending ? composeDeltas(sub.pending, delta) : delta;
      this.flush(id);
      // Only what is held is bounded: a delta sent at once (a first table's owners, a change of
      // every socket) would only be replaced by the whole table, and lose its finished connections.
      if (sub.pending && size(sub.pending) > this.limits.maxPendingEntries) {
        sub.droppedChains += chainCount(sub.pending);
        sub.pending = null;
        sub.needsResync = true;
      }
    }
  }

  /** The subscriber applied one more message. */
  ack(id: Id): void {
    const sub = this.subscribers.get(id);
    if (!sub) return;
    sub.inFlight = Math.max(0, sub.inFlight - 1);
    this.flush(id);
  }

  /** A hidden window or a paused view: hold its deltas (coalesced) until it shows again. */
  setPaused(id: Id, paused: boolean): void {
    const sub = this.subscribers.get(id);
    if (!sub) return;
    sub.paused = paused;
    this.flush(id);
  }

  /** The subscriber saw a gap or lost its state: it gets the whole state next. */
  requestResync(id: Id): void {
    const sub = this.subscribers.get(id);
    if (!sub) return;
    if (sub.seq >= 0) sub.droppedChains += chainCount(sub.pending);
    sub.pending = null;
    sub.needsResync = true;
    this.flush(id);
  }

  /** For tests and the status bar: what a subscriber is owed. */
  backlog(id: Id): { inFlight: number; pendingEntries: number; needsResync: boolean } | undefined {
    const sub = this.subscribers.get(id);
    return (
      sub && {
        inFlight: sub.inFlight,
        pendingEntries: sub.pending ? size(sub.pending) : 0,
        needsResync: sub.needsResync,
      }
    );
  }

  private flush(id: Id): void {
    const sub = this.subscribers.get(id);
    if (!sub || sub.paused || sub.inFlight >= this.limits.window) return;
    if (sub.needsResync) {
      const resync = this.current();
      sub.needsResync = false;
      if (sub.seq >= 0) sub.droppedChains += chainCount(sub.pending);
      sub.pending = null;
      sub.seq = resync.seq;
      sub.inFlight++;
      this.send(id, { type: 'resync', resync });
      return;
    }
    if (!sub.pending) return;
    // A subscriber in step gets the published delta itself: one object that every such subscriber
    // shares, so the host serialises it once however many subscribers there are.
    let delta: Delta = sub.pending.since === sub.seq ? sub.pending : { ...sub.pending, since: sub.seq };
    if (sub.droppedChains > 0) {
      delta = { ...delta, chainsDropped: (delta.chainsDropped ?? 0) + sub.droppedChains };
      sub.droppedChains = 0;
    }
    sub.pending = null;
    sub.seq = delta.seq;
    sub.inFlight++;
    this.send(id, { type: 'delta', delta });
  }
}
