// Identity, diff, the tracker's delta stream and the transition log: pure code, table-driven.
import { describe, expect, it } from 'vitest';
import type { Scan, Socket } from '../../src-main/shared/contract';
import { applyDelta, StreamTable } from '../../src-main/track/stream-table';
import { diffTables, indexSockets } from '../../src-main/track/diff';
import { formatEndpoint, socketKey } from '../../src-main/track/identity';
import { Tracker } from '../../src-main/track/tracker';
import { TransitionLog } from '../../src-main/track/transitions';
import { processInfo, tcp } from '../helpers/sockets';

const scanOf = (sockets: Socket[]): Scan => ({
  sockets,
  processes: [],
  stats: { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 },
});

describe('socket identity', () => {
  it.each([
    [
      'a connected TCP socket is its 4-tuple',
      tcp('127.0.0.1:3000', '127.0.0.1:51234'),
      'tcp|127.0.0.1:3000|127.0.0.1:51234',
    ],
    ['IPv6 endpoints are bracketed', tcp('[::1]:3000', '[::1]:5000'), 'tcp|[::1]:3000|[::1]:5000'],
    ['a listener is its local end and inode', tcp('0.0.0.0:3000', null, { inode: 77 }), 'tcp|0.0.0.0:3000|77'],
    [
      'UDP is its local end and inode, connected or not',
      { ...tcp('127.0.0.1:53', '127.0.0.1:9', { inode: 8 }), protocol: 'udp' as const },
      'udp|127.0.0.1:53|8',
    ],
    [
      'Unix sockets have no port',
      {
        ...tcp('127.0.0.1:1', null, { inode: 9 }),
        protocol: 'unix' as const,
        localAddress: '/run/x.sock',
        localPort: null,
        family: null,
      },
      'unix|/run/x.sock|9',
    ],
    [
      'another namespace and another machine end the key',
      tcp('[::1]:3000', '[::1]:5000', { netns: 4026532001, host: 'db-1' }),
      'tcp|[::1]:3000|[::1]:5000|net:4026532001|host:db-1',
    ],
    [
      'a listener in another namespace',
      tcp('0.0.0.0:80', null, { inode: 12, netns: 4026532001 }),
      'tcp|0.0.0.0:80|12|net:4026532001',
    ],
  ])('%s', (_name, socket, key) => {
    expect(socketKey(socket as Socket)).toBe(key);
  });

  it('stays the same when a connection drops to TIME_WAIT and loses its inode and owner', () => {
    const live = tcp('127.0.0.1:3000', '127.0.0.1:51234', { inode: 42 });
    const lingering = { ...live, state: 'TIME_WAIT' as const, inode: 0, pid: null, pids: [] };
    expect(socketKey(lingering)).toBe(socketKey(live));
  });

  it('tells SO_REUSEPORT siblings apart: same address and port, different inodes', () => {
    expect(socketKey(tcp('0.0.0.0:80', null, { inode: 1 }))).not.toBe(socketKey(tcp('0.0.0.0:80', null, { inode: 2 })));
  });

  it('formats endpoints like ss', () => {
    expect(formatEndpoint('::ffff:127.0.0.1', 80)).toBe('[::ffff:127.0.0.1]:80');
    expect(formatEndpoint('/run/a.sock', null)).toBe('/run/a.sock');
  });
});

