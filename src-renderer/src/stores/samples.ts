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
  const counts = new TableCounts();
  for (const socket of table) counts.add(socket, 1);
  return counts.sample(at, opened);
}

/**
 * What a sample counts, kept up to date socket by socket: the live view adds what a delta added
 * and takes away what it removed, so a sample costs the delta's changes, not a pass over the
 * whole table (50,000 sockets on every delta).
 */
export class TableCounts {
  private readonly states = new Map<SocketState, number>();
  // By number, named when sampled: no string made per socket.
  private readonly ports = new Map<number, number>();
  private readonly pids = new Map<number, number>();

  /** Counts `socket` in (`sign` 1) or out (-1). */
  add(socket: Socket, sign: 1 | -1): void {
    if (socket.protocol !== 'tcp') return;
    bump(this.states, socket.state, sign);
    // The count every view gives a port: live connections, not the ended ones left in TIME_WAIT.
    if (!isLiveConnection(socket) || socket.netns !== undefined) return;
    bump(this.ports, socket.localPort ?? 0, sign);
    if (socket.pid !== null) bump(this.pids, socket.pid, sign);
  }

  sample(at: string, opened: number): StateSample {
    const counts: Partial<Record<SocketState, number>> = {};
    for (const [state, n] of this.states) counts[state] = n;
    return { at, counts, opened, byPort: busiest(this.ports), byPid: busiest(this.pids) };
  }
}

/** Adds `by` to a count, dropping it at zero (a map of every port ever seen would only grow). */
function bump<K>(counts: Map<K, number>, key: K, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n === 0) counts.delete(key);
  else counts.set(key, n);
}

/** Ports and processes whose connections each sample keeps (the busiest): bounded, for the details' charts. */
export const CHART_KEYS = 64;

/**
 * The CHART_KEYS largest counts, ties to the one counted first (what a stable sort of them all
 * would keep), picked in one pass: the live view samples on every delta, and a desktop's table
 * has a port for each client end (50,000 of them sorted, and copied to be sorted, each delta held
 * the page for tens of ms under a stream of kernel events).
 */
export function busiest(counts: ReadonlyMap<number, number>): Record<string, number> {
  // Descending by count, in the order counted among equals; at most CHART_KEYS.
  const keys: number[] = [];
  const values: number[] = [];
  for (const [key, n] of counts) {
    if (keys.length === CHART_KEYS && n <= values[CHART_KEYS - 1]) continue;
    let at = values.length;
    while (at > 0 && values[at - 1] < n) at--;
    keys.splice(at, 0, key);
    values.splice(at, 0, n);
    if (keys.length > CHART_KEYS) {
      keys.pop();
      values.pop();
    }
  }
  return Object.fromEntries(keys.map((key, i) => [String(key), values[i]]));
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
