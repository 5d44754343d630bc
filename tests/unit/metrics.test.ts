// The exporter's metrics text: Prometheus's conventions, bounded cardinality, escaping.
import { describe, expect, it } from 'vitest';
import {
  emptyCounters,
  negotiate,
  observePoll,
  renderMetrics,
  StreamCounters,
  tableMetrics,
  type TableMetrics,
} from '../../src-main/export/metrics';
import type { Delta, Resync } from '../../src-main/shared/contract';
import { startExporter } from '../../src-main/exporter/server';
import type { Poller } from '../../src-main/poll/poller';
import { tcp } from '../helpers/sockets';

const stats = { unattributed: 2, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 };
const table = (sockets: Resync['sockets']): Resync => ({ seq: 1, at: '', sockets, processes: [], stats });
const options = { version: '0.1.0', maxProcessSeries: 2, openMetrics: false };

describe('metrics', () => {
  it('counts sockets by protocol, family, state and namespace; listeners by port and process', () => {
    const text = renderMetrics(
      tableMetrics(
        table([
          tcp('127.0.0.1:3000', null, { processName: 'api', inode: 1 }),
          tcp('127.0.0.1:3000', '127.0.0.1:5000', { inode: 2 }),
          tcp('127.0.0.1:5000', '127.0.0.1:3000', { inode: 3 }),
        ]),
        emptyCounters(),
      ),
      options,
    );
    expect(text).toContain('porthole_sockets{protocol="tcp",family="ipv4",state="ESTABLISHED",namespace="host"} 2');
    expect(text).toContain('porthole_listeners{protocol="tcp",port="3000",process="api",namespace="host"} 1');
    expect(text).toContain('# TYPE porthole_connections_opened_total counter\nporthole_connections_opened_total 0');
    expect(text).toContain('porthole_unattributed_sockets 2');
    expect(text).toContain('porthole_build_info{version="0.1.0"} 1');
    expect(text).not.toContain('# EOF');
  });

  it('caps per-process series (the rest as "other") and escapes a hostile process name', () => {
    const names = ['0"}\nevil 1', 'b', 'c', 'd'];
    const text = renderMetrics(
      tableMetrics(
        table(names.map((n, i) => tcp(`127.0.0.1:${4000 + i}`, null, { processName: n, inode: 10 + i }))),
        emptyCounters(),
      ),
      options,
    );
    const series = text.split('\n').filter((l) => l.startsWith('porthole_listeners{'));
    expect(new Set(series.map((l) => /process="((?:[^"\\]|\\.)*)"/.exec(l)![1]))).toEqual(
      new Set(['0\\"}\\nevil 1', 'b', 'other']),
    );
    expect(text).not.toMatch(/^evil/m);
  });

  it('writes OpenMetrics when asked: families without _total, units, a histogram, # EOF at the end', () => {
    const counters = emptyCounters();
    observePoll(counters, 0.02);
    observePoll(counters, 3);
    const text = renderMetrics(tableMetrics(table([]), counters), { ...options, openMetrics: true });
    expect(text).toContain('# TYPE porthole_connections_opened counter\nporthole_connections_opened_total 0');
    expect(text).toContain('# UNIT porthole_poll_duration_seconds seconds');
    expect(text).toContain('porthole_poll_duration_seconds_bucket{le="0.025"} 1');
    expect(text).toContain('porthole_poll_duration_seconds_bucket{le="+Inf"} 2');
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(negotiate('application/openmetrics-text;version=1.0.0,text/plain;q=0.5').openMetrics).toBe(true);
    expect(negotiate(undefined).contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});

describe('the stream counters, kept where the table is', () => {
  const at = '2026-12-07T00:00:00.000Z';
  const delta = (seq: number, change: Partial<Delta>): Delta => ({
    seq,
    since: seq - 1,
    at,
    added: [],
    removed: [],
    changed: [],
    processes: [],
    stats,
    ...change,
  });

  it('count a scan sent before its owners once, when the delta with its owners comes', () => {
    const counting = new StreamCounters();
    const pending = { ...stats, malformedRows: 1, ownersPending: true as const };
    const listener = tcp('127.0.0.1:3000', null, { inode: 1, pid: null, processName: null, pids: [] });
    counting.observe(delta(1, { added: [listener], stats: pending }), true, 0);
    expect(counting.counters.pollCount).toBe(0);
    counting.observe(delta(2, { stats: { ...stats, malformedRows: 1 } }), false, 0);
    expect(counting.counters.pollCount).toBe(1);
    expect(counting.counters.malformedRows).toBe(1);
    // A delta between polls carries the same stats object: not another scan.
    const last = delta(3, { stats: { ...stats, malformedRows: 1 } });
    counting.observe(last, false, 0);
    counting.observe({ ...delta(4, {}), stats: last.stats }, false, 0);
    expect(counting.counters.pollCount).toBe(2);
  });

  it('count connections that appear after the first reading, and those that go; lost events and dropped chains as they grow', () => {
    const counting = new StreamCounters();
    const connection = tcp('127.0.0.1:40000', '127.0.0.1:3000', { inode: 2 });
    const listener = tcp('127.0.0.1:3000', null, { inode: 1 });
    counting.observe(delta(1, { added: [connection, listener] }), true, 0);
    expect(counting.counters.opened).toBe(0); // the first table is the state, not news
    counting.observe(delta(2, { added: [tcp('127.0.0.1:40002', '127.0.0.1:3000', { inode: 3 }), listener] }), false, 2);
    expect(counting.counters).toMatchObject({ opened: 1, closed: 2 });
    counting.observe(delta(3, { eventMode: { active: true, reason: null, lost: 5 }, chainsDropped: 2 }), false, 0);
    counting.observe(delta(4, { eventMode: { active: true, reason: null, lost: 7 } }), false, 0);
    expect(counting.counters).toMatchObject({ eventsLost: 7, chainsDropped: 2 });
  });

  it('say a table sent before its owners is not read yet', () => {
    const pending = { ...table([]), stats: { ...stats, ownersPending: true as const } };
    expect(tableMetrics(pending, emptyCounters()).read).toBe(false);
    expect(tableMetrics({ ...table([]), stats: null }, emptyCounters()).read).toBe(false);
    expect(tableMetrics(table([]), emptyCounters()).read).toBe(true);
  });
});

/** An exporter on loopback whose poll worker answers with the figures a test sets (null: it does not answer). */
async function exporterFedByHand(firstReadWaitMs: number) {
  let figures: TableMetrics | null = tableMetrics(
    { seq: 0, at: '', sockets: [], processes: [], stats: null },
    emptyCounters(),
  );
  const poller = {
    metrics: () => (figures === null ? new Promise<string>(() => {}) : Promise.resolve(JSON.stringify(figures))),
  } as unknown as Poller;
  const exporter = await startExporter({
    poller,
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    maxProcessSeries: 10,
    bearerToken: null,
    firstReadWaitMs,
    answerWaitMs: 300,
  });
  return { exporter, set: (next: TableMetrics | null) => (figures = next) };
}

describe('the exporter before its first poll', () => {
  it('answers 503 (retry later) rather than an empty table, then the table once it is read', async () => {
    const { exporter, set } = await exporterFedByHand(200);
    try {
      const before = await fetch(exporter.url);
      expect(before.status).toBe(503);
      expect(before.headers.get('retry-after')).toBe('1');
      expect(await before.text()).toMatch(/not read the socket table yet/);
      // A scrape waiting when the first poll is read gets that poll.
      const waiting = fetch(exporter.url);
      setTimeout(() => {
        const resync = {
          seq: 1,
          at: '2026-12-07T00:00:00.000Z',
          sockets: [tcp('127.0.0.1:3000', null, { inode: 1 })],
          processes: [],
          stats,
        };
        set(tableMetrics(resync, emptyCounters()));
      }, 50);
      const after = await waiting;
      expect(after.status).toBe(200);
      const text = await after.text();
      expect(text).toMatch(/^porthole_sockets\{protocol="tcp",family="ipv4",state="LISTEN",namespace="host"\} 1$/m);
      expect(text).toMatch(/^porthole_last_read_timestamp_seconds 1796601600$/m);
    } finally {
      await exporter.close();
    }
  });

  it('answers 503 when the poll loop does not answer (stalled), and the table again once it does', async () => {
    const { exporter, set } = await exporterFedByHand(200);
    try {
      set(null);
      const stalled = await fetch(exporter.url);
      expect(stalled.status).toBe(503);
      expect(await stalled.text()).toMatch(/did not answer in time/);
      set(tableMetrics({ seq: 1, at: '', sockets: [], processes: [], stats }, emptyCounters()));
      expect((await fetch(exporter.url)).status).toBe(200);
    } finally {
      await exporter.close();
    }
  });

  it('waits for the owners of a table sent before them', async () => {
    const { exporter, set } = await exporterFedByHand(300);
    const at = '2026-12-07T00:00:00.000Z';
    const listener = tcp('127.0.0.1:3000', null, { inode: 1, pid: null, processName: null, pids: [] });
    try {
      const pending = { ...stats, ownersPending: true as const };
      set(tableMetrics({ seq: 1, at, sockets: [listener], processes: [], stats: pending }, emptyCounters()));
      // Not a table to answer with yet: its listener has no process.
      const early = await fetch(exporter.url);
      expect(early.status).toBe(503);
      await early.text();
      const waiting = fetch(exporter.url);
      const owned = { ...listener, pid: 42, processName: 'api', pids: [42] };
      setTimeout(() => set(tableMetrics({ seq: 2, at, sockets: [owned], processes: [], stats }, emptyCounters())), 50);
      const after = await waiting;
      expect(after.status).toBe(200);
      const text = await after.text();
      expect(text).toMatch(/^porthole_listeners\{protocol="tcp",port="3000",process="api",namespace="host"\} 1$/m);
      expect(text).not.toMatch(/process=""/);
    } finally {
      await exporter.close();
    }
  });
});
