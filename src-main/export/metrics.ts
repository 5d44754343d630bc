// The exporter's metrics as Prometheus text (0.0.4) or OpenMetrics 1.0. Names and labels follow
// Prometheus's conventions — units in names, `_total` counters, no per-connection labels;
// per-process listener series are capped (the rest summed into process="other"). Worked out in
// two places: where the table is (the poll worker), its counts and the stream's counters
// (TableMetrics: a few hundred bytes, whatever the table's size); in the exporter, the text.

import type { Delta, Resync, ScanStats } from '../shared/contract';
import { isConnectionRow, isListening } from '../track/views';

export interface ExporterCounters {
  /** Connected TCP sockets that appeared, and that went, since the poll loop (started with the exporter) began. */
  opened: number;
  closed: number;
  /** Kernel events lost (event mode) and finished connections viewers were not sent. */
  eventsLost: number;
  chainsDropped: number;
  /** Rows of the kernel's tables that did not parse, summed over polls. */
  malformedRows: number;
  /** Tables the kernel changed during every try of their dump, summed over polls. */
  interruptedDumps: number;
  /** Poll durations (seconds): a histogram's buckets, sum and count. */
  pollBuckets: number[];
  pollSum: number;
  pollCount: number;
}

/** Bucket bounds of the poll duration histogram (seconds). */
export const POLL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function emptyCounters(): ExporterCounters {
  return {
    opened: 0,
    closed: 0,
    eventsLost: 0,
    chainsDropped: 0,
    malformedRows: 0,
    interruptedDumps: 0,
    pollBuckets: POLL_BUCKETS.map(() => 0),
    pollSum: 0,
    pollCount: 0,
  };
}

/** Counts one poll's duration into the histogram. */
export function observePoll(counters: ExporterCounters, seconds: number): void {
  POLL_BUCKETS.forEach((bound, i) => {
    if (seconds <= bound) counters.pollBuckets[i]++;
  });
  counters.pollSum += seconds;
  counters.pollCount++;
}

/** A label value as the exposition formats escape it (backslash, quote, newline). */
function labelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

