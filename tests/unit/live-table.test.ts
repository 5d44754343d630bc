// The renderer's table store logic: deltas in order, a gap detected, resyncs that carry history on.
import { describe, expect, it } from 'vitest';
import type { Delta, Resync, ScanStats, Socket } from '../../src-main/shared/contract';
import { socketKey } from '../../src-main/track/identity';
import {
  HIGHLIGHT_MS,
  HISTORY_CONNECTIONS,
  HISTORY_SAMPLES,
  LiveTable,
} from '../../src-renderer/src/stores/live-table';
import { tcp } from '../helpers/sockets';

const stats: ScanStats = { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 };
const resync = (seq: number, sockets: Socket[]): Resync => ({
  seq,
  at: new Date(seq * 1000).toISOString(),
  sockets,
  processes: [],
  stats,
});
const delta = (seq: number, since: number, over: Partial<Delta>): Delta => ({
  seq,
  since,
  at: new Date(seq * 1000).toISOString(),
  added: [],
  removed: [],
  changed: [],
  processes: [],
  stats,
  ...over,
});

describe('LiveTable', () => {
  const a = tcp('127.0.0.1:3000', '127.0.0.1:5001', { inode: 1 });
  const b = tcp('127.0.0.1:3000', '127.0.0.1:5002', { inode: 2 });

  it('applies deltas in order and highlights what is new, changed and closed', () => {
    const table = new LiveTable();
    table.receive({ type: 'resync', resync: resync(1, [a]) }, 0);
    expect(table.highlights.size).toBe(0); // the first state is not news
    table.receive({ type: 'delta', delta: delta(2, 1, { added: [b] }) }, 10);
    table.receive(
      {
        type: 'delta',
        delta: delta(3, 2, {
          changed: [{ key: socketKey(a), from: { state: 'ESTABLISHED' }, to: { ...a, state: 'CLOSE_WAIT' } }],
        }),
      },
      20,
    );
    table.receive({ type: 'delta', delta: delta(4, 3, { removed: [socketKey(b)] }) }, 30);
    expect(table.seq).toBe(4);
    expect([...table.sockets.keys()]).toEqual([socketKey(a)]);
    expect(table.sockets.get(socketKey(a))!.state).toBe('CLOSE_WAIT');
    expect(table.highlights.get(socketKey(a))!.kind).toBe('changed');
    expect(table.highlights.get(socketKey(b))!.kind).toBe('removed');
    expect(table.lingering.has(socketKey(b))).toBe(true); // closed rows linger …
    expect(table.expire(20 + HIGHLIGHT_MS)).toBe('highlights'); // a's glow goes, the rows stay …
    expect(table.highlights.has(socketKey(a))).toBe(false);
    expect(table.lingering.has(socketKey(b))).toBe(true);
    expect(table.expire(30 + HIGHLIGHT_MS)).toBe('rows');
    expect(table.lingering.size).toBe(0); // … then the closed row goes
    expect(table.expire(40 + HIGHLIGHT_MS)).toBeNull();
  });

  it('highlights nothing of a first table sent as a delta after the empty table of a loop that had not polled', () => {
    const table = new LiveTable();
    table.receive({ type: 'resync', resync: { ...resync(0, []), stats: null } }, 0);
    table.receive({ type: 'delta', delta: delta(1, 0, { added: [a] }) }, 0);
    expect(table.highlights.size).toBe(0);
    table.receive({ type: 'delta', delta: delta(2, 1, { added: [b] }) }, 0);
    expect([...table.highlights]).toEqual([[socketKey(b), { kind: 'added', at: 0 }]]);
  });

  it('reports a gap instead of applying a delta that does not follow on', () => {
    const table = new LiveTable();
    table.receive({ type: 'resync', resync: resync(5, [a]) }, 0);
    expect(table.receive({ type: 'delta', delta: delta(7, 6, { added: [b] }) }, 0)).toBe('gap');
    expect(table.seq).toBe(5);
    expect(table.sockets.size).toBe(1);
  });

  it('turns a resync into the difference from what was shown, so histories carry on', () => {
    const table = new LiveTable();
    table.receive({ type: 'resync', resync: resync(1, [a]) }, 0);
    const result = table.receive({ type: 'resync', resync: resync(9, [{ ...a, state: 'TIME_WAIT' }, b]) }, 0) as Delta;
    expect(result.added).toEqual([b]);
    expect(result.changed.map((c) => [c.from.state, c.to.state])).toEqual([['ESTABLISHED', 'TIME_WAIT']]);
    expect(table.seq).toBe(9);
  });

  it('applies a 20,000-socket resync and then a 1,000-change delta (timing: npm run bench)', () => {
    const table = new LiveTable();
    const sockets = Array.from({ length: 20_000 }, (_, i) =>
      tcp('127.0.0.1:3000', `10.0.${i >> 8}.${i & 255}:${40000 + (i % 20000)}`, { inode: i + 1 }),
    );
    table.receive({ type: 'resync', resync: resync(1, sockets) }, 0);
    const changed = sockets
      .slice(0, 1000)
      .map((s) => ({ key: socketKey(s), from: { state: s.state }, to: { ...s, state: 'CLOSE_WAIT' as const } }));
    table.receive({ type: 'delta', delta: delta(2, 1, { changed }) }, 0);
    expect(table.sockets.size).toBe(20_000);
    expect([...table.sockets.values()].filter((s) => s.state === 'CLOSE_WAIT')).toHaveLength(1000);
  });

  it('applies traffic updates to its rows and keeps a bounded history of rates for sparklines', () => {
    const figures = (rate: number | null) => ({
      bytesAcked: 10,
      bytesReceived: 0,
      segmentsOut: 1,
      segmentsIn: 1,
      retransmits: 0,
      rttMs: null,
      deliveryRate: null,
      sendRate: rate,
      receiveRate: rate === null ? null : 0,
    });
    const table = new LiveTable();
    table.receive({ type: 'resync', resync: resync(1, [{ ...a, traffic: figures(null) }]) }, 0);
    let seq = 1;
    for (let i = 0; i < HISTORY_SAMPLES + 5; i++, seq++)
      table.receive(
        { type: 'delta', delta: delta(seq + 1, seq, { traffic: [{ key: socketKey(a), traffic: figures(i) }] }) },
        0,
      );
    expect(table.sockets.get(socketKey(a))?.traffic?.sendRate).toBe(HISTORY_SAMPLES + 4);
    const history = table.rateHistory.get(socketKey(a))!;
    expect(history).toHaveLength(HISTORY_SAMPLES);
    expect(history.at(-1)).toMatchObject({ sendRate: HISTORY_SAMPLES + 4, at: seq * 1000 });
    // Many connections: the least recently moved go first, the busy one stays.
    const many = Array.from({ length: HISTORY_CONNECTIONS + 10 }, (_, i) => ({
      key: `tcp|127.0.0.1:1|127.0.0.1:${i}`,
      traffic: figures(1),
    }));
    table.receive({ type: 'delta', delta: delta(seq + 1, seq, { traffic: many }) }, 0);
    seq++;
    table.receive(
      { type: 'delta', delta: delta(seq + 1, seq, { traffic: [{ key: socketKey(a), traffic: figures(7) }] }) },
      0,
    );
    expect(table.rateHistory.size).toBe(HISTORY_CONNECTIONS);
    expect(table.rateHistory.has(socketKey(a))).toBe(true);
    expect(table.rateHistory.has(many[0].key)).toBe(false);
    // Gone: its history goes with it.
    seq++;
    table.receive({ type: 'delta', delta: delta(seq + 1, seq, { removed: [socketKey(a)] }) }, 0);
    expect(table.rateHistory.has(socketKey(a))).toBe(false);
  });
});
