// Messages between a host's RecordingControl (subscriber.ts) and its recorder thread (recorder-worker.ts).

import type { RecorderLimits } from './recorder';

export interface RecorderWorkerOptions {
  path: string;
  limits: RecorderLimits;
}

/** A message of the stream as the poll worker sent it (JSON text), or the end. */
export type ToRecorderWorker = { type: 'message'; json: string } | { type: 'stop' };

export type FromRecorderWorker =
  /** The history is open (`note`: what was done to open it, such as an unreadable file moved aside). */
  | { type: 'opened'; note: string | null }
  /** It cannot be opened; the thread has ended. */
  | { type: 'unavailable'; reason: string }
  /** One answer a message: recorded; a gap in the stream (a resync is wanted); not recorded while paused. */
  | { type: 'recorded' }
  | { type: 'gap' }
  | { type: 'skipped' }
  /** Writing it failed: recording is paused until a resync is written. */
  | { type: 'failed'; reason: string };

/**
 * The recorder thread's young generation (MB; V8's default grows to 48): each message's objects
 * are garbage once it is recorded.
 */
export const RECORDER_WORKER_YOUNG_MB = 12;
