// "Who talks to whom", process first (the reading of Little Snitch and Sloth): a table's sockets
// grouped by the process that owns them, each group's listeners and live connections, and what
// ended (TIME_WAIT, CLOSE) summed apart. Pure: the Connections view and the CLI group alike.

import type { Socket, SocketState } from '../shared/contract';
import { isLeftover, isListening } from './views';

export interface ProcessGroup {
  /** `<host>|<pid>`, or `<host>|-` for sockets whose owner is not visible. */
  key: string;
  /** null: no visible owner. */
  pid: number | null;
  /** The source it was read on; undefined for this machine. */
  host: string | undefined;
  /** The owner's name as the sockets carry it (null when no socket names one). */
  name: string | null;
  /** Listening sockets (TCP LISTEN, bound UDP). */
  listening: Socket[];
  /** Everything else that is not over: live connections, connected UDP, Unix sockets. */
  active: Socket[];
  /** Ended connections still in the kernel's table (TIME_WAIT, CLOSE), counted apart. */
  leftovers: Socket[];
}

/** What a group's leftovers are, by state ("TIME_WAIT 298, CLOSE 2"). */
export function leftoverStates(group: ProcessGroup): Partial<Record<SocketState, number>> {
  const states: Partial<Record<SocketState, number>> = {};
  for (const s of group.leftovers) states[s.state] = (states[s.state] ?? 0) + 1;
  return states;
}

const isTcp = (s: Socket) => s.protocol === 'tcp';
const listenerKey = (s: Pick<Socket, 'host' | 'netns' | 'protocol' | 'localPort'>) =>
  `${s.host ?? ''}|${s.netns ?? ''}|${s.protocol}|${s.localPort}`;

/**
 * Groups sockets by owner, keeping their order within each group. A socket no process holds any
 * more (a server's TIME_WAIT) joins the process it was last seen with, or else the owner of the
 * listener on its local port: the 300 TIME_WAIT behind a dev server are that server's.
 *
 * @param sockets the sockets to group, in the order they are to be shown
 * @param table every socket of the table (listeners not in `sockets` still name an owner)
 */
export function groupByProcess(sockets: readonly Socket[], table: Iterable<Socket> = sockets): ProcessGroup[] {
  const listenerOwners = new Map<string, number>();
  for (const s of table)
    if (s.pid !== null && isListening(s) && !listenerOwners.has(listenerKey(s)))
      listenerOwners.set(listenerKey(s), s.pid);
  const groups = new Map<string, ProcessGroup>();
  for (const socket of sockets) {
    const pid = socket.pid ?? socket.lastPid ?? listenerOwners.get(listenerKey(socket)) ?? null;
    const key = `${socket.host ?? ''}|${pid ?? '-'}`;
    let group = groups.get(key);
    if (!group) {
      group = { key, pid, host: socket.host, name: null, listening: [], active: [], leftovers: [] };
      groups.set(key, group);
    }
    if (group.name === null && pid !== null && socket.pid === pid) group.name = socket.processName;
    if (isLeftover(socket)) group.leftovers.push(socket);
    else if (isListening(socket)) group.listening.push(socket);
    else group.active.push(socket);
  }
  // Owners with live TCP first (what a developer came for), then other live ones, by name; then
  // those with only leftovers; no visible owner last.
  const tcp = (g: ProcessGroup) => g.listening.some(isTcp) || g.active.some(isTcp);
  const rank = (g: ProcessGroup) =>
    g.pid === null ? 3 : tcp(g) ? 0 : g.listening.length + g.active.length > 0 ? 1 : 2;
  return [...groups.values()].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.name ?? '~').localeCompare(b.name ?? '~') ||
      (a.pid ?? 0) - (b.pid ?? 0) ||
      (a.host ?? '').localeCompare(b.host ?? ''),
  );
}
