// "Watch this port": what changed on a watched port between two readings of the table, as the
// alerts a person wants — it became free, it was taken (by whom), its owner exited. Pure; the
// renderer feeds it the table after each change and shows the alerts as notifications.

import type { Socket } from '../shared/contract';
import { formatEndpoint } from './identity';
import { isListening } from './views';

export interface WatchedPort {
  protocol: 'tcp' | 'udp';
  port: number;
}

export interface PortAlert {
  kind: 'free' | 'taken' | 'owner-exited';
  port: WatchedPort;
  /** One sentence, for the notification's body. */
  message: string;
}

/** At most this many ports are watched: each is a scan of the listeners per change. */
export const MAX_WATCHED_PORTS = 32;

interface Holder {
  pid: number | null;
  name: string;
  endpoint: string;
}

const label = (p: WatchedPort) => `${p.protocol} port ${p.port}`;
const who = (h: Holder) => (h.pid === null ? 'an owner Porthole cannot see' : `${h.name} (pid ${h.pid})`);

const keyOf = (protocol: string, port: number | null) => `${protocol}:${port}`;

/** Porthole's own namespace's listeners (TCP) or bound sockets (UDP) on the watched ports, in one pass. */
function holdersOn(sockets: Iterable<Socket>, watched: ReadonlySet<string>): Map<string, Holder[]> {
  const holders = new Map<string, Holder[]>([...watched].map((key) => [key, []]));
  for (const s of sockets) {
    const list = s.netns === undefined && isListening(s) ? holders.get(keyOf(s.protocol, s.localPort)) : undefined;
    list?.push({ pid: s.pid, name: s.processName ?? '?', endpoint: formatEndpoint(s.localAddress, s.localPort) });
  }
  return holders;
}

export class PortWatch {
  private readonly watched = new Map<string, { port: WatchedPort; holders: Holder[] | null }>();

  get ports(): WatchedPort[] {
    return [...this.watched.values()].map((w) => w.port);
  }

  /** Starts watching (its state now is the baseline: no alert for it); false past MAX_WATCHED_PORTS. */
  watch(port: WatchedPort): boolean {
    const key = keyOf(port.protocol, port.port);
    if (this.watched.has(key)) return true;
    if (this.watched.size >= MAX_WATCHED_PORTS) return false;
    this.watched.set(key, { port: { protocol: port.protocol, port: port.port }, holders: null });
    return true;
  }

  unwatch(port: WatchedPort): void {
    this.watched.delete(keyOf(port.protocol, port.port));
  }

  isWatched(port: WatchedPort): boolean {
    return this.watched.has(keyOf(port.protocol, port.port));
  }

  /**
   * The alerts since the last reading. An owner that holds no socket at all any more is gone (the
   * table knows processes only by their sockets: one that exited and one that closed every socket
   * look the same); one that closed only its listener is not.
   */
  update(sockets: readonly Socket[]): PortAlert[] {
    const alerts: PortAlert[] = [];
    let holding: Set<number> | null = null;
    const holdsAny = (pid: number) => {
      if (!holding) {
        holding = new Set();
        for (const s of sockets) for (const p of s.pids) holding.add(p);
      }
      return holding.has(pid);
    };
    const holders = holdersOn(sockets, new Set(this.watched.keys()));
    for (const [key, entry] of this.watched) {
      const now = holders.get(key)!;
      const before = entry.holders;
      entry.holders = now;
      if (before === null) continue;
      const pidsBefore = new Set(before.map((h) => h.pid));
      const pidsNow = new Set(now.map((h) => h.pid));
      const gone = before.filter((h) => !pidsNow.has(h.pid));
      for (const h of gone)
        if (h.pid !== null && !holdsAny(h.pid))
          alerts.push({
            kind: 'owner-exited',
            port: entry.port,
            message: `${who(h)}, which held ${label(entry.port)} (${h.endpoint}), is gone: it holds no socket now.`,
          });
      if (before.length > 0 && now.length === 0) {
        alerts.push({
          kind: 'free',
          port: entry.port,
          message: `${label(entry.port)} is free: nothing listens on it now.`,
        });
        continue;
      }
      const arrived = now.filter((h) => !pidsBefore.has(h.pid));
      if (arrived.length > 0)
        alerts.push({
          kind: 'taken',
          port: entry.port,
          message: `${label(entry.port)} was taken by ${who(arrived[0])} on ${arrived[0].endpoint}.`,
        });
    }
    return alerts;
  }
}
