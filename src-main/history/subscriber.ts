// The recorder as one more subscriber of the poll stream (beside the UI's viewers): each message
// recorded in one transaction, then acknowledged. A history that cannot be written (a full disk,
// a read-only folder) pauses recording, said once, while the live view goes on; it is tried again
// on the next resync.

import type { StreamMessage } from '../shared/contract';
import type { Poller } from '../poll/poller';
import { HistoryRecorder } from './recorder';
import { HistoryStore } from './store';

/** How often a paused recorder asks for the whole table again, to try writing once more. */
const RETRY_MS = 60_000;

export function startRecording(poller: Poller, path: string, say: (line: string) => void): { stop(): void } | null {
  let store: HistoryStore;
  try {
    const opening = HistoryStore.open(path);
    store = opening.store;
    if (opening.note) say(`porthole: ${opening.note}`);
  } catch (error) {
    say(`porthole: not recording history: ${(error as Error).message}`);
    return null;
  }
  const recorder = new HistoryRecorder(store);
  let paused: string | null = null;
  let retry: NodeJS.Timeout | null = null;
  const subscription = poller.subscribe((json) => {
    try {
      const message = JSON.parse(json) as StreamMessage;
      if (paused && message.type !== 'resync') return;
      if (recorder.receive(message) === 'gap') subscription.resync();
      else if (paused) {
        say(`porthole: recording history again (${path})`);
        paused = null;
        if (retry) clearInterval(retry);
        retry = null;
      }
    } catch (error) {
      if (paused === null) {
        paused = (error as Error).message;
        say(`porthole: history paused, the live view goes on: ${paused} (${path})`);
        retry = setInterval(() => subscription.resync(), RETRY_MS);
        retry.unref();
      }
    } finally {
      subscription.ack();
    }
  });
  return {
    stop() {
      subscription.close();
      if (retry) clearInterval(retry);
      store.close();
    },
  };
}
