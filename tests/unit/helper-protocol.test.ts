// The privileged helper's channel, both directions: what each side accepts and what it refuses.
import { describe, expect, it } from 'vitest';
import { LineSplitter, parseFromHelper, parseToHelper } from '../../src-main/poll/helper-protocol';
import { tcp } from '../helpers/sockets';
import { emptyCounters, tableMetrics } from '../../src-main/export/metrics';

const ID = '0123abcd-0123-4567-89ab-0123456789ab';
const stats = { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 };

describe('app → helper', () => {
  it('takes the poll worker’s requests and the one privileged action, checked', () => {
    expect(parseToHelper(JSON.stringify({ type: 'subscribe', id: ID }))).toEqual({ type: 'subscribe', id: ID });
    expect(parseToHelper(JSON.stringify({ type: 'interval', ms: 500 }))).toEqual({ type: 'interval', ms: 500 });
    const stop = { type: 'stop-process', requestId: 3, pid: 4242, startedAt: '2026-11-29T10:00:00.000Z', force: false };
    expect(parseToHelper(JSON.stringify(stop))).toEqual(stop);
    expect(parseToHelper('{"type":"snapshot","requestId":7}')).toEqual({ type: 'snapshot', requestId: 7 });
    expect(parseToHelper('{"type":"tray","requestId":8}')).toEqual({ type: 'tray', requestId: 8 });
    expect(parseToHelper('{"type":"metrics","requestId":9}')).toEqual({ type: 'metrics', requestId: 9 });
  });

  it.each([
    ['{"type":"stop"}', 'type'],
    ['{"type":"kill","pid":9}', 'type'],
    ['{"type":"subscribe","id":"../x"}', 'id'],
    ['{"type":"interval","ms":10}', 'ms'],
    ['{"type":"stop-process","requestId":1,"pid":1,"startedAt":"x","force":false}', 'pid'],
    ['{"type":"stop-process","requestId":1,"pid":99,"startedAt":"x","force":"yes"}', 'force'],
    ['{"type":"current","requestId":1,"constructor":{}}', 'the line'],
    ['{"type":"snapshot","requestId":1,"path":"/etc/shadow"}', 'snapshot'],
    ['[1,2]', 'the line'],
    ['x'.repeat(5000), 'the line'],
  ])('refuses %s', (line, path) => {
    expect(() => parseToHelper(line)).toThrow(expect.objectContaining({ path }));
  });
});

describe('helper → app', () => {
  const delta = (sockets: unknown[]) =>
    JSON.stringify({
      type: 'stream',
      ids: [ID],
      json: JSON.stringify({
        type: 'delta',
        delta: {
          seq: 2,
          since: 1,
          at: '2026-11-29T10:00:00.000Z',
          added: sockets,
          removed: [],
          changed: [],
          processes: [],
          stats,
        },
      }),
    });

  it('passes a well-formed stream message on as the text it was', () => {
    const line = delta([tcp('127.0.0.1:3000', null)]);
    const parsed = parseFromHelper(line);
    expect(parsed.type === 'stream' && JSON.parse(parsed.json)).toMatchObject({ type: 'delta' });
  });

  it('refuses a stream message the contract does not allow, and unknown messages', () => {
    expect(() => parseFromHelper(delta([{ ...tcp('127.0.0.1:3000', null), state: 'OWNED' }]))).toThrow();
    expect(() => parseFromHelper(delta([{ ...tcp('127.0.0.1:3000', null), extra: 1 }]))).toThrow();
    expect(() => parseFromHelper('{"type":"exec","command":"rm -rf /"}')).toThrow(
      expect.objectContaining({ path: 'type' }),
    );
    expect(() => parseFromHelper('{"type":"stream","ids":["nope"],"json":"{}"}')).toThrow();
  });
});

