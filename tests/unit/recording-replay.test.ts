// Recordings of the stream: checked line by line and chained; replayed to any moment.
import { describe, expect, it } from 'vitest';
import { parseRecording } from '../../src-main/export/import-recording';
import { parseRendererRequest } from '../../src-main/shared/ipc';
import { Replay } from '../../src-renderer/src/stores/replay';
import { snapshotSamples } from '../../src-renderer/src/stores/samples';
import type { StreamMessage } from '../../src-main/shared/contract';
import { socketKey } from '../../src-main/track/identity';
import { processInfo, tcp } from '../helpers/sockets';

const stats = { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 };
const a = tcp('127.0.0.1:3000', null, { inode: 1 });
const b = tcp('127.0.0.1:4000', null, { inode: 2 });
const messages: StreamMessage[] = [
  { type: 'resync', resync: { seq: 1, at: '2026-11-24T10:00:00.000Z', sockets: [a], processes: [], stats } },
  {
    type: 'delta',
    delta: {
      seq: 2,
      since: 1,
      at: '2026-11-24T10:00:01.000Z',
      added: [b],
      removed: [],
      changed: [],
      processes: [],
      stats,
    },
  },
  {
    type: 'delta',
    delta: {
      seq: 3,
      since: 2,
      at: '2026-11-24T10:00:02.000Z',
      added: [],
      removed: [socketKey(a)],
      changed: [],
      processes: [],
      stats,
    },
  },
];
const ndjson = (list: unknown[]) => list.map((m) => JSON.stringify(m)).join('\n') + '\n';

describe('parseRecording', () => {
  it('reads what porthole watch --json writes', () => {
    expect(parseRecording(ndjson(messages))).toEqual(messages);
  });

  it('refuses gaps, a missing start, hostile keys and bad rows, naming the line', () => {
    expect(() => parseRecording(ndjson([messages[0], messages[2]]))).toThrow(
      /line 2: delta 3 follows on from 2, not 1: the recording has a gap/,
    );
    expect(() => parseRecording(ndjson([messages[1]]))).toThrow(/line 1: a recording starts with a resync/);
    expect(() => parseRecording('{"type":"resync","__proto__":{}}\n')).toThrow(
      /line 1: the key "__proto__" is not allowed/,
    );
    const bad = structuredClone(messages[1]) as { delta: { added: { localPort: number }[] } };
    bad.delta.added[0].localPort = 99999;
    expect(() => parseRecording(ndjson([messages[0], bad]))).toThrow(
      /line 2: delta\.added\[0\]\.localPort must be an integer/,
    );
    const gone = (pids: number[], sent: number[] = []) => {
      const line = structuredClone(messages[1]) as unknown as { delta: Record<string, unknown> };
      line.delta.processesGone = pids;
      line.delta.processes = sent.map((pid) => processInfo(pid));
      return () => parseRecording(ndjson([messages[0], line]));
    };
    expect(gone([7, 8])()[1]).toMatchObject({ delta: { processesGone: [7, 8] } });
    expect(gone([7, 7])).toThrow(/line 2: delta\.processesGone\[1\] names a pid twice, or one the delta also sends/);
    expect(gone([7], [7])).toThrow(/line 2: delta\.processesGone\[0\] names a pid twice/);
    expect(gone([0])).toThrow(/line 2: delta\.processesGone\[0\] must be an integer/);
    expect(() => parseRecording('\n\n')).toThrow(/holds no stream messages/);
    expect(() => parseRecording('{"type":"quit"}')).toThrow(/line 1: type must be "resync" or "delta"/);
  });
});

describe('Replay', () => {
  it('shows the table at any moment, forward and back', () => {
    const replay = new Replay(messages);
    expect([...replay.table.sockets.keys()]).toEqual([socketKey(a)]);
    replay.seek(Date.parse('2026-11-24T10:00:01.500Z'));
    expect(replay.table.sockets.size).toBe(2);
    expect(replay.advance(1000, 1)).toBe(false);
    expect([...replay.table.sockets.keys()]).toEqual([socketKey(b)]);
    replay.seek(replay.start);
    expect([...replay.table.sockets.keys()]).toEqual([socketKey(a)]);
    expect(replay.applied).toBe(1);
  });

  it('carries the connections that ended up to the moment shown (event mode)', () => {
    const chain = {
      key: 'tcp|127.0.0.1:50000|127.0.0.1:3000',
      localAddress: '127.0.0.1',
      localPort: 50000,
      remoteAddress: '127.0.0.1',
      remotePort: 3000,
      pid: 7,
      steps: [
        { state: 'SYN_SENT' as const, at: Date.parse('2026-11-24T10:00:01.200Z') },
        { state: 'CLOSED' as const, at: Date.parse('2026-11-24T10:00:01.300Z') },
      ],
      complete: true,
    };
    const withChain = structuredClone(messages);
    (withChain[2] as Extract<StreamMessage, { type: 'delta' }>).delta.chains = [chain];
    const replay = new Replay(parseRecording(ndjson(withChain)));
    replay.seek(Date.parse('2026-11-24T10:00:01.500Z'));
    expect(replay.chains()).toEqual([]);
    replay.seek(replay.end);
    expect(replay.chains()).toEqual([chain]);
    replay.seek(replay.start);
    expect(replay.chains()).toEqual([]);
  });
});

