// Reading the history once, for one question: opened read-only, asked, closed. One way for the CLI
// (`history`, `snapshot --at`) and for the hosts' viewers (the UI's time control, a port's timeline).

import { buildSnapshot } from '../export/snapshot';
import { emptyStats, type HostInfo, type Snapshot } from '../shared/contract';
import { tableAt } from './query';
import { HistoryStore } from './store';

/** Opens the history at `path` read-only, asks, closes; HistoryError when it cannot answer. */
export function readHistory<T>(path: string, ask: (store: HistoryStore) => T): T {
  const { store } = HistoryStore.open(path, true);
  try {
    return ask(store);
  } finally {
    store.close();
  }
}

/** The table at `at` as a snapshot document taken then (what `snapshot --at` prints). */
export function snapshotAt(store: HistoryStore, at: number, host: HostInfo): Snapshot {
  const { folded, ...table } = tableAt(store, at);
  const stats = folded > 0 ? { ...emptyStats(), foldedConnections: folded } : emptyStats();
  return buildSnapshot({ ...table, stats }, host, new Date(at));
}
