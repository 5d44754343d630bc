// What the fan-out picture draws for one port: its owners on one side, its peers on the other,
// grouped by remote host and, for a local peer, by the process at the other end; each group one
// edge whose width says how many sockets, coloured by the state most of them are in; past a limit
// the smallest groups fold into one. Pure: the renderer lays it out.

import type { Socket, SocketState } from '../shared/contract';
import { formatEndpoint } from './identity';
import { ownerLabel } from './local-peers';
import { isLiveConnection, type FanOut } from './views';

export interface PeerGroup {
  id: string;
  host: string;
  /** The process at the other end, for a peer on this machine (loopback), when the table has it. */
  process: string | null;
  count: number;
  /** Of them, live connections (views.ts's definition): what the edge's width says. */
  live: number;
  byState: Partial<Record<SocketState, number>>;
  /** The state most of its sockets are in (the edge's colour). */
  dominant: SocketState;
  /** Its sockets' 4-tuples, the first TUPLES_LISTED of them. */
  tuples: string[];
  /** Bytes a second sent and received over its sockets (0 where none has traffic figures). */
  rate: number;
}

export interface FanoutPicture {
  owners: string[];
  groups: PeerGroup[];
  /** The groups folded into one past the limit, and their sockets. */
  folded: { groups: number; sockets: number; live: number } | null;
  /** The largest group's live count (at least 1): edge widths are relative to it. */
  largest: number;
  /** The busiest group's rate (bytes/s), for widths by traffic; 0 when nothing carries figures. */
  largestRate: number;
  foldedRate: number;
}

export const TUPLES_LISTED = 20;

/**
 * @param otherEnd the socket at the other end of a connection (otherEndFinder of the whole table:
 *   a loopback peer's process is the owner of the socket whose local end is this one's remote end)
 * @param limit groups drawn; the rest fold into one
 */
export function fanoutPicture(
  view: FanOut,
  otherEnd: (socket: Socket) => Socket | undefined,
  limit = 12,
): FanoutPicture {
  const groups = new Map<string, PeerGroup>();
  for (const peer of view.peers)
    for (const socket of peer.sockets) {
      const other = otherEnd(socket);
      const process = other ? ownerLabel(other) : null;
      const id = `${peer.host}|${process ?? ''}`;
      let group = groups.get(id);
      if (!group)
        groups.set(
          id,
          (group = {
            id,
            host: peer.host,
            process,
            count: 0,
            live: 0,
            byState: {},
            dominant: socket.state,
            tuples: [],
            rate: 0,
          }),
        );
      group.count++;
      if (isLiveConnection(socket)) group.live++;
      group.rate += (socket.traffic?.sendRate ?? 0) + (socket.traffic?.receiveRate ?? 0);
      group.byState[socket.state] = (group.byState[socket.state] ?? 0) + 1;
      if (group.tuples.length < TUPLES_LISTED)
        group.tuples.push(
          `${formatEndpoint(socket.remoteAddress!, socket.remotePort)} → ${formatEndpoint(socket.localAddress, socket.localPort)} ${socket.state}`,
        );
    }
  // Live peers first: a host that only left TIME_WAIT behind is history, not fan-out.
  const sorted = [...groups.values()].sort((a, b) => b.live - a.live || b.count - a.count || a.id.localeCompare(b.id));
  for (const g of sorted)
    g.dominant = (Object.entries(g.byState) as [SocketState, number][]).sort((a, b) => b[1] - a[1])[0][0];
  const shown = sorted.length > limit ? sorted.slice(0, limit - 1) : sorted;
  const rest = sorted.slice(shown.length);
  const owners = [...new Set((view.group?.listeners ?? []).map(ownerLabel))];
  return {
    owners,
    groups: shown,
    folded: rest.length
      ? {
          groups: rest.length,
          sockets: rest.reduce((n, g) => n + g.count, 0),
          live: rest.reduce((n, g) => n + g.live, 0),
        }
      : null,
    largest: Math.max(
      1,
      ...shown.map((g) => g.live),
      rest.reduce((n, g) => n + g.live, 0),
    ),
    largestRate: Math.max(
      0,
      ...shown.map((g) => g.rate),
      rest.reduce((n, g) => n + g.rate, 0),
    ),
    foldedRate: rest.reduce((n, g) => n + g.rate, 0),
  };
}