describe('action requests', () => {
  it('accepts well-formed actions and refuses the rest', () => {
    expect(parseRendererRequest({ type: 'doctor', id: 1, port: 3000, protocol: 'tcp', address: null }).ok).toBe(true);
    expect(
      parseRendererRequest({ type: 'kill', id: 2, pid: 4242, startedAt: '2026-11-24T09:00:00.000Z', force: false }).ok,
    ).toBe(true);
    expect(parseRendererRequest({ type: 'save', id: 3, name: 'x.json', text: '{}' }).ok).toBe(true);
    const close = { type: 'close', id: 5, localAddress: '::1', localPort: 40000, remoteAddress: '::1', remotePort: 80 };
    expect(parseRendererRequest(close).ok).toBe(true);
    for (const bad of [
      { ...close, localAddress: 'localhost' },
      { ...close, remoteAddress: '999.1.1.1' },
      { ...close, localPort: 0 },
      { ...close, remotePort: 65536 },
      { ...close, netns: 1 },
      { type: 'doctor', id: 1, port: 0, protocol: 'tcp', address: null },
      { type: 'doctor', id: 1, port: 80, protocol: 'sctp', address: null },
      { type: 'doctor', id: 1, port: 80, protocol: 'tcp', address: 'evil.example' },
      // Looked like an address to the old pattern: a wrong verdict after 10 s, or DNS lookups.
      { type: 'doctor', id: 1, port: 80, protocol: 'tcp', address: '999.1.1.1' },
      { type: 'doctor', id: 1, port: 80, protocol: 'tcp', address: 'dead.beef' },
      { type: 'doctor', id: 1, port: 80, protocol: 'tcp', address: '1:2:3' },
      { type: 'doctor', id: 1, port: 80, protocol: 'tcp', address: '::1%lo' },
      { type: 'kill', id: 2, pid: 1, startedAt: 'x', force: false },
      { type: 'kill', id: 2, pid: 4242, startedAt: 'x', force: 'yes' },
      { type: 'kill', pid: 4242, startedAt: 'x', force: false },
      { type: 'save', id: 3, name: '../../etc/passwd', text: '' },
      { type: 'save', id: 3, name: 'a.json', text: '', extra: 1 },
      { type: 'openFolder', id: 4, path: 'relative' },
      { type: 'snapshot', id: -1 },
    ])
      expect(parseRendererRequest(bad).ok, JSON.stringify(bad)).toBe(false);
  });
});

describe('charts of a replay and a snapshot', () => {
  it('a replay samples the recording message by message, up to the moment shown', () => {
    const a = tcp('127.0.0.1:3000', '127.0.0.1:5001', { inode: 1 });
    const b = tcp('127.0.0.1:3000', '127.0.0.1:5002', { inode: 2 });
    const at = (s: number) => new Date(Date.UTC(2026, 10, 29, 10, 0, s)).toISOString();
    const messages: StreamMessage[] = [
      { type: 'resync', resync: { seq: 1, at: at(0), sockets: [a], processes: [], stats } },
      {
        type: 'delta',
        delta: { seq: 2, since: 1, at: at(1), added: [b], removed: [], changed: [], processes: [], stats },
      },
      {
        type: 'delta',
        delta: { seq: 3, since: 2, at: at(2), added: [], removed: [socketKey(a)], changed: [], processes: [], stats },
      },
    ];
    const replay = new Replay(messages);
    expect(replay.samples().map((s) => s.counts?.ESTABLISHED)).toEqual([1]);
    replay.seek(Date.parse(at(2)));
    expect(replay.samples().map((s) => [s.counts?.ESTABLISHED, s.opened, s.byPort['3000']])).toEqual([
      [1, 0, 1],
      [2, 1, 2],
      [1, 0, 1],
    ]);
  });

  it('a snapshot gives new connections a second from its chains, and its table at the moment it was taken', () => {
    const taken = Date.UTC(2026, 10, 29, 10, 0, 10);
    const chain = (ms: number) => ({ steps: [{ at: ms }] });
    const samples = snapshotSamples({
      takenAt: new Date(taken).toISOString(),
      sockets: [tcp('127.0.0.1:3000', '127.0.0.1:5001', { inode: 1 })],
      chains: [chain(taken - 3000), chain(taken - 2900), chain(taken - 1000)],
    });
    expect(samples.map((s) => [s.counts, s.opened])).toEqual([
      [null, 2],
      [null, 0],
      [null, 1],
      [{ ESTABLISHED: 1 }, 0],
    ]);
  });
});
