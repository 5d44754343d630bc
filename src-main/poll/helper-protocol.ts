// The privileged helper's channel (issue 13): the poll worker's protocol as newline-delimited JSON
// over pipes the app hands to the helper when it starts it (pkexec passes them on), never a port.
// Each side checks every line the other sends: the helper runs as root and believes nothing of the
// app's but these few requests; the app treats the helper's stream like any imported recording.

import {
  Invalid,
  integer,
  object,
  onlyKeys,
  parseUntrustedJson,
  string,
  validateSnapshot,
  array,
} from '../export/import-snapshot';
import { TRAY_PORTS, type TrayModel } from '../track/tray';
import { POLL_BUCKETS, type ExporterCounters, type TableMetrics } from '../export/metrics';
import { streamMessage } from '../export/import-recording';
import { PID_MAX } from '../shared/contract';
import type { KillOutcome } from '../shared/ipc';
import { checkInterval } from '../shared/interval';
import type { FromPollWorker, ToPollWorker } from './protocol';

/** The one privileged action: stopping a process that owns a socket in the table now. */
export interface StopProcessRequest {
  type: 'stop-process';
  requestId: number;
  pid: number;
  /** The start time the user saw: a pid reused since is never signalled. */
  startedAt: string;
  force: boolean;
}

export type ToHelper = Exclude<ToPollWorker, { type: 'stop' }> | StopProcessRequest;
export type FromHelper = FromPollWorker | { type: 'stopped'; requestId: number; outcome: KillOutcome };

/** App → helper: requests are a few dozen bytes. */
export const MAX_TO_HELPER_LINE = 4096;
/** Helper → app: a resync of 50,000 sockets is ~10 MB of JSON. */
export const MAX_FROM_HELPER_LINE = 128 * 1024 * 1024;

/** The app's request ids stay below this; the helper's own (asking its worker for the table) above. */
const REQUEST_ID_MAX = 2 ** 52;
/** Subscriber ids are the app's randomUUID()s. */
const SUBSCRIBER_ID = /^[0-9a-f-]{36}$/;

function subscriberId(value: unknown): string {
  const id = string(value, 'id');
  if (!SUBSCRIBER_ID.test(id)) throw new Invalid('id', 'must be a subscriber id');
  return id;
}

/** The stream message's text: as long as the line allows (a resync is megabytes). */
function jsonText(value: unknown): string {
  if (typeof value !== 'string') throw new Invalid('json', 'must be text');
  return value;
}

const fail = (reason: string) => new Invalid('the line', reason.replace(/^it /, ''));

/** Series of the exporter's a helper may send: a table's counts are a few hundred. */
const MAX_METRICS_SERIES = 100_000;
const COUNTERS: (keyof ExporterCounters)[] = [
  'opened',
  'closed',
  'eventsLost',
  'chainsDropped',
  'malformedRows',
  'interruptedDumps',
  'pollBuckets',
  'pollSum',
  'pollCount',
];

/** The exporter's figures from the helper, checked: its labels are escaped when rendered, its numbers must be counts. */
function tableMetricsOf(value: unknown): TableMetrics {
  const m = object(value, 'metrics');
  onlyKeys(m, 'metrics', ['at', 'read', 'unattributed', 'sockets', 'listeners', 'counters']);
  const count = (v: unknown, path: string) => integer(v, path, 0, Number.MAX_SAFE_INTEGER);
  const label = (v: unknown, path: string) => string(v, path);
  const at = string(m.at, 'metrics.at');
  if (at.length > 64) throw new Invalid('metrics.at', 'is too long');
  if (typeof m.read !== 'boolean') throw new Invalid('metrics.read', 'must be true or false');
  /** A series: four labels (or a port second) and a count, nothing more. */
  const series = (v: unknown, path: string) => {
    const row = array(v, path, 5);
    if (row.length !== 5) throw new Invalid(path, 'must have 5 entries');
    return row;
  };
  const sockets = array(m.sockets, 'metrics.sockets', MAX_METRICS_SERIES).map((v, i) => {
    const row = series(v, `metrics.sockets[${i}]`);
    const [protocol, family, state, namespace] = row.slice(0, 4).map((x, j) => label(x, `metrics.sockets[${i}][${j}]`));
    return [
      protocol,
      family,
      state,
      namespace,
      count(row[4], `metrics.sockets[${i}][4]`),
    ] as TableMetrics['sockets'][number];
  });
  const listeners = array(m.listeners, 'metrics.listeners', MAX_METRICS_SERIES).map((v, i) => {
    const row = series(v, `metrics.listeners[${i}]`);
    return [
      label(row[0], `metrics.listeners[${i}][0]`),
      integer(row[1], `metrics.listeners[${i}][1]`, 0, 65535),
      label(row[2], `metrics.listeners[${i}][2]`),
      label(row[3], `metrics.listeners[${i}][3]`),
      count(row[4], `metrics.listeners[${i}][4]`),
    ] as TableMetrics['listeners'][number];
  });
  const c = object(m.counters, 'metrics.counters');
  onlyKeys(c, 'metrics.counters', COUNTERS);
  const buckets = array(c.pollBuckets, 'metrics.counters.pollBuckets', POLL_BUCKETS.length);
  if (buckets.length !== POLL_BUCKETS.length)
    throw new Invalid('metrics.counters.pollBuckets', `must have ${POLL_BUCKETS.length} entries`);
  if (typeof c.pollSum !== 'number' || !Number.isFinite(c.pollSum) || c.pollSum < 0)
    throw new Invalid('metrics.counters.pollSum', 'must be a number of seconds');
  const counters: ExporterCounters = {
    opened: count(c.opened, 'metrics.counters.opened'),
    closed: count(c.closed, 'metrics.counters.closed'),
    eventsLost: count(c.eventsLost, 'metrics.counters.eventsLost'),
    chainsDropped: count(c.chainsDropped, 'metrics.counters.chainsDropped'),
    malformedRows: count(c.malformedRows, 'metrics.counters.malformedRows'),
    interruptedDumps: count(c.interruptedDumps, 'metrics.counters.interruptedDumps'),
    pollBuckets: buckets.map((b, i) => count(b, `metrics.counters.pollBuckets[${i}]`)),
    pollSum: c.pollSum,
    pollCount: count(c.pollCount, 'metrics.counters.pollCount'),
  };
  const unattributed = count(m.unattributed, 'metrics.unattributed');
  return { at, read: m.read, unattributed, sockets, listeners, counters };
}