describe('diff', () => {
  const a = tcp('127.0.0.1:3000', '127.0.0.1:1', { inode: 1 });
  const b = tcp('127.0.0.1:3000', '127.0.0.1:2', { inode: 2 });
  const c = tcp('127.0.0.1:3000', '127.0.0.1:3', { inode: 3 });

  it('reports added, removed and changed (only the changed fields, with their old values)', () => {
    const next = [{ ...a, state: 'CLOSE_WAIT' as const }, c, { ...b, pid: 200, pids: [200], processName: 'bun' }];
    const diff = diffTables(indexSockets([a, b]), indexSockets(next));
    expect(diff.added).toEqual([c]);
    expect(diff.removed).toEqual([]);
    expect(diff.changed).toEqual([
      { key: socketKey(a), from: { state: 'ESTABLISHED' }, to: next[0] },
      { key: socketKey(b), from: { pid: 100, processName: 'node', pids: [100] }, to: next[2] },
    ]);
    expect(diffTables(indexSockets(next), indexSockets([c])).removed.sort()).toEqual(
      [socketKey(a), socketKey(b)].sort(),
    );
  });

  it('sees nothing when nothing changed, even with fresh arrays', () => {
    const diff = diffTables(indexSockets([a]), indexSockets([{ ...a, pids: [...a.pids] }]));
    expect(diff).toEqual({ added: [], removed: [], changed: [] });
  });

  it('prefers the live socket when a reused 4-tuple meets its TIME_WAIT ghost', () => {
    const ghost = { ...a, state: 'TIME_WAIT' as const, inode: 0, pid: null, pids: [] };
    expect(indexSockets([a, ghost]).get(socketKey(a))).toBe(a);
    expect(indexSockets([ghost, a]).get(socketKey(a))).toBe(a);
  });
});

describe('tracker and delta stream', () => {
  it('numbers deltas strictly, starts with everything added, then only what changed', () => {
    const tracker = new Tracker();
    const listener = tcp('127.0.0.1:3000', null);
    const conn = tcp('127.0.0.1:3000', '127.0.0.1:5000', { inode: 6 });
    const first = tracker.update(scanOf([listener]), new Date('2026-01-01T00:00:00Z'));
    const second = tracker.update(scanOf([listener, conn]), new Date('2026-01-01T00:00:01Z'));
    const third = tracker.update(scanOf([listener, conn]), new Date('2026-01-01T00:00:02Z'));
    expect([first.seq, second.seq, third.seq]).toEqual([1, 2, 3]);
    expect(first.added).toEqual([listener]);
    expect(second.added).toEqual([conn]);
    expect(third).toMatchObject({ added: [], removed: [], changed: [], at: '2026-01-01T00:00:02.000Z' });
  });

  it('remembers the last owner of a connection once its owner is gone, without guessing a pid', () => {
    const tracker = new Tracker();
    const live = tcp('127.0.0.1:5000', '127.0.0.1:3000', { pid: 4242, pids: [4242], inode: 9 });
    tracker.update(scanOf([live]), new Date());
    const tw = { ...live, state: 'TIME_WAIT' as const, pid: null, pids: [], processName: null, inode: 0 };
    const delta = tracker.update(scanOf([tw]), new Date());
    expect(delta.changed[0].to).toMatchObject({ state: 'TIME_WAIT', pid: null, lastPid: 4242 });
    expect(tracker.update(scanOf([tw]), new Date()).changed).toEqual([]); // memory carries over unchanged
  });

  it('sends a process only when it is new or has changed', () => {
    const tracker = new Tracker();
    const node = {
      pid: 1,
      ppid: 0,
      name: 'node',
      command: 'node a.js',
      user: 'dev',
      uid: 1000,
      startedAt: 'x',
      cwd: '/',
    };
    const scan = { ...scanOf([]), processes: [node] };
    expect(tracker.update(scan, new Date()).processes).toEqual([node]);
    expect(tracker.update(scan, new Date()).processes).toEqual([]);
    const reused = { ...node, startedAt: 'y', command: 'python b.py' };
    expect(tracker.update({ ...scan, processes: [reused] }, new Date()).processes).toEqual([reused]);
  });

  it('tells a subscriber which processes went, so its processes stay the tracker\u2019s', () => {
    const tracker = new Tracker();
    const table = new StreamTable();
    table.applyMessage({ type: 'resync', resync: tracker.current() });
    // Short-lived processes: five new ones each round, each living three rounds.
    for (let round = 0; round < 30; round++) {
      const alive = Array.from({ length: 15 }, (_, i) =>
        processInfo(100 + round * 5 - i, { startedAt: String(100 + round * 5 - i) }),
      ).filter((p) => p.pid >= 100);
      const delta = tracker.update({ ...scanOf([]), processes: alive }, new Date());
      expect(delta.processesGone?.filter((pid) => delta.processes.some((p) => p.pid === pid)) ?? []).toEqual([]);
      expect(table.applyMessage({ type: 'delta', delta })).not.toBe('gap');
      expect([...table.processes.keys()].sort()).toEqual(alive.map((p) => p.pid).sort());
    }
    expect(tracker.update({ ...scanOf([]), processes: [] }, new Date()).processesGone).toHaveLength(15);
    expect(tracker.update({ ...scanOf([]), processes: [] }, new Date()).processesGone).toBeUndefined();
  });

  it('a subscriber applying every delta holds exactly the tracker\u2019s table', () => {
    const tracker = new Tracker();
    const table = new Map();
    const sockets = Array.from({ length: 30 }, (_, i) =>
      tcp('127.0.0.1:3000', `127.0.0.1:${6000 + i}`, { inode: 100 + i }),
    );
    let live = sockets.slice(0, 10);
    for (let round = 0; round < 20; round++) {
      applyDelta(table, tracker.update(scanOf(live), new Date()));
      expect([...table.values()].map(socketKey).sort()).toEqual(tracker.current().sockets.map(socketKey).sort());
      live = sockets
        .filter((_, i) => (i * 7 + round) % 3 !== 0)
        .map((s, i) => (i % 4 === round % 4 ? { ...s, state: 'CLOSE_WAIT' } : s));
    }
  });
});

