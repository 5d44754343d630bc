// The delta stream: coalescing is exact, a slow subscriber is held to a bounded backlog and catches
// up to the same table, a gap leads to a resync.
import { describe, expect, it } from 'vitest';
import type { ConnectionChain, Delta, Scan, Socket, StreamMessage } from '../../src-main/shared/contract';
import { applyDelta, StreamTable, type AppliedTable } from '../../src-main/track/stream-table';
import { composeDeltas, DeltaStream, MAX_COALESCED_CHAINS } from '../../src-main/track/delta-stream';
import { socketKey } from '../../src-main/track/identity';
import { Tracker } from '../../src-main/track/tracker';
import { processInfo, tcp } from '../helpers/sockets';

const scanOf = (sockets: Socket[]): Scan => ({
  sockets,
  processes: [],
  stats: { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 },
});

const trafficOf = (bytesAcked: number, bytesReceived: number) => ({
  bytesAcked,
  bytesReceived,
  segmentsOut: 1,
  segmentsIn: 1,
  retransmits: 0,
  rttMs: null,
  deliveryRate: null,
  sendRate: null,
  receiveRate: null,
});

/** A deterministic churning table (with traffic figures that move): connections come and go, change state and owner. */
function* churn(rounds: number, size = 40): Generator<Socket[]> {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const states = ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSE_WAIT', 'TIME_WAIT'] as const;
  for (let round = 0; round < rounds; round++) {
    const sockets: Socket[] = [];
    for (let i = 0; i < size; i++) {
      if (random() < 0.3) continue;
      const pid = random() < 0.1 ? 200 : 100;
      sockets.push(
        tcp('127.0.0.1:3000', `127.0.0.1:${7000 + i}`, {
          inode: 1000 + i,
          state: states[Math.floor(random() * states.length)],
          pid,
          pids: [pid],
          traffic: trafficOf(Math.floor(random() * 4) * 1000, round),
        }),
      );
    }
    yield sockets;
  }
}

const keysAndStates = (table: AppliedTable) =>
  [...table.entries()].map(([k, s]) => `${k} ${s.state} ${s.pid} ${JSON.stringify(s.traffic)}`).sort();

describe('composeDeltas', () => {
  it('applying the composition equals applying each delta in turn', () => {
    const tracker = new Tracker();
    const deltas = [...churn(60)].map((sockets) => tracker.update(scanOf(sockets), new Date()));
    for (let start = 0; start < 50; start += 7) {
      const base: AppliedTable = new Map();
      for (const d of deltas.slice(0, start)) applyDelta(base, d);
      const stepwise = new Map(base);
      const composed = new Map(base);
      let combined: Delta | null = null;
      for (const d of deltas.slice(start, start + 10)) {
        applyDelta(stepwise, d);
        combined = combined ? composeDeltas(combined, d) : d;
      }
      applyDelta(composed, combined!);
      expect(keysAndStates(composed)).toEqual(keysAndStates(stepwise));
      expect(combined!.since).toBe(deltas[start].since);
      expect(combined!.seq).toBe(deltas[Math.min(start + 9, deltas.length - 1)].seq);
    }
  });

  it('composes the processes sent and gone: the consumer ends with the processes of each delta in turn', () => {
    // Pids 1–12 come and go, and come back as other processes (a new start time): pid reuse.
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const tracker = new Tracker();
    const deltas = Array.from({ length: 40 }, (_, round) => {
      const alive = Array.from({ length: 12 }, (_, i) =>
        processInfo(i + 1, { startedAt: String(Math.floor(random() * 3) + round) }),
      );
      return tracker.update({ ...scanOf([]), processes: alive.filter(() => random() < 0.5) }, new Date());
    });
    const start = tracker.current();
    const fed = (messages: Delta[]) => {
      const table = new StreamTable();
      table.applyMessage({ type: 'resync', resync: { ...start, seq: 0, processes: [] } });
      for (const delta of messages) expect(table.applyMessage({ type: 'delta', delta })).not.toBe('gap');
      return [...table.processes.values()].sort((a, b) => a.pid - b.pid);
    };
    for (let from = 0; from < 30; from += 3) {
      const combined = deltas.slice(from, from + 8).reduce(composeDeltas);
      const gone = new Set(combined.processesGone);
      expect(combined.processes.filter((p) => gone.has(p.pid))).toEqual([]);
      expect(fed([...deltas.slice(0, from), combined])).toEqual(fed(deltas.slice(0, from + 8)));
    }
    expect(fed(deltas)).toEqual([...start.processes].sort((a, b) => a.pid - b.pid));
  });

  it('holds a stream from elsewhere to its processes, counting the ones it says went', () => {
    const limits = { maxSockets: 10, maxProcesses: 3 };
    const table = new StreamTable({ limits });
    const base = { at: '', added: [], removed: [], changed: [], stats: scanOf([]).stats };
    table.applyMessage({
      type: 'resync',
      resync: { seq: 1, at: '', sockets: [], processes: [1, 2, 3].map((pid) => processInfo(pid)), stats: null },
    });
    table.applyMessage({
      type: 'delta',
      delta: { ...base, seq: 2, since: 1, processes: [processInfo(4)], processesGone: [1] },
    });
    expect([...table.processes.keys()]).toEqual([2, 3, 4]);
    expect(() =>
      table.applyMessage({
        type: 'delta',
        delta: { ...base, seq: 3, since: 2, processes: [processInfo(5)], processesGone: [1] },
      }),
    ).toThrow(/would grow over 3/);
  });

  it('cancels a socket added and removed inside the window, and keeps the earliest "from" of a change', () => {
    const a = tcp('127.0.0.1:1', '127.0.0.1:2', { inode: 1 });
    const base = { seq: 1, since: 0, at: '', processes: [], stats: scanOf([]).stats };
    const composed = composeDeltas(
      { ...base, added: [a], removed: [], changed: [] },
      { ...base, seq: 2, since: 1, added: [], removed: [socketKey(a)], changed: [] },
    );
    expect(composed).toMatchObject({ added: [], removed: [], changed: [], since: 0, seq: 2 });
    const b = tcp('127.0.0.1:1', '127.0.0.1:3', { inode: 2 });
    const c1 = { key: socketKey(b), from: { state: 'SYN_SENT' as const }, to: { ...b, state: 'ESTABLISHED' as const } };
    const c2 = {
      key: socketKey(b),
      from: { state: 'ESTABLISHED' as const },
      to: { ...b, state: 'CLOSE_WAIT' as const },
    };
    const both = composeDeltas(
      { ...base, added: [], removed: [], changed: [c1] },
      { ...base, seq: 2, since: 1, added: [], removed: [], changed: [c2] },
    );
    expect(both.changed).toEqual([{ key: socketKey(b), from: { state: 'SYN_SENT' }, to: c2.to }]);
  });
});

