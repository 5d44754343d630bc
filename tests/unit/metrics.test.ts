// The exporter's metrics text: Prometheus's conventions, bounded cardinality, escaping.
import { describe, expect, it } from 'vitest';
import { emptyCounters, negotiate, observePoll, renderMetrics } from '../../src-main/export/metrics';
import type { Resync } from '../../src-main/shared/contract';
import { startExporter } from '../../src-main/exporter/server';
import type { Poller } from '../../src-main/poll/poller';
import { tcp } from '../helpers/sockets';
import { socketKey } from '../../src-main/track/identity';

const stats = { unattributed: 2, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 };
const table = (sockets: Resync['sockets']): Resync => ({ seq: 1, at: '', sockets, processes: [], stats });
const options = { version: '0.1.0', maxProcessSeries: 2, openMetrics: false };

describe('metrics', () => {
  it('counts sockets by protocol, family, state and namespace; listeners by port and process', () => {
    const text = renderMetrics(
      table([
        tcp('127.0.0.1:3000', null, { processName: 'api', inode: 1 }),
        tcp('127.0.0.1:3000', '127.0.0.1:5000', { inode: 2 }),
        tcp('127.0.0.1:5000', '127.0.0.1:3000', { inode: 3 }),
      ]),
      emptyCounters(),
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
      table(names.map((n, i) => tcp(`127.0.0.1:${4000 + i}`, null, { processName: n, inode: 10 + i }))),
      emptyCounters(),
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
    const text = renderMetrics(table([]), counters, { ...options, openMetrics: true });
    expect(text).toContain('# TYPE porthole_connections_opened counter\nporthole_connections_opened_total 0');
    expect(text).toContain('# UNIT porthole_poll_duration_seconds seconds');
    expect(text).toContain('porthole_poll_duration_seconds_bucket{le="0.025"} 1');
    expect(text).toContain('porthole_poll_duration_seconds_bucket{le="+Inf"} 2');
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(negotiate('application/openmetrics-text;version=1.0.0,text/plain;q=0.5').openMetrics).toBe(true);
    expect(negotiate(undefined).contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});

/** An exporter on loopback whose stream is the messages a test hands to `deliver`. */
async function exporterFedByHand(firstReadWaitMs: number) {
  let deliver: (json: string) => void = () => {};
  const poller = {
    subscribe: (onMessage: (json: string) => void) => {
      deliver = onMessage;
      return { id: 'test', ack() {}, setPaused() {}, resync() {}, close() {} };
    },
  } as unknown as Poller;
  const exporter = await startExporter({
    poller,
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    maxProcessSeries: 10,
    bearerToken: null,
    firstReadWaitMs,
  });
  return { exporter, deliver: (json: string) => deliver(json) };
}

describe('the exporter before its first poll', () => {
  it('answers 503 (retry later) rather than an empty table, then the table once it is read', async () => {
    const { exporter, deliver } = await exporterFedByHand(200);
    try {
      const before = await fetch(exporter.url);
      expect(before.status).toBe(503);
      expect(before.headers.get('retry-after')).toBe('1');
      expect(await before.text()).toMatch(/not read the socket table yet/);
      // A scrape waiting when the first poll arrives gets that poll.
      const waiting = fetch(exporter.url);
      setTimeout(() => {
        const resync = {
          seq: 1,
          at: '2026-12-07T00:00:00.000Z',
          sockets: [tcp('127.0.0.1:3000', null, { inode: 1 })],
          processes: [],
          stats,
        };
        deliver(JSON.stringify({ type: 'resync', resync }));
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

  it('waits for the owners of a table sent before them, and counts that scan once', async () => {
    const { exporter, deliver } = await exporterFedByHand(300);
    const at = '2026-12-07T00:00:00.000Z';
    const listener = tcp('127.0.0.1:3000', null, { inode: 1, pid: null, processName: null, pids: [] });
    try {
      deliver(JSON.stringify({ type: 'resync', resync: { seq: 0, at, sockets: [], processes: [], stats: null } }));
      const pending = { ...stats, malformedRows: 1, ownersPending: true as const };
      deliver(
        JSON.stringify({
          type: 'delta',
          delta: { seq: 1, since: 0, at, added: [listener], removed: [], changed: [], processes: [], stats: pending },
        }),
      );
      // Not a table to answer with yet: its listener has no process.
      const early = await fetch(exporter.url);
      expect(early.status).toBe(503);
      await early.text();
      const waiting = fetch(exporter.url);
      const owned = { ...listener, pid: 42, processName: 'api', pids: [42] };
      setTimeout(() => {
        const filled = {
          seq: 2,
          since: 1,
          at,
          added: [],
          removed: [],
          changed: [{ key: socketKey(listener), from: { pid: null, processName: null, pids: [] }, to: owned }],
          processes: [],
          stats: { ...stats, malformedRows: 1 },
        };
        deliver(JSON.stringify({ type: 'delta', delta: filled }));
      }, 50);
      const after = await waiting;
      expect(after.status).toBe(200);
      const text = await after.text();
      expect(text).toMatch(/^porthole_listeners\{protocol="tcp",port="3000",process="api",namespace="host"\} 1$/m);
      expect(text).not.toMatch(/process=""/);
      expect(text).toMatch(/^porthole_poll_duration_seconds_count 1$/m);
      expect(text).toMatch(/^porthole_malformed_rows_total 1$/m);
    } finally {
      await exporter.close();
    }
  });
});