const labels = (pairs: Record<string, string | number>) =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${labelValue(String(v))}"`)
    .join(',')}}`;

export interface MetricsOptions {
  version: string;
  /** Per-process listener series at most; the rest are summed into process="other". */
  maxProcessSeries: number;
  openMetrics: boolean;
}

/** What the metrics need of the table and its stream, worked out where the table is. */
export interface TableMetrics {
  /** ISO 8601 time of the last reading ('' before the first). */
  at: string;
  /** Whether a scan's figures came, with its owners: before that a scrape waits, then gets a 503. */
  read: boolean;
  unattributed: number;
  /** Sockets by [protocol, family ('ipv4', 'ipv6', 'unix'), state, namespace], and their number. */
  sockets: [string, string, string, string, number][];
  /** Listening (and bound UDP) sockets by [protocol, port, process, namespace], and their number. */
  listeners: [string, number, string, string, number][];
  counters: ExporterCounters;
}

/**
 * The table's counts (a pass over it: a few ms at 100,000 sockets) beside the stream's counters.
 * `read`: stats came from a scan with its owners.
 */
export function tableMetrics(table: Resync, counters: ExporterCounters): TableMetrics {
  const sockets = new Map<string, TableMetrics['sockets'][number]>();
  const listeners = new Map<string, TableMetrics['listeners'][number]>();
  for (const s of table.sockets) {
    const family = s.family === null ? 'unix' : `ipv${s.family}`;
    const namespace = s.netnsName ?? 'host';
    const key = `${s.protocol}|${family}|${s.state}|${namespace}`;
    const counted = sockets.get(key);
    if (counted) counted[4]++;
    else sockets.set(key, [s.protocol, family, s.state, namespace, 1]);
    if (s.protocol !== 'unix' && isListening(s)) {
      const process = s.processName ?? 'unknown';
      const k = `${s.protocol}|${s.localPort}|${process}|${namespace}`;
      const listening = listeners.get(k);
      if (listening) listening[4]++;
      else listeners.set(k, [s.protocol, s.localPort ?? 0, process, namespace, 1]);
    }
  }
  return {
    at: table.at,
    read: table.stats !== null && !table.stats.ownersPending,
    unattributed: table.stats?.unattributed ?? 0,
    sockets: [...sockets.values()],
    listeners: [...listeners.values()],
    counters,
  };
}

/** The stream's counters, kept from each delta as the table's keeper publishes it. */
export class StreamCounters {
  readonly counters = emptyCounters();
  private stats: ScanStats | null = null;
  private lastLost = 0;

  /**
   * One delta. `first`: it is the first reading (into an empty table: no news); `goneConnected`:
   * the connected TCP sockets it removed (the delta names only their keys).
   */
  observe(delta: Delta, first: boolean, goneConnected: number): void {
    const counters = this.counters;
    if (!first) {
      // As polls see them (connections shorter than a poll are event mode's: porthole watch, the UI).
      for (const socket of delta.added) if (isConnectionRow(socket)) counters.opened++;
      counters.closed += goneConnected;
    }
    // A table sent before its owners is the scan that the next delta completes: counted then, once.
    if (delta.stats !== this.stats && !delta.stats.ownersPending) {
      observePoll(counters, delta.stats.scanMs / 1000);
      counters.malformedRows += delta.stats.malformedRows;
      counters.interruptedDumps += delta.stats.interruptedDumps ?? 0;
    }
    this.stats = delta.stats;
    const lost = delta.eventMode?.lost ?? this.lastLost;
    counters.eventsLost += Math.max(0, lost - this.lastLost);
    this.lastLost = lost;
    counters.chainsDropped += delta.chainsDropped ?? 0;
  }
}

export function renderMetrics(metrics: TableMetrics, options: MetricsOptions): string {
  const counters = metrics.counters;
  const out: string[] = [];
  const family = (name: string, type: string, help: string, unit?: string) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    if (unit && options.openMetrics) out.push(`# UNIT ${name} ${unit}`);
  };
  // OpenMetrics names a counter's family without `_total`; its samples carry the suffix.
  const counter = (name: string, help: string, value: number) => {
    family(options.openMetrics ? name : `${name}_total`, 'counter', help);
    out.push(`${name}_total ${value}`);
  };

  const bySocket = new Map<string, number>();
  for (const [protocol, socketFamily, state, namespace, n] of metrics.sockets) {
    const key = labels({ protocol, family: socketFamily, state, namespace });
    bySocket.set(key, (bySocket.get(key) ?? 0) + n);
  }
  family(
    'porthole_sockets',
    'gauge',
    'Sockets in the kernel tables, by protocol, family, state and network namespace.',
  );
  for (const [key, n] of [...bySocket].sort()) out.push(`porthole_sockets${key} ${n}`);

  // Bounded cardinality: the first maxProcessSeries distinct processes by name; the rest as "other".
  const processes = [...new Set(metrics.listeners.map((l) => l[2]))].sort();
  const kept = new Set(processes.slice(0, options.maxProcessSeries));
  const folded = new Map<string, number>();
  for (const [protocol, port, process, namespace, n] of metrics.listeners) {
    const key = labels({ protocol, port, process: kept.has(process) ? process : 'other', namespace });
    folded.set(key, (folded.get(key) ?? 0) + n);
  }
  family('porthole_listeners', 'gauge', 'Listening sockets (TCP) and bound sockets (UDP) by port and owning process.');
  for (const [key, n] of [...folded].sort()) out.push(`porthole_listeners${key} ${n}`);

  counter(
    'porthole_connections_opened',
    'Connected TCP sockets that appeared since the exporter started.',
    counters.opened,
  );
  counter(
    'porthole_connections_closed',
    'Connected TCP sockets that went since the exporter started.',
    counters.closed,
  );
  counter(
    'porthole_events_lost',
    'Kernel TCP state events lost (event mode): connections missing or incomplete.',
    counters.eventsLost,
  );
  counter('porthole_chains_dropped', 'Finished connections not sent to a slow viewer.', counters.chainsDropped);
  counter(
    'porthole_malformed_rows',
    'Rows of the kernel tables that did not parse and were skipped.',
    counters.malformedRows,
  );
  counter(
    'porthole_interrupted_dumps',
    'Table dumps the kernel marked interrupted (the table changed while read) on every try: a socket may be missing or repeated.',
    counters.interruptedDumps,
  );
  // Readiness and staleness: an alert can tell "nothing listens" from "not read lately".
  const readAt = Date.parse(metrics.at);
  if (Number.isFinite(readAt) && readAt > 0) {
    family(
      'porthole_last_read_timestamp_seconds',
      'gauge',
      'When the socket tables were last read (Unix time).',
      'seconds',
    );
    out.push(`porthole_last_read_timestamp_seconds ${readAt / 1000}`);
  }
  family('porthole_unattributed_sockets', 'gauge', 'Sockets whose owning process could not be seen.');
  out.push(`porthole_unattributed_sockets ${metrics.unattributed}`);

  const poll = 'porthole_poll_duration_seconds';
  family(poll, 'histogram', 'How long a reading of the socket tables took.', 'seconds');
  POLL_BUCKETS.forEach((bound, i) => out.push(`${poll}_bucket${labels({ le: bound })} ${counters.pollBuckets[i]}`));
  out.push(`${poll}_bucket${labels({ le: '+Inf' })} ${counters.pollCount}`);
  out.push(`${poll}_sum ${counters.pollSum}`, `${poll}_count ${counters.pollCount}`);

  family('porthole_build_info', 'gauge', 'Porthole build information.');
  out.push(`porthole_build_info${labels({ version: options.version })} 1`);
  if (options.openMetrics) out.push('# EOF');
  return out.join('\n') + '\n';
}

/** The content type the scraper asked for (Prometheus sends OpenMetrics first in its Accept). */
export function negotiate(accept: string | undefined): { openMetrics: boolean; contentType: string } {
  return /application\/openmetrics-text/.test(accept ?? '')
    ? { openMetrics: true, contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8' }
    : { openMetrics: false, contentType: 'text/plain; version=0.0.4; charset=utf-8' };
}