describe('DeltaStream', () => {
  function setup(limits = { window: 4, maxPendingEntries: 50_000 }) {
    const tracker = new Tracker();
    const inbox: StreamMessage[] = [];
    const stream = new DeltaStream<string>(
      (_, message) => inbox.push(message),
      () => tracker.current(),
      limits,
    );
    return { tracker, inbox, stream };
  }
  /** A subscriber that applies what it receives the way the renderer store does. */
  function consume(inbox: StreamMessage[], table: AppliedTable, state: { seq: number }): number {
    let applied = 0;
    for (const message of inbox.splice(0)) {
      if (message.type === 'resync') {
        table.clear();
        applyDelta(table, { added: message.resync.sockets, removed: [], changed: [] });
        state.seq = message.resync.seq;
      } else {
        expect(message.delta.since).toBe(state.seq);
        applyDelta(table, message.delta);
        state.seq = message.delta.seq;
      }
      applied++;
    }
    return applied;
  }

  it('starts with a resync, then sends one delta per poll while the subscriber keeps up', () => {
    const { tracker, inbox, stream } = setup();
    tracker.update(scanOf([tcp('127.0.0.1:3000', null)]), new Date());
    stream.subscribe('w');
    expect(inbox.map((m) => m.type)).toEqual(['resync']);
    const table: AppliedTable = new Map();
    const state = { seq: -1 };
    for (const sockets of churn(20)) {
      stream.publish(tracker.update(scanOf(sockets), new Date()));
      const applied = consume(inbox, table, state);
      for (let i = 0; i < applied; i++) stream.ack('w');
      expect(keysAndStates(table)).toEqual(
        keysAndStates(new Map(tracker.current().sockets.map((s) => [socketKey(s), s]))),
      );
    }
    expect(state.seq).toBe(tracker.currentSeq);
  });

  it('a subscriber 10,000 deltas behind holds a bounded backlog and catches up to the same table', () => {
    const { tracker, inbox, stream } = setup();
    stream.subscribe('slow');
    const table: AppliedTable = new Map();
    const state = { seq: -1 };
    consume(inbox, table, state); // the resync; never acknowledged yet
    let maxPending = 0;
    for (const sockets of churn(10_000)) {
      stream.publish(tracker.update(scanOf(sockets), new Date()));
      maxPending = Math.max(maxPending, stream.backlog('slow')!.pendingEntries);
    }
    // The window (4 unacknowledged: the resync and 3 deltas) filled at once; the other 9,997
    // deltas were coalesced into one, never bigger than the table's churn allows.
    expect(inbox.map((m) => m.type)).toEqual(['delta', 'delta', 'delta']);
    consume(inbox, table, state);
    expect(maxPending).toBeLessThanOrEqual(40 * 2);
    for (let i = 0; i < 4; i++) stream.ack('slow');
    expect(inbox).toHaveLength(1);
    consume(inbox, table, state);
    expect(state.seq).toBe(10_000);
    expect(keysAndStates(table)).toEqual(
      keysAndStates(new Map(tracker.current().sockets.map((s) => [socketKey(s), s]))),
    );
  });

  it('sends a subscriber in step a delta past the bound as it is: only what is held is bounded', () => {
    const { tracker, inbox, stream } = setup({ window: 2, maxPendingEntries: 5 });
    const sockets = Array.from({ length: 20 }, (_, i) =>
      tcp('127.0.0.1:3000', `127.0.0.1:${6000 + i}`, { inode: i + 1 }),
    );
    tracker.update(scanOf(sockets), new Date());
    stream.subscribe('viewer');
    const table: AppliedTable = new Map();
    const state = { seq: -1 };
    consume(inbox, table, state); // the resync, not acknowledged: one of its window of two
    // Every socket's owner found at once (a first table sent before its owners): 20 changes.
    const owned = sockets.map((s) => ({ ...s, pid: 7, pids: [7] }));
    stream.publish(tracker.update(scanOf(owned), new Date()));
    expect(inbox.map((m) => m.type)).toEqual(['delta']);
    consume(inbox, table, state);
    expect(keysAndStates(table)).toEqual(keysAndStates(new Map(owned.map((s) => [socketKey(s), s]))));
    // Held (its window full), the same is past the bound: a resync once it has room.
    stream.publish(tracker.update(scanOf(sockets), new Date()));
    expect(inbox).toEqual([]);
    expect(stream.backlog('viewer')).toEqual({ inFlight: 2, pendingEntries: 0, needsResync: true });
  });

  it('a backlog past its bound is dropped for a resync; a hidden subscriber gets nothing until shown', () => {
    const { tracker, inbox, stream } = setup({ window: 1, maxPendingEntries: 5 });
    stream.subscribe('hidden');
    inbox.length = 0;
    stream.ack('hidden');
    stream.setPaused('hidden', true);
    for (const sockets of churn(50)) stream.publish(tracker.update(scanOf(sockets), new Date()));
    expect(inbox).toHaveLength(0);
    expect(stream.backlog('hidden')).toEqual({ inFlight: 0, pendingEntries: 0, needsResync: true });
    stream.setPaused('hidden', false);
    expect(inbox).toHaveLength(1);
    expect(inbox[0]).toMatchObject({ type: 'resync', resync: { seq: 50 } });
  });

  it('tells a subscriber how many finished connections it was not sent: past the coalescing bound, and across a resync', () => {
    const chainsOf = (n: number, from: number): ConnectionChain[] =>
      Array.from({ length: n }, (_, i) => ({
        key: `tcp|127.0.0.1:${from + i}|127.0.0.1:80`,
        localAddress: '127.0.0.1',
        localPort: from + i,
        remoteAddress: '127.0.0.1',
        remotePort: 80,
        pid: 1,
        steps: [],
        complete: true,
      }));
    const withChains = (delta: Delta, n: number, from: number): Delta => ({ ...delta, chains: chainsOf(n, from) });
    const { tracker, inbox, stream } = setup({ window: 1, maxPendingEntries: 50_000 });
    stream.subscribe('slow');
    inbox.length = 0; // the resync, unacknowledged: deltas wait
    const each = (MAX_COALESCED_CHAINS * 2) / 5; // three of them: 6/5 of the bound
    for (let i = 0; i < 3; i++) stream.publish(withChains(tracker.between(new Date()), each, i * each));
    stream.ack('slow');
    const [coalesced] = inbox.splice(0) as { type: 'delta'; delta: Delta }[];
    expect(coalesced.delta.chains).toHaveLength(MAX_COALESCED_CHAINS);
    expect(coalesced.delta.chains!.at(-1)!.localPort).toBe(3 * each - 1); // the newest are kept
    expect(coalesced.delta.chainsDropped).toBe(3 * each - MAX_COALESCED_CHAINS);

    // A resync carries the table, not finished connections: those it replaced are counted in the
    // next delta the subscriber gets.
    stream.publish(withChains(tracker.between(new Date()), 5, 0));
    stream.requestResync('slow');
    stream.ack('slow');
    expect(inbox.splice(0).map((m) => m.type)).toEqual(['resync']);
    stream.publish(withChains(tracker.between(new Date()), 7, 0));
    stream.ack('slow');
    const [next] = inbox.splice(0) as { type: 'delta'; delta: Delta }[];
    expect(next.delta.chains).toHaveLength(7);
    expect(next.delta.chainsDropped).toBe(5);
    // Counted once: the delta after says nothing more.
    stream.publish(tracker.between(new Date()));
    stream.ack('slow');
    expect((inbox[0] as { delta: Delta }).delta.chainsDropped).toBeUndefined();
  });

  it('a subscriber that reports a gap is resynced', () => {
    const { tracker, inbox, stream } = setup();
    stream.subscribe('s');
    stream.publish(tracker.update(scanOf([tcp('127.0.0.1:1', null)]), new Date()));
    stream.requestResync('s');
    stream.ack('s');
    stream.ack('s');
    expect(inbox.map((m) => m.type)).toEqual(['resync', 'delta', 'resync']);
  });
});