describe('tracker fed as the collector feeds it: unchanged rows handed back as the same objects', () => {
  // A seeded walk over a small world of sockets: each scan hands back last scan's object for an
  // unchanged socket (as the collector does, TIME_WAIT rows by cookie), a copy for a changed one;
  // sockets go and come back (the very object too), drop to TIME_WAIT, connect after binding
  // (same inode, new key), and deltas are sent between scans. After each scan the tracker's table
  // must be the scan indexed afresh, and a subscriber applying the deltas must hold it.
  const random = (seed: number) => () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const fields = (s: Socket) => ({ ...s, lastPid: undefined, traffic: undefined });

  it.each([1, 2, 3, 4, 5, 6])('seed %i: the table and every subscriber agree with each scan', (seed) => {
    const next = random(seed);
    const tracker = new Tracker();
    const subscriber = new Map<string, Socket>();
    let world: Socket[] = Array.from({ length: 40 }, (_, i) =>
      i < 4
        ? tcp(`127.0.0.1:${3000 + i}`, null, { inode: 10 + i })
        : tcp('127.0.0.1:3000', `127.0.0.1:${6000 + i}`, { inode: 100 + i }),
    );
    let hidden = new Set<Socket>();
    let nextInode = 1000;
    for (let round = 0; round < 60; round++) {
      world = world.map((s) => {
        const roll = next();
        if (roll < 0.06 && s.state === 'ESTABLISHED') return { ...s, state: 'CLOSE_WAIT' };
        if (roll < 0.1 && s.inode !== 0 && s.remotePort !== null)
          return { ...s, state: 'TIME_WAIT', inode: 0, pid: null, pids: [], processName: null };
        if (roll < 0.13 && s.remotePort === null) return { ...s, localPort: 4000 + (nextInode % 50) }; // rebound
        if (roll < 0.16 && s.remotePort === null)
          return { ...s, remoteAddress: '127.0.0.1', remotePort: 7000 + (nextInode++ % 900), state: 'ESTABLISHED' };
        if (roll < 0.2) return { ...s, pid: 200 + round, pids: [200 + round] };
        return s; // unchanged: the same object
      });
      hidden = new Set(world.filter(() => next() < 0.1)); // gone this scan; the same objects may come back
      const scan = world.filter((s) => !hidden.has(s));
      if (next() < 0.3) applyDelta(subscriber, tracker.between(new Date()));
      applyDelta(subscriber, tracker.update(scanOf(scan), new Date()));
      const expected = [...indexSockets(scan)].map(([k, s]) => [k, fields(s)]).sort();
      const table = tracker
        .current()
        .sockets.map((s) => [socketKey(s), fields(s)])
        .sort();
      expect(table).toEqual(expected);
      expect([...subscriber].map(([k, s]) => [k, fields(s)]).sort()).toEqual(expected);
    }
  });
});

