// Connections process first: each owner's listeners and live sockets, what ended summed apart and
// given to the process it was last with or to the listener's owner, TCP owners first.
import { describe, expect, it } from 'vitest';
import {
  groupByProcess,
  groupSubset,
  leftoverStates,
  listenerOwnersOf,
  type GroupPlaces,
} from '../../src-main/track/process-groups';
import { tcp } from '../helpers/sockets';
import type { Socket } from '../../src-main/shared/contract';

const udp = (local: string, over: Partial<Socket> = {}): Socket => ({
  ...tcp(local, null, over),
  protocol: 'udp',
  state: 'UNCONN',
});

describe('groups by process', () => {
  it('gives each owner its listeners, live sockets and leftovers; TIME_WAIT to the listener it ended on', () => {
    const sockets: Socket[] = [
      udp('0.0.0.0:5353', { pid: 5, pids: [5], processName: 'avahi', inode: 1 }),
      tcp('127.0.0.1:3000', null, { pid: 10, pids: [10], processName: 'node', inode: 2, state: 'LISTEN' }),
      tcp('127.0.0.1:3000', '127.0.0.1:40000', { pid: 10, pids: [10], processName: 'node', inode: 3 }),
      tcp('127.0.0.1:40000', '127.0.0.1:3000', { pid: 20, pids: [20], processName: 'curl', inode: 4 }),
      ...Array.from({ length: 3 }, (_, i) =>
        tcp('127.0.0.1:3000', `127.0.0.1:${41000 + i}`, { pid: null, pids: [], inode: 0, state: 'TIME_WAIT' }),
      ),
      tcp('127.0.0.1:50000', '10.0.0.1:443', { pid: null, pids: [], inode: 0, state: 'TIME_WAIT', lastPid: 20 }),
      tcp('127.0.0.1:50001', '10.0.0.1:443', { pid: null, pids: [], inode: 0, state: 'CLOSE' }),
      tcp('127.0.0.1:50002', '10.0.0.1:443', { pid: null, pids: [], inode: 0, state: 'FIN_WAIT2' }),
    ];
    const groups = groupByProcess(sockets);
    const summary = groups.map(
      (g) => `${g.name ?? '-'} ${g.pid ?? '-'}: ${g.listening.length}/${g.active.length}/${g.leftovers.length}`,
    );
    // TCP owners first (in the order given), then UDP-only, no visible owner last.
    expect(summary).toEqual(['node 10: 1/1/3', 'curl 20: 0/1/1', 'avahi 5: 1/0/0', '- -: 0/1/1']);
    expect(leftoverStates(groups[0])).toEqual({ TIME_WAIT: 3 });
    expect(leftoverStates(groups[3])).toEqual({ CLOSE: 1 });
  });

  it('keeps the order it is given within a group, and machines apart', () => {
    const a = tcp('127.0.0.1:3000', '127.0.0.1:2', { pid: 10, pids: [10], processName: 'node', inode: 1 });
    const b = tcp('127.0.0.1:3000', '127.0.0.1:1', { pid: 10, pids: [10], processName: 'node', inode: 2 });
    const remote = { ...a, host: 'alpha' };
    const groups = groupByProcess([a, b, remote]);
    expect(groups.map((g) => g.key)).toEqual(['|10', 'alpha|10']);
    expect(groups[0].active).toEqual([a, b]);
  });
});

describe('groups of a part of the list', () => {
  it('equal grouping that part anew, and keep a group whole (its lists as they were) when all of it is there', () => {
    let seed = 3;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const sockets: Socket[] = Array.from({ length: 600 }, (_, i) => {
      const pid = [10, 11, 12, null][random(4)];
      const kind = random(10);
      const base = { inode: i + 1, pid, pids: pid === null ? [] : [pid], processName: pid === null ? null : `p${pid}` };
      if (kind === 0) return tcp(`127.0.0.1:${3000 + random(3)}`, null, { ...base, state: 'LISTEN' });
      if (kind === 1) return udp(`0.0.0.0:${5000 + i}`, base);
      if (kind === 2)
        return tcp(`127.0.0.1:${3000 + random(3)}`, `127.0.0.1:${40000 + i}`, {
          ...base,
          pid: null,
          pids: [],
          inode: 0,
          state: 'TIME_WAIT',
          lastPid: random(2) === 0 ? null : 11,
        });
      return tcp(`127.0.0.1:${3000 + random(3)}`, `10.0.0.${random(9)}:${40000 + i}`, base);
    });
    const owners = listenerOwnersOf(sockets);
    for (const withMembers of [true, false]) {
      const places: GroupPlaces = { made: [], groupOf: new Int32Array(sockets.length) };
      const all = groupByProcess(sockets, owners, withMembers, places);
      for (const keep of [
        (s: Socket) => s.pid === 11, // one owner, whole
        (s: Socket) => s.remoteAddress?.startsWith('10.0.0.3') ?? false, // a part of each
        (s: Socket) => s.pid !== 12 || s.inode % 2 === 0, // some whole, one in part
        () => false,
      ]) {
        const at = Int32Array.from(sockets.flatMap((s, i) => (keep(s) ? [i] : [])));
        const subset = [...at].map((i) => sockets[i]);
        const groups = groupSubset(places, subset, at, withMembers);
        expect(groups).toEqual(groupByProcess(subset, owners, withMembers));
        // A group all of whose sockets are kept is the grouping's own object.
        for (const group of groups) {
          const whole = all.find((g) => g.key === group.key)!;
          const size = (g: typeof group) => g.listening.length + g.active.length + g.leftovers.length;
          if (size(group) === size(whole)) expect(group).toBe(whole);
        }
      }
    }
  });
});
