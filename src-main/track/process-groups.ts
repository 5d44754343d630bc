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
  /** The listening and active sockets together, in the order given (empty when not asked for). */
  members: Socket[];
  /** Ended connections still in the kernel's table (TIME_WAIT, CLOSE), counted apart. */
  leftovers: Socket[];
  /** Of the listening and active sockets, how many are TCP (a view orders TCP first without a pass over them). */
  tcpMembers: number;
}

/** What a group's leftovers are, by state ("TIME_WAIT 298, CLOSE 2"). */
export function leftoverStates(group: ProcessGroup): Partial<Record<SocketState, number>> {
  const states: Partial<Record<SocketState, number>> = {};
  for (const s of group.leftovers) states[s.state] = (states[s.state] ?? 0) + 1;
  return states;
}

const listenerKey = (s: Pick<Socket, 'host' | 'netns' | 'protocol' | 'localPort'>) =>
  `${s.host ?? ''}|${s.netns ?? ''}|${s.protocol}|${s.localPort}`;

/**
 * The owner of each listening port (by machine, namespace, protocol and port): who a socket on that
 * port that no process holds any more belongs to. Made once per table, used per filtering.
 */
export function listenerOwnersOf(table: Iterable<Socket>): Map<string, number> {
  const owners = new Map<string, number>();
  for (const s of table) noteListenerOwner(owners, s);
  return owners;
}

/** Adds `s` to `owners` when it is a listener with an owner (the first one seen per port stays). */
export function noteListenerOwner(owners: Map<string, number>, s: Socket): void {
  if (s.pid === null || !isListening(s)) return;
  const key = listenerKey(s);
  if (!owners.has(key)) owners.set(key, s.pid);
}

/**
 * Which group of a grouping each socket joined, by its place in the grouped list: the groups in
 * the order they were made (`made`), and each socket's one there (`groupOf`). With it a part of
 * the list (a filter's result) is grouped again without resolving an owner a row: groupSubset().
 */
export interface GroupPlaces {
  made: ProcessGroup[];
  groupOf: Int32Array;
}

/**
 * Groups sockets by owner, keeping their order within each group and between groups. A socket no
 * process holds any more (a server's TIME_WAIT) joins the process it was last seen with, or else
 * the owner of the listener on its local port: the 300 TIME_WAIT behind a dev server are that
 * server's.
 *
 * @param sockets the sockets to group, in the order they are to be shown
 * @param listenerOwners listenerOwnersOf(the whole table): listeners not in `sockets` still name an owner
 * @param withMembers whether to list `members` too (a view that shows listening and active sockets
 *   apart has no use for them: one list fewer, 25,000 pushes fewer a keystroke)
 * @param places filled, when given, with which group each socket joined (see GroupPlaces)
 */
export function groupByProcess(
  sockets: readonly Socket[],
  listenerOwners: ReadonlyMap<string, number> = listenerOwnersOf(sockets),
  withMembers = true,
  places?: GroupPlaces,
): ProcessGroup[] {
  // Per machine, by pid (-1: no visible owner): no key string made per socket (50,000 a keystroke),
  // and the last group found kept at hand (sorted rows come in runs of one owner).
  const byHost = new Map<string | undefined, Map<number, ProcessGroup>>();
  const ordered: ProcessGroup[] = [];
  const numbers = new Map<ProcessGroup, number>();
  let last: ProcessGroup | null = null;
  let lastNumber = -1;
  for (let i = 0; i < sockets.length; i++) {
    const socket = sockets[i];
    const pid = socket.pid ?? socket.lastPid ?? listenerOwners.get(listenerKey(socket)) ?? null;
    let group: ProcessGroup | undefined;
    if (last !== null && last.pid === pid && last.host === socket.host) group = last;
    else {
      let groups = byHost.get(socket.host);
      if (!groups) byHost.set(socket.host, (groups = new Map()));
      group = groups.get(pid ?? -1);
      if (!group) {
        group = emptyGroup(`${socket.host ?? ''}|${pid ?? '-'}`, pid, socket.host);
        groups.set(pid ?? -1, group);
        numbers.set(group, ordered.length);
        ordered.push(group);
      }
      last = group;
      lastNumber = numbers.get(group)!;
    }
    if (places) places.groupOf[i] = lastNumber;
    if (group.name === null && pid !== null && socket.pid === pid) group.name = socket.processName;
    addToGroup(group, socket, withMembers);
  }
  if (places) places.made = [...ordered];
  return orderGroups(ordered, (g) => numbers.get(g)!);
}

