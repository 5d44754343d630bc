// Comparing two tables taken apart in time, and the Markdown export.
import { describe, expect, it } from 'vitest';
import { compareTables, isSameTable, type ComparedSide } from '../../src-main/track/compare';
import { comparisonText, markdownCell, toMarkdown } from '../../src-main/export/formats';
import { buildSnapshot } from '../../src-main/export/snapshot';
import type { Socket } from '../../src-main/shared/contract';
import { tcp } from '../helpers/sockets';

const side = (label: string, sockets: Socket[]): ComparedSide => ({ label, takenAt: null, sockets, processes: [] });

describe('compareTables', () => {
  it('sorts the differences into listeners, connections, state and owner changes', () => {
    const api = tcp('127.0.0.1:3000', null, { inode: 1 });
    const db = tcp('127.0.0.1:5432', null, { pid: 200, pids: [200], processName: 'postgres', inode: 2 });
    const conn = tcp('127.0.0.1:3000', '127.0.0.1:40000', { inode: 3 });
    const lingering = tcp('127.0.0.1:3000', '127.0.0.1:40001', { inode: 4 });
    const unnamedUnix: Socket = {
      ...tcp('0.0.0.0:1', null),
      protocol: 'unix',
      family: null,
      localAddress: '',
      localPort: null,
      state: 'ESTABLISHED',
    };
    const before = [api, db, conn, lingering, unnamedUnix];
    const after = [
      // the server restarted: a new inode and pid on the same endpoint is an owner change
      { ...api, pid: 300, pids: [300], inode: 10 },
      tcp('0.0.0.0:8080', null, { inode: 11 }),
      { ...lingering, state: 'TIME_WAIT' as const, pid: null, pids: [], inode: 0, lastPid: 100 },
      tcp('127.0.0.1:3000', '127.0.0.1:40002', { inode: 12 }),
      { ...unnamedUnix, inode: 99 },
    ];
    const c = compareTables(side('before.json', before), side('after.json', after));
    expect(c.listenersOpened.map((s) => s.localPort)).toEqual([8080]);
    expect(c.listenersClosed.map((s) => s.localPort)).toEqual([5432]);
    expect(c.connectionsAppeared.map((s) => s.remotePort)).toEqual([40002]);
    expect(c.connectionsGone.map((s) => s.remotePort)).toEqual([40000]);
    expect(c.stateChanges).toEqual([{ socket: after[2], from: 'ESTABLISHED', to: 'TIME_WAIT' }]);
    expect(c.ownerChanges.map((o) => [o.socket.localPort, o.socket.remotePort, o.from.pid, o.to.pid])).toEqual([
      [3000, null, 100, 300],
      [3000, 40001, 100, null],
    ]);
    expect(c.unchanged).toBe(0);
    expect(isSameTable(c)).toBe(false);
    const text = comparisonText(c);
    expect(text).toMatch(/Listeners opened \(1\):\n {2}tcp 0\.0\.0\.0:8080 node\[100\]/);
    expect(text).toMatch(
      /State changes \(1\):\n {2}tcp 127\.0\.0\.1:3000 → 127\.0\.0\.1:40001 \(was pid 100\) ESTABLISHED → TIME_WAIT/,
    );
    expect(text).toMatch(/Owner changes \(2\):\n {2}tcp 127\.0\.0\.1:3000 node\[300\] node\[100\] → node\[300\]/);
  });

  it('finds nothing between a table and itself', () => {
    const sockets = [tcp('127.0.0.1:3000', null), tcp('127.0.0.1:3000', '127.0.0.1:4000')];
    const c = compareTables(side('a', sockets), side('b', sockets));
    expect(isSameTable(c)).toBe(true);
    expect(c.unchanged).toBe(2);
    expect(comparisonText(c)).toMatch(/No differences\./);
  });
});

describe('toMarkdown', () => {
  it('renders a table whose cells cannot break out of it', () => {
    const snapshot = buildSnapshot(
      {
        sockets: [
          tcp('127.0.0.1:3000', null, { processName: 'a|b' }),
          {
            ...tcp('0.0.0.0:1', null),
            protocol: 'unix',
            family: null,
            localAddress: '/tmp/x\n| fake |',
            localPort: null,
          },
        ],
        processes: [],
        stats: { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 },
      },
      { hostname: 'dev', platform: 'linux', release: '6.1' },
      new Date('2026-11-24T10:00:00Z'),
    );
    const lines = toMarkdown(snapshot).trimEnd().split('\n');
    expect(lines[2]).toBe('| PROTO | LOCAL | REMOTE | STATE | PID | PROCESS | UID | INODE |');
    expect(lines[3]).toBe('| --- | --- | --- | --- | --- | --- | --- | --- |');
    expect(lines).toHaveLength(6);
    expect(lines[4]).toContain('a\\|b');
    expect(lines[5]).toContain('/tmp/x\\\\n\\| fake \\|');
    expect(markdownCell('*bold* <b>')).toBe('\\*bold\\* \\<b\\>');
  });
});