/** A tray model from the helper, checked: what the tray shows is text the app draws as it is. */
function trayModelOf(value: unknown): TrayModel {
  const t = object(value, 'tray');
  onlyKeys(t, 'tray', ['tooltip', 'items']);
  const tooltip = string(t.tooltip, 'tray.tooltip');
  if (tooltip.length > 200) throw new Invalid('tray.tooltip', 'is too long');
  const items = array(t.items, 'tray.items', TRAY_PORTS).map((value, i) => {
    const item = object(value, `tray.items[${i}]`);
    onlyKeys(item, `tray.items[${i}]`, ['label', 'protocol', 'port']);
    const label = string(item.label, `tray.items[${i}].label`);
    if (label.length > 120) throw new Invalid(`tray.items[${i}].label`, 'is too long');
    const protocol = item.protocol;
    if (protocol !== 'tcp' && protocol !== 'udp') throw new Invalid(`tray.items[${i}].protocol`, 'must be tcp or udp');
    return { label, protocol: protocol as 'tcp' | 'udp', port: integer(item.port, `tray.items[${i}].port`, 0, 65535) };
  });
  return { tooltip, items };
}

/** A line from the app, or throws Invalid with the reason (never quoting the line). */
export function parseToHelper(line: string): ToHelper {
  if (line.length > MAX_TO_HELPER_LINE)
    throw new Invalid('the line', `is longer than ${MAX_TO_HELPER_LINE} characters`);
  const m = object(parseUntrustedJson(line, fail), 'the line');
  switch (m.type) {
    case 'interval': {
      onlyKeys(m, 'interval', ['type', 'ms']);
      const interval = checkInterval(m.ms);
      if (!interval.ok) throw new Invalid('ms', interval.reason);
      return { type: 'interval', ms: interval.ms };
    }
    case 'subscribe':
    case 'unsubscribe':
    case 'ack':
    case 'resync':
      onlyKeys(m, m.type, ['type', 'id']);
      return { type: m.type, id: subscriberId(m.id) };
    case 'pause':
      onlyKeys(m, 'pause', ['type', 'id', 'paused']);
      if (typeof m.paused !== 'boolean') throw new Invalid('paused', 'must be true or false');
      return { type: 'pause', id: subscriberId(m.id), paused: m.paused };
    case 'current':
    case 'snapshot':
    case 'tray':
    case 'metrics':
      onlyKeys(m, m.type, ['type', 'requestId']);
      return { type: m.type, requestId: integer(m.requestId, 'requestId', 1, REQUEST_ID_MAX) };
    case 'stop-process': {
      onlyKeys(m, 'stop-process', ['type', 'requestId', 'pid', 'startedAt', 'force']);
      if (typeof m.force !== 'boolean') throw new Invalid('force', 'must be true or false');
      const startedAt = string(m.startedAt, 'startedAt');
      if (startedAt.length > 64) throw new Invalid('startedAt', 'is too long');
      return {
        type: 'stop-process',
        requestId: integer(m.requestId, 'requestId', 1, REQUEST_ID_MAX),
        pid: integer(m.pid, 'pid', 2, PID_MAX),
        startedAt,
        force: m.force,
      };
    }
    default:
      throw new Invalid('type', 'is not a request the helper takes');
  }
}

