// Messages between the main thread and the poll worker. The worker keeps the table and a delta
// stream per subscriber; what crosses to the main thread is JSON text, which a host forwards to
// its window or socket without parsing (a string is copied in one piece, where a 20k-object
// array would be cloned field by field on the main thread).

import type { ConnectionChain } from '../shared/contract';

export interface PollWorkerOptions {
  intervalMs: number;
  /** Record every TCP state change from the kernel's events where permitted (default true). */
  events?: boolean;
  /** The kernel's event buffer per CPU (KiB); the tracer's default when absent. */
  eventBufferKb?: number;
  /**
   * Each TCP connection's byte counters (tcp_info) and rates (default true): what a viewer shows.
   * A host that shows none (the exporter, the recorder) leaves them out, which spares the kernel
   * filling them for every connection, and the loop a copy of a row for each that moved, each poll.
   */
  traffic?: boolean;
  /**
   * Names the tracefs instances of this worker's event readers (porthole-PID-TAG-…): a host whose
   * worker died removes them by it, even those the worker had no time to tell it about.
   */
  eventTag?: string;
}

/**
 * The poll worker's young generation (MB; V8's default lets it grow to 48). The poll's objects live
 * across the turns it gives the event loop and are promoted either way; a bigger nursery only
 * holds more garbage between collections. Measured at 64,000 sockets, `watch --json`: RSS
 * 199–256 MB at V8's default, 218–221 MB at 24, CPU alike.
 */
export const POLL_WORKER_YOUNG_MB = 24;
/** The event reader's (MB): it keeps a few thousand events at most, each gone within a second. */
export const EVENT_WORKER_YOUNG_MB = 6;

/** A subscriber: one window, one browser tab, one `watch`. */
export type SubscriberId = string;

export type ToPollWorker =
  | { type: 'interval'; ms: number }
  | { type: 'subscribe'; id: SubscriberId }
  | { type: 'unsubscribe'; id: SubscriberId }
  | { type: 'ack'; id: SubscriberId }
  | { type: 'pause'; id: SubscriberId; paused: boolean }
  | { type: 'resync'; id: SubscriberId }
  | { type: 'current'; requestId: number }
  /** The table as a snapshot document (export/snapshot.ts), serialised once per table version. */
  | { type: 'snapshot'; requestId: number }
  /** What the tray icon shows (track/tray.ts), from the table where it is. */
  | { type: 'tray'; requestId: number }
  /** What the exporter's metrics need (export/metrics.ts TableMetrics), from the table where it is. */
  | { type: 'metrics'; requestId: number }
  | { type: 'stop' };

export type FromPollWorker =
  /** A StreamMessage (the delta stream of docs/format.md) as JSON, for each of these subscribers. */
  | { type: 'stream'; ids: SubscriberId[]; json: string }
  /** The whole current state (a Resync) as JSON. */
  | { type: 'current'; requestId: number; json: string }
  /** The table as a porthole.snapshot document, as JSON. */
  | { type: 'snapshot'; requestId: number; json: string }
  /** A TrayModel as JSON. */
  | { type: 'tray'; requestId: number; json: string }
  | { type: 'metrics'; requestId: number; json: string }
  | { type: 'error'; message: string }
  /** After every poll, read or failed: the loop is alive (its host watches for silence). */
  | { type: 'alive' };

/** The event reader thread (event-worker.ts), started by the poll worker. */
export interface EventWorkerOptions {
  /** The kernel's event buffer per CPU (KiB); the tracer's default when absent. */
  bufferKbPerCpu?: number;
  /** PollWorkerOptions.eventTag, for the name of its instance. */
  tag?: string;
}

export type FromEventWorker =
  /**
   * First, once: whether kernel events are recorded, and why not; `instance`, the tracefs folder it
   * records into, removed by the poll worker if the reader dies without removing it.
   */
  | { type: 'mode'; active: boolean; reason: string | null; instance?: string }
  /** Connections that ended since the last message, and the kernel's lost count so far. */
  | { type: 'chains'; chains: ConnectionChain[]; lost: number }
  | { type: 'error'; message: string }
  /** Every EVENT_ALIVE_MS, so the poll worker can tell a quiet reader from a stuck one. */
  | { type: 'alive' };

/** How often the event reader says it is alive. */
export const EVENT_ALIVE_MS = 1000;
