// This machine's stream followed into a table, in this process: the subscriber loop of the CLI's
// `watch` and of the exporter (the renderer runs the same loop over its own transport).

import type { StreamMessage } from '../shared/contract';
import { follow, type Received, type StreamTable } from '../track/stream-table';
import type { Poller, Subscription } from './poller';

/** `handle` sees each message once the table has applied it, with its JSON text as it came. */
export function followPoller(
  poller: Poller,
  table: StreamTable,
  handle: (received: Exclude<Received, 'gap'>, json: string) => void,
): Subscription {
  const subscription: Subscription = poller.subscribe((json) =>
    follow(table.applyMessage(JSON.parse(json) as StreamMessage), subscription, (received) => handle(received, json)),
  );
  return subscription;
}
