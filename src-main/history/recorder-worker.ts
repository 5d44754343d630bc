// The flight recorder in a thread of its own (started by RecordingControl, subscriber.ts): it
// parses each message of the stream, keeps the open spans and writes SQLite, none of which
// then weighs on the host's main thread (the desktop's IPC, serve's viewers), whose heap stays
// small. One message at a time: the host sends the next once this one is answered.

import { parentPort, workerData } from 'node:worker_threads';
import { heapTrim } from '../common/heap-trim';
import type { StreamMessage } from '../shared/contract';
import { HistoryRecorder } from './recorder';
import { HistoryStore } from './store';
import type { FromRecorderWorker, RecorderWorkerOptions, ToRecorderWorker } from './recorder-protocol';

if (!parentPort) throw new Error('recorder-worker must run in a worker thread');
const port = parentPort;
const post = (message: FromRecorderWorker) => port.postMessage(message);
const { path, limits } = workerData as RecorderWorkerOptions;

// Opened, and the spans a previous recorder left open ended (the recorder's first write): a
// failure of either is said as the reason recording is unavailable, not a crash of the thread.
let opened: { store: HistoryStore; recorder: HistoryRecorder } | null = null;
try {
  const opening = HistoryStore.open(path);
  try {
    opened = { store: opening.store, recorder: new HistoryRecorder(opening.store, limits) };
  } catch (error) {
    opening.store.close();
    throw error;
  }
  post({ type: 'opened', note: opening.note });
} catch (error) {
  post({ type: 'unavailable', reason: (error as Error).message });
  port.close();
}

if (opened) {
  const { store, recorder } = opened;
  /** After a failed write only a resync (the whole table) can be recorded: a delta would miss what failed. */
  let paused = false;
  /** Each message's objects, promoted while it is recorded, collected once they pile up (common/heap-trim.ts). */
  const heap = heapTrim();
  port.on('message', (message: ToRecorderWorker) => {
    if (message.type === 'stop') {
      store.close();
      port.close();
      return;
    }
    try {
      const parsed = JSON.parse(message.json) as StreamMessage;
      if (paused && parsed.type !== 'resync') return post({ type: 'skipped' });
      const outcome = recorder.receive(parsed);
      paused = false;
      post({ type: outcome === 'gap' ? 'gap' : 'recorded' });
    } catch (error) {
      paused = true;
      post({ type: 'failed', reason: (error as Error).message });
    } finally {
      heap.check();
    }
  });
}
