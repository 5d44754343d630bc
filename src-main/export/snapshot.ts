// Builds the public snapshot document (docs/format.md) from a scan: the one place that shape is made.

import type {
  ConnectionChain,
  EventMode,
  HostInfo,
  NetNamespace,
  ProcessInfo,
  PublishedPort,
  Snapshot,
  Socket,
  ScanStats,
} from '../shared/contract';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from '../shared/contract';

export function buildSnapshot(
  content: {
    sockets: Socket[];
    processes: ProcessInfo[];
    stats: ScanStats;
    eventMode?: EventMode | null;
    chains?: ConnectionChain[];
    namespaces?: NetNamespace[];
    publishedPorts?: PublishedPort[];
  },
  host: HostInfo,
  takenAt: Date,
): Snapshot {
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    takenAt: takenAt.toISOString(),
    host,
    sockets: content.sockets,
    processes: content.processes,
    stats: content.stats,
    // Optional fields only when known, so a plain poll's snapshot keeps the first version's shape.
    ...(content.eventMode ? { eventMode: content.eventMode } : {}),
    ...(content.chains?.length ? { chains: content.chains } : {}),
    ...(content.namespaces ? { namespaces: content.namespaces } : {}),
    ...(content.publishedPorts?.length ? { publishedPorts: content.publishedPorts } : {}),
  };
}
