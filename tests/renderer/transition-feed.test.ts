// The Transitions feed on a busy host: it keeps far more changes than it shows, so one connection's
// changes are still there to filter for after thousands of others (the e2e test under load lost
// its connection when the feed kept only the newest 500). tests/renderer holds tests of renderer
// stores run under Node and typechecked with DOM types (tsconfig.e2e.json).
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { socketKey } from '../../src-main/track/identity';
import { FEED_SHOWN, useTransitionStore } from '../../src-renderer/src/stores/transitions';
import { LiveTable } from '../../src-renderer/src/stores/live-table';
import { sampleTable } from '../../src-renderer/src/stores/samples';
import type { Socket, SocketState } from '../../src-main/shared/contract';
import { cleanStats, delta, tcp } from '../helpers/sockets';

const stats = cleanStats;

beforeEach(() => setActivePinia(createPinia()));

describe('the Transitions feed', () => {
  it('keeps one connection\u2019s change after 3,000 others, and the newest come first', () => {
    const transitions = useTransitionStore();
    const mine = tcp('127.0.0.1:40000', '127.0.0.1:3000', { inode: 7 });
    const closing = { ...mine, state: 'TIME_WAIT' as const, pid: null, inode: 0 };
    transitions.apply(delta(1, { added: [mine] }));
    transitions.apply(delta(2, { changed: [{ key: socketKey(mine), from: { state: 'ESTABLISHED' }, to: closing }] }));
    for (let seq = 3; seq < 33; seq++) {
      const others = Array.from({ length: 100 }, (_, i) =>
        tcp(`127.0.0.1:${50000 + i}`, `127.0.0.1:${seq + 1000}`, { inode: seq * 1000 + i }),
      );
      transitions.apply(delta(seq, { added: others }));
    }
    expect(transitions.feed.length).toBeGreaterThan(FEED_SHOWN * 6);
    expect(transitions.feed.find((e) => e.key === socketKey(mine) && e.to === 'TIME_WAIT')).toBeDefined();
    expect(transitions.feed[0].at > transitions.feed.at(-1)!.at).toBe(true);
  });
});

describe('the first table', () => {
  it('is no feed of openings when it follows the empty table of a loop that had not polled yet', () => {
    const transitions = useTransitionStore();
    const sockets = [1, 2, 3].map((i) => tcp(`127.0.0.1:${3000 + i}`, `127.0.0.1:${5000 + i}`, { inode: i }));
    transitions.apply(delta(1, { added: sockets }));
    expect(transitions.feed).toEqual([]);
    const next = tcp('127.0.0.1:3009', '127.0.0.1:5009', { inode: 9 });
    transitions.apply(delta(2, { added: [next] }));
    expect(transitions.feed.map((e) => [e.kind, e.key])).toEqual([['opened', socketKey(next)]]);
  });
});

describe('owners filled in', () => {
  it('after a table sent before them are no feed events; an owner that changes later is one', () => {
    const transitions = useTransitionStore();
    const sockets = [1, 2, 3].map((i) =>
      tcp(`127.0.0.1:${3000 + i}`, null, { inode: i, pid: null, processName: null, pids: [] }),
    );
    transitions.apply(delta(1, { added: sockets, stats: { ...stats, ownersPending: true } }));
    const opened = transitions.feed.length;
    const owned = sockets.map((s) => ({ ...s, pid: 42, processName: 'api', pids: [42] }));
    const fill = owned.map((to, i) => ({ key: socketKey(sockets[i]), from: { pid: null, processName: null }, to }));
    transitions.apply(delta(2, { changed: fill }));
    expect(transitions.feed.length).toBe(opened);
    const moved = { ...owned[0], pid: 43, pids: [43] };
    transitions.apply(delta(3, { changed: [{ key: socketKey(sockets[0]), from: { pid: 42 }, to: moved }] }));
    expect(transitions.feed.length).toBe(opened + 1);
    expect(transitions.feed[0]).toMatchObject({ kind: 'owner', key: socketKey(sockets[0]) });
  });
});

describe('the charts\u2019 counts', () => {
  it('kept delta by delta, equal a count of the whole table after every delta and resync', () => {
    const transitions = useTransitionStore();
    const live = new LiveTable();
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const states: SocketState[] = ['ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'SYN_SENT', 'LISTEN'];
    const make = (i: number): Socket =>
      tcp(`127.0.0.1:${3000 + random(5)}`, random(6) === 0 ? null : `10.0.0.${random(200)}:${40000 + i}`, {
        inode: i,
        pid: random(4) === 0 ? null : 100 + random(3),
        netns: random(10) === 0 ? 4026532000 : undefined,
      });
    let serial = 0;
    let table: Socket[] = Array.from({ length: 300 }, () => make(serial++));
    const follow = (message: Parameters<LiveTable['receive']>[0]) => {
      const applied = live.receive(message, 0);
      if (applied !== 'gap') transitions.apply(applied);
    };
    follow({
      type: 'resync',
      resync: { seq: 1, at: new Date(1000).toISOString(), sockets: table, processes: [], stats },
    });
    for (let seq = 2; seq < 60; seq++) {
      const at = new Date(seq * 1000).toISOString();
      if (seq % 15 === 0) {
        // A resync now and then: what it changed reaches the counts as a difference.
        table = [...table.filter(() => random(4) > 0), ...Array.from({ length: 40 }, () => make(serial++))];
        follow({ type: 'resync', resync: { seq, at, sockets: table, processes: [], stats } });
      } else {
        const removed = table.filter(() => random(20) === 0);
        const kept = table.filter((s) => !removed.includes(s));
        const changed = kept
          .filter(() => random(10) === 0)
          .map((s) => ({ s, to: { ...s, state: states[random(states.length)], pid: random(3) ? s.pid : null } }));
        const added = Array.from({ length: random(30) }, () => make(serial++));
        table = [...kept.map((s) => changed.find((c) => c.s === s)?.to ?? s), ...added];
        follow({
          type: 'delta',
          delta: delta(seq, {
            at,
            added,
            removed: removed.map(socketKey),
            changed: changed.map(({ s, to }) => ({ key: socketKey(s), from: { state: s.state, pid: s.pid }, to })),
          }),
        });
      }
      const whole = sampleTable(at, live.sockets.values(), 0);
      const kept = transitions.samples.at(-1)!;
      expect(live.sockets.size).toBe(table.length);
      expect({ counts: kept.counts, byPort: kept.byPort, byPid: kept.byPid }).toEqual({
        counts: whole.counts,
        byPort: whole.byPort,
        byPid: whole.byPid,
      });
    }
  });
});