/**
 * A line from the helper, or throws Invalid: the envelope, and the stream message inside checked
 * as an imported recording's lines are, so a helper gone wrong cannot hand the renderer anything
 * the contract does not allow.
 */
export function parseFromHelper(line: string): FromHelper {
  if (line.length > MAX_FROM_HELPER_LINE) throw new Invalid('the line', 'is too long');
  const m = object(parseUntrustedJson(line, fail), 'the line');
  switch (m.type) {
    case 'stream': {
      onlyKeys(m, 'stream', ['type', 'ids', 'json']);
      if (!Array.isArray(m.ids) || m.ids.length > 10_000) throw new Invalid('ids', 'must be a list of subscriber ids');
      const json = jsonText(m.json);
      streamMessage(parseUntrustedJson(json, fail));
      return { type: 'stream', ids: m.ids.map(subscriberId), json };
    }
    case 'current': {
      onlyKeys(m, 'current', ['type', 'requestId', 'json']);
      const json = jsonText(m.json);
      const resync = streamMessage({ type: 'resync', resync: parseUntrustedJson(json, fail) });
      if (resync.type !== 'resync') throw new Invalid('json', 'must be the whole state');
      return { type: 'current', requestId: integer(m.requestId, 'requestId', 1, REQUEST_ID_MAX), json };
    }
    case 'snapshot': {
      onlyKeys(m, 'snapshot', ['type', 'requestId', 'json']);
      const json = jsonText(m.json);
      // Checked as an imported snapshot file is: it is exported as the user's.
      validateSnapshot(parseUntrustedJson(json, fail));
      return { type: 'snapshot', requestId: integer(m.requestId, 'requestId', 1, REQUEST_ID_MAX), json };
    }
    case 'tray': {
      onlyKeys(m, 'tray', ['type', 'requestId', 'json']);
      const json = jsonText(m.json);
      trayModelOf(parseUntrustedJson(json, fail));
      return { type: 'tray', requestId: integer(m.requestId, 'requestId', 1, REQUEST_ID_MAX), json };
    }
    case 'metrics': {
      onlyKeys(m, 'metrics', ['type', 'requestId', 'json']);
      const json = jsonText(m.json);
      tableMetricsOf(parseUntrustedJson(json, fail));
      return { type: 'metrics', requestId: integer(m.requestId, 'requestId', 1, REQUEST_ID_MAX), json };
    }
    case 'alive':
      // Its event instance is its own business (the app never acts on a path the helper names).
      onlyKeys(m, 'alive', ['type']);
      return { type: 'alive' };
    case 'error': {
      onlyKeys(m, 'error', ['type', 'message']);
      const message = string(m.message, 'message');
      return { type: 'error', message: message.slice(0, 1000) };
    }
    case 'stopped': {
      onlyKeys(m, 'stopped', ['type', 'requestId', 'outcome']);
      const o = object(m.outcome, 'outcome');
      const pid = integer(o.pid, 'outcome.pid', 0, PID_MAX);
      const outcome: KillOutcome =
        o.ok === true
          ? {
              ok: true,
              pid,
              signal: o.signal === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM',
              message: string(o.message, 'outcome.message').slice(0, 1000),
            }
          : { ok: false, pid, reason: string(o.reason, 'outcome.reason').slice(0, 1000) };
      return { type: 'stopped', requestId: integer(m.requestId, 'requestId', 1, REQUEST_ID_MAX), outcome };
    }
    default:
      throw new Invalid('type', 'is not a message the helper sends');
  }
}

/**
 * Splits a byte stream into lines, bounded: a line past `max` is dropped whole (counted) up to
 * its newline, so a peer that never ends a line cannot grow memory.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private skipping = false;
  /** Lines dropped for being too long. */
  dropped = 0;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (!this.skipping && this.size + nl - start <= this.max) {
        this.parts.push(chunk.subarray(start, nl));
        lines.push(Buffer.concat(this.parts).toString('utf8'));
      } else if (!this.skipping) this.dropped++;
      this.parts = [];
      this.size = 0;
      this.skipping = false;
      start = nl + 1;
    }
    if (start < chunk.length && !this.skipping) {
      this.size += chunk.length - start;
      if (this.size > this.max) {
        this.dropped++;
        this.skipping = true;
        this.parts = [];
        this.size = 0;
      } else this.parts.push(Buffer.from(chunk.subarray(start)));
    }
    return lines;
  }
}