describe('traffic figures', () => {
  const figures = (bytesAcked: number, bytesReceived: number, segments = bytesAcked + bytesReceived) => ({
    bytesAcked,
    bytesReceived,
    segmentsOut: segments,
    segmentsIn: segments,
    retransmits: 0,
    rttMs: 0.05,
    deliveryRate: null,
    sendRate: null,
    receiveRate: null,
  });
  const at = (s: number) => new Date(2026, 0, 1, 0, 0, s);

  it('turns counters into rates per second between scans, sent apart from changes, and falls to zero once idle', () => {
    const tracker = new Tracker();
    const conn = (acked: number, received: number) =>
      tcp('127.0.0.1:3000', '127.0.0.1:5000', { inode: 6, traffic: figures(acked, received) });
    const first = tracker.update(scanOf([conn(0, 0)]), at(0));
    expect(first.added[0].traffic).toMatchObject({ sendRate: null, receiveRate: null });
    // Two seconds later: 4,000 bytes sent, 1,000 received.
    const moved = tracker.update(scanOf([conn(4_000, 1_000)]), at(2));
    expect(moved.changed).toEqual([]);
    expect(moved.traffic).toEqual([
      {
        key: 'tcp|127.0.0.1:3000|127.0.0.1:5000',
        traffic: { ...figures(4_000, 1_000), sendRate: 2_000, receiveRate: 500 },
      },
    ]);
    // The collector hands the same row back while nothing moves: rates fall to zero once, then silence.
    const same = conn(4_000, 1_000);
    const idle = tracker.update(scanOf([same]), at(3));
    expect(idle.traffic?.[0].traffic).toMatchObject({ sendRate: 0, receiveRate: 0, bytesAcked: 4_000 });
    expect(tracker.update(scanOf([same]), at(4)).traffic).toBeUndefined();
    expect(tracker.current().sockets[0].traffic).toMatchObject({ sendRate: 0, bytesAcked: 4_000 });
  });

  it('measures a rate between the two readings of the figures, not between the ends of two scans', () => {
    // A busy host: the first scan ended 0.9 s after its TCP dump, the second 0.1 s after its own.
    // 1,000 bytes over the 1 s between the dumps is 1,000 B/s (between the scans' ends: 0.2 s, 5×).
    const tracker = new Tracker();
    const conn = (acked: number) => tcp('127.0.0.1:3000', '127.0.0.1:5000', { inode: 6, traffic: figures(acked, 0) });
    const t0 = at(10).getTime();
    tracker.update({ ...scanOf([conn(0)]), trafficAt: t0 }, new Date(t0 + 900));
    const moved = tracker.update({ ...scanOf([conn(1_000)]), trafficAt: t0 + 1_000 }, new Date(t0 + 1_100));
    expect(moved.traffic?.[0].traffic).toMatchObject({ sendRate: 1_000 });
  });

  it('a state change carries the figures itself, and a counter that goes back gives no rate', () => {
    const tracker = new Tracker();
    const conn = tcp('127.0.0.1:3000', '127.0.0.1:5000', { inode: 6, traffic: figures(500, 0) });
    tracker.update(scanOf([conn]), at(0));
    const closing = tracker.update(scanOf([{ ...conn, state: 'CLOSE_WAIT', traffic: figures(1_500, 0) }]), at(1));
    expect(closing.traffic).toBeUndefined();
    expect(closing.changed[0].to.traffic).toMatchObject({ bytesAcked: 1_500, sendRate: 1_000 });
    const reused = tracker.update(scanOf([{ ...conn, state: 'CLOSE_WAIT', traffic: figures(10, 0) }]), at(2));
    expect(reused.traffic?.[0].traffic).toMatchObject({ bytesAcked: 10, sendRate: null });
  });

  it('a subscriber applying the deltas holds the tracker’s figures', () => {
    const tracker = new Tracker();
    const table = new Map();
    for (let round = 0; round < 12; round++) {
      const sockets = Array.from({ length: 8 }, (_, i) =>
        tcp('127.0.0.1:3000', `127.0.0.1:${6000 + i}`, {
          inode: 100 + i,
          traffic: figures(i % 3 === 0 ? 1000 : round * 100 * i, round > 6 ? 7 : round),
          state: round === 5 && i === 2 ? 'CLOSE_WAIT' : 'ESTABLISHED',
        }),
      );
      applyDelta(table, tracker.update(scanOf(sockets), at(round)));
      const expected = tracker.current().sockets.map((s) => [socketKey(s), s.traffic]);
      expect([...table].map(([k, s]) => [k, s.traffic]).sort()).toEqual(expected.sort());
    }
  });
});