describe('helper → app: a snapshot document', () => {
  const snapshot = (sockets: unknown[]) =>
    JSON.stringify({
      type: 'snapshot',
      requestId: 7,
      json: JSON.stringify({
        format: 'porthole.snapshot',
        version: 1,
        takenAt: '2026-11-29T10:00:00.000Z',
        host: { hostname: 'vm', platform: 'linux', release: '6.1' },
        sockets,
        processes: [],
        stats,
      }),
    });

  it('is checked as an imported snapshot file is, and passed on as the text it was', () => {
    const parsed = parseFromHelper(snapshot([tcp('127.0.0.1:3000', null)]));
    expect(parsed.type === 'snapshot' && JSON.parse(parsed.json)).toMatchObject({ format: 'porthole.snapshot' });
    expect(() => parseFromHelper(snapshot([{ ...tcp('127.0.0.1:3000', null), state: 'OWNED' }]))).toThrow();
    expect(() => parseFromHelper(snapshot([{ ...tcp('127.0.0.1:3000', null), host: 'elsewhere' }]))).toThrow();
    expect(() => parseFromHelper('{"type":"snapshot","requestId":7,"json":"{\\"__proto__\\":{}}"}')).toThrow();
  });
});

describe('helper → app: the tray', () => {
  const tray = (model: unknown) => JSON.stringify({ type: 'tray', requestId: 8, json: JSON.stringify(model) });
  const item = { label: 'tcp 3000 — node 4242 · 2 connected', protocol: 'tcp', port: 3000 };

  it('takes a tray model and refuses what the tray should not draw', () => {
    expect(parseFromHelper(tray({ tooltip: 'Porthole: 1 listening port', items: [item] }))).toMatchObject({
      type: 'tray',
    });
    for (const bad of [
      { tooltip: 'x'.repeat(201), items: [] },
      { tooltip: 'ok', items: [{ ...item, label: 'x'.repeat(121) }] },
      { tooltip: 'ok', items: [{ ...item, protocol: 'unix' }] },
      { tooltip: 'ok', items: [{ ...item, click: 'rm -rf /' }] },
      { tooltip: 'ok', items: Array.from({ length: 11 }, () => item) },
      { tooltip: 'ok', items: [], extra: 1 },
    ])
      expect(() => parseFromHelper(tray(bad)), JSON.stringify(bad).slice(0, 60)).toThrow();
  });
});

describe('helper → app: the exporter’s figures', () => {
  const metrics = (figures: unknown) =>
    JSON.stringify({ type: 'metrics', requestId: 9, json: JSON.stringify(figures) });
  const table = {
    seq: 1,
    at: '2026-12-07T00:00:00.000Z',
    sockets: [tcp('127.0.0.1:3000', null, { inode: 1, processName: 'api' })],
    processes: [],
    stats,
  };
  const good = tableMetrics(table, emptyCounters());

  it('takes the table’s counts and the counters, and refuses what is not a count or a label', () => {
    expect(parseFromHelper(metrics(good))).toMatchObject({ type: 'metrics', requestId: 9 });
    for (const bad of [
      { ...good, extra: 1 },
      { ...good, read: 'yes' },
      { ...good, unattributed: -1 },
      { ...good, sockets: [['tcp', 'ipv4', 'LISTEN', 'host', 1.5]] },
      { ...good, sockets: [['tcp', 'ipv4', 'LISTEN', 'host']] },
      { ...good, listeners: [['tcp', 70000, 'api', 'host', 1]] },
      { ...good, listeners: [['tcp', 3000, { toString: 'x' }, 'host', 1]] },
      { ...good, counters: { ...good.counters, opened: 'many' } },
      { ...good, counters: { ...good.counters, pollBuckets: [1] } },
      { ...good, counters: { ...good.counters, pollSum: -1 } },
      { ...good, counters: { ...good.counters, shell: 1 } },
    ])
      expect(() => parseFromHelper(metrics(bad)), JSON.stringify(bad).slice(0, 80)).toThrow();
  });
});

describe('LineSplitter', () => {
  it('splits lines across chunks, drops a line past the bound whole, and goes on after it', () => {
    const lines = new LineSplitter(10);
    expect(lines.push(Buffer.from('abc\nde'))).toEqual(['abc']);
    expect(lines.push(Buffer.from('f\n'))).toEqual(['def']);
    expect(lines.push(Buffer.from('0123456789ABCDEF'))).toEqual([]);
    expect(lines.push(Buffer.from('more of it\nok\n'))).toEqual(['ok']);
    expect(lines.push(Buffer.from('01234567890123\nfine\n'))).toEqual(['fine']);
    expect(lines.dropped).toBe(2);
  });
});