function emptyGroup(key: string, pid: number | null, host: string | undefined): ProcessGroup {
  return { key, pid, host, name: null, listening: [], active: [], members: [], leftovers: [], tcpMembers: 0 };
}

/** A socket into its group's lists (what ended apart; listening and active apart). */
function addToGroup(group: ProcessGroup, socket: Socket, withMembers: boolean): void {
  if (isLeftover(socket)) {
    group.leftovers.push(socket);
    return;
  }
  if (withMembers) group.members.push(socket);
  if (socket.protocol === 'tcp') group.tcpMembers++;
  if (isListening(socket)) group.listening.push(socket);
  else group.active.push(socket);
}

/**
 * Owners with live TCP first (what a developer came for), then other live ones; then those with
 * only leftovers; no visible owner last. Within each, in the order of their first socket: the
 * view's sort (by port, by traffic, by process) orders the groups too.
 * @param firstSeen where a group's first socket is in the list grouped
 */
function orderGroups(groups: ProcessGroup[], firstSeen: (group: ProcessGroup) => number): ProcessGroup[] {
  const rank = (g: ProcessGroup) =>
    g.pid === null ? 3 : g.tcpMembers > 0 ? 0 : g.listening.length + g.active.length > 0 ? 1 : 2;
  const ranks = new Map(groups.map((g) => [g, rank(g) * 1e9 + firstSeen(g)]));
  return groups.sort((a, b) => ranks.get(a)! - ranks.get(b)!);
}

/**
 * groupByProcess() of a part of a grouped list, from that grouping: `subset` holds sockets of the
 * list in its order, `at` their places in it. A group all of whose sockets are in the part is
 * answered as it is (its lists not copied); one with some is made anew from those; one with none
 * is left out. Typing a process's name at 50,000 rows keeps whole groups: no owner resolved and no
 * row pushed again.
 */
export function groupSubset(
  grouped: GroupPlaces,
  subset: readonly Socket[],
  at: Int32Array,
  withMembers = true,
): ProcessGroup[] {
  const { made, groupOf } = grouped;
  const counts = new Int32Array(made.length);
  const first = new Int32Array(made.length).fill(-1);
  for (let k = 0; k < at.length; k++) {
    const g = groupOf[at[k]];
    if (counts[g]++ === 0) first[g] = k;
  }
  const parts: (ProcessGroup | null)[] = made.map((group, g) => {
    if (counts[g] === 0) return null;
    const size = group.listening.length + group.active.length + group.leftovers.length;
    return counts[g] === size ? group : emptyGroup(group.key, group.pid, group.host);
  });
  for (let k = 0; k < at.length; k++) {
    const g = groupOf[at[k]];
    const part = parts[g]!;
    if (part === made[g]) continue; // whole: as it is
    const socket = subset[k];
    if (part.name === null && part.pid !== null && socket.pid === part.pid) part.name = socket.processName;
    addToGroup(part, socket, withMembers);
  }
  const shown: ProcessGroup[] = [];
  const firstOf = new Map<ProcessGroup, number>();
  parts.forEach((part, g) => {
    if (part === null) return;
    shown.push(part);
    firstOf.set(part, first[g]);
  });
  return orderGroups(shown, (g) => firstOf.get(g)!);
}