describe('transition log', () => {
  it('keeps each connection\u2019s states with timestamps: first seen, each state entered, gone', () => {
    const tracker = new Tracker();
    const log = new TransitionLog();
    const conn = tcp('127.0.0.1:5000', '127.0.0.1:3000', { state: 'SYN_SENT', inode: 9 });
    const steps: [Socket[], string][] = [
      [[conn], '2026-01-01T00:00:00.000Z'],
      [[{ ...conn, state: 'ESTABLISHED' }], '2026-01-01T00:00:01.000Z'],
      [[{ ...conn, state: 'FIN_WAIT2' }], '2026-01-01T00:00:02.000Z'],
      [[{ ...conn, state: 'TIME_WAIT', inode: 0, pid: null, pids: [] }], '2026-01-01T00:00:03.000Z'],
      [[], '2026-01-01T00:01:03.000Z'],
    ];
    for (const [sockets, at] of steps) log.apply(tracker.update(scanOf(sockets), new Date(at)));
    expect(log.history(socketKey(conn))).toEqual({
      key: socketKey(conn),
      firstSeen: '2026-01-01T00:00:00.000Z',
      states: [
        { state: 'SYN_SENT', at: '2026-01-01T00:00:00.000Z' },
        { state: 'ESTABLISHED', at: '2026-01-01T00:00:01.000Z' },
        { state: 'FIN_WAIT2', at: '2026-01-01T00:00:02.000Z' },
        { state: 'TIME_WAIT', at: '2026-01-01T00:00:03.000Z' },
      ],
      goneAt: '2026-01-01T00:01:03.000Z',
    });
  });

  it('is bounded: per connection (keeping the first state) and in gone connections (oldest first)', () => {
    const log = new TransitionLog({ statesPerConnection: 3, goneConnections: 2 });
    const tracker = new Tracker();
    const conn = tcp('127.0.0.1:5000', '127.0.0.1:3000');
    const states = ['ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSING', 'TIME_WAIT'] as const;
    for (const state of states) log.apply(tracker.update(scanOf([{ ...conn, state }]), new Date()));
    expect(log.history(socketKey(conn))!.states.map((s) => s.state)).toEqual(['ESTABLISHED', 'CLOSING', 'TIME_WAIT']);
    const others = [1, 2, 3].map((i) => tcp('127.0.0.1:5000', `127.0.0.1:${i}`));
    for (const other of others) {
      log.apply(tracker.update(scanOf([other]), new Date()));
    }
    log.apply(tracker.update(scanOf([]), new Date()));
    expect(log.all().map((h) => h.key)).toEqual([socketKey(others[1]), socketKey(others[2])]);
  });
});
