// Messages between the main thread and the poll worker. Deltas cross as JSON text: a string is
// copied in one piece, where a 20k-object array would be cloned field by field on the main thread.

export interface PollWorkerOptions {
  intervalMs: number;
}

export type ToPollWorker = { type: 'interval'; ms: number } | { type: 'current'; requestId: number } | { type: 'stop' };

export type FromPollWorker =
  | { type: 'delta'; seq: number; json: string }
  | { type: 'current'; requestId: number; json: string }
  | { type: 'error'; message: string };

/** The poll interval a user may choose: faster costs CPU, slower hides more short connections. */
export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 10_000;

export function clampInterval(ms: number): number {
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.round(ms)));
}
