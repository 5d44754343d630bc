// Connections process first: each owner's listeners and live sockets, what ended summed apart and
// given to the process it was last with or to the listener's owner, TCP owners first.
import { describe, expect, it } from 'vitest';
import { groupByProcess, leftoverStates } from '../../src-main/track/process-groups';
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
