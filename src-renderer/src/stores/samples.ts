// One moment of a table for the charts: pure, shared by the live view, a replay and a snapshot.
import type { Socket, SocketState } from '../../../src-main/shared/contract';
import { isLiveConnection } from '../../../src-main/track/views';

export interface StateSample {
  at: string;
  /** null where the table at that moment is not known (a snapshot's chains tell only openings). */
  counts: Partial<Record<SocketState, number>> | null;
  /** Connected TCP sockets that appeared since the previous sample (also those shorter than a poll, in event mode). */
  opened: number;
  /** Live connections (isLiveConnection) by local port and by owning pid (the CHART_KEYS busiest of each). */
  byPort: Record<string, number>;
  byPid: Record<string, number>;
}

/**
 * One moment of a table for the charts: TCP sockets by state, and live connections by local port
 * and by owner (the busiest). The live view, a replay and a snapshot sample alike.
 */
export function sampleTable(at: string, table: Iterable<Socket>, opened: number): StateSample {
  const counts: Partial<Record<SocketState, number>> = {};
  // By number, named at the end: no string made per socket (a delta samples 50,000 of them).
  const ports = new Map<number, number>();
  const pids = new Map<number, number>();
  for (const socket of table) {
    if (socket.protocol !== 'tcp') continue;
    counts[socket.state] = (counts[socket.state] ?? 0) + 1;
    // The count every view gives a port: live connections, not the ended ones left in TIME_WAIT.
    if (!isLiveConnection(socket) || socket.netns !== undefined) continue;
    const port = socket.localPort ?? 0;
    ports.set(port, (ports.get(port) ?? 0) + 1);
    if (socket.pid !== null) pids.set(socket.pid, (pids.get(socket.pid) ?? 0) + 1);
  }
  return { at, counts, opened, byPort: busiest(ports), byPid: busiest(pids) };
}

/** Ports and processes whose connections each sample keeps (the busiest): bounded, for the details' charts. */
const CHART_KEYS = 64;
function busiest(counts: Map<number, number>): Record<string, number> {
  return Object.fromEntries(
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, CHART_KEYS)
      .map(([key, n]) => [String(key), n]),
  );
}

/**
 * A snapshot's samples: new connections a second from its finished connections (event mode), and
 * the table itself at the moment it was taken.
 */
export function snapshotSamples(snapshot: {
  takenAt: string;
  sockets: readonly Socket[];
  chains?: readonly { steps: readonly { at: number }[] }[];
}): StateSample[] {
  const perSecond = new Map<number, number>();
  for (const chain of snapshot.chains ?? []) {
    const second = Math.floor((chain.steps[0]?.at ?? 0) / 1000);
    if (second > 0) perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  const seconds = [...perSecond.keys()].sort((a, b) => a - b);
  const samples: StateSample[] = [];
  // Every second from the first opening on (a quiet second is a zero, not a gap).
  for (let s = seconds[0]; seconds.length && s <= seconds[seconds.length - 1]; s++)
    samples.push({
      at: new Date(s * 1000).toISOString(),
      counts: null,
      opened: perSecond.get(s) ?? 0,
      byPort: {},
      byPid: {},
    });
  const last = sampleTable(snapshot.takenAt, snapshot.sockets, 0);
  return [...samples.filter((s) => Date.parse(s.at) < Date.parse(snapshot.takenAt)), last];
}
