// `porthole exporter`: the socket table as Prometheus metrics at /metrics, from the same poll
// worker as every other host. Loopback by default; any other address only when asked for
// explicitly and behind a bearer token. It keeps the table from the stream and the counters the
// metrics need; rendering is export/metrics.ts's.

import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScanStats, StreamMessage } from '../shared/contract';
import { applyDelta, type AppliedTable } from '../track/apply-delta';
import { emptyCounters, negotiate, observePoll, renderMetrics } from '../export/metrics';
import type { Poller } from './poller';

export interface ExporterOptions {
  poller: Poller;
  host: string;
  port: number;
  version: string;
  maxProcessSeries: number;
  /** Required when `host` is not a loopback address: requests must carry `Authorization: Bearer <token>`. */
  bearerToken: string | null;
  log?: (line: string) => void;
}

export interface Exporter {
  url: string;
  close(): Promise<void>;
}

const isLoopback = (host: string) => /^127\./.test(host) || host === '::1';

export async function startExporter(options: ExporterOptions): Promise<Exporter> {
  if (!isLoopback(options.host) && !options.bearerToken)
    throw new Error('listening beyond loopback needs a bearer token (--bearer-token-file)');
  const table: AppliedTable = new Map();
  const counters = emptyCounters();
  let stats: ScanStats | null = null;
  let lastLost = 0;
  const connected = (s: { protocol: string; remoteAddress: string | null; state: string }) =>
    s.protocol === 'tcp' && s.remoteAddress !== null && s.state !== 'LISTEN';
  const subscription = options.poller.subscribe((json) => {
    const message = JSON.parse(json) as StreamMessage;
    if (message.type === 'resync') {
      table.clear();
      applyDelta(table, { added: message.resync.sockets, removed: [], changed: [] });
      stats = message.resync.stats;
    } else {
      const delta = message.delta;
      if (delta.since >= 0 && table.size > 0) {
        // As polls see them (connections shorter than a poll are event mode's: porthole watch, the UI).
        counters.opened += delta.added.filter(connected).length;
        for (const key of delta.removed) if (table.get(key) && connected(table.get(key)!)) counters.closed++;
      }
      applyDelta(table, delta);
      if (delta.stats !== stats) {
        stats = delta.stats;
        observePoll(counters, delta.stats.scanMs / 1000);
        counters.malformedRows += delta.stats.malformedRows;
      }
      const lost = delta.eventMode?.lost ?? lastLost;
      counters.eventsLost += Math.max(0, lost - lastLost);
      lastLost = lost;
      counters.chainsDropped += delta.chainsDropped ?? 0;
    }
    subscription.ack();
  });
  const authorised = (header: string | undefined) => {
    if (!options.bearerToken) return true;
    const given = Buffer.from(header ?? '');
    const wanted = Buffer.from(`Bearer ${options.bearerToken}`);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  };
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') return void response.writeHead(404).end('Not found\n');
    if (!authorised(request.headers.authorization))
      return void response.writeHead(401, { 'www-authenticate': 'Bearer' }).end('Unauthorized\n');
    const { openMetrics, contentType } = negotiate(request.headers.accept);
    const body = renderMetrics({ seq: 0, at: '', sockets: [...table.values()], processes: [], stats }, counters, {
      version: options.version,
      maxProcessSeries: options.maxProcessSeries,
      openMetrics,
    });
    response.writeHead(200, { 'content-type': contentType }).end(body);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/metrics`,
    close: async () => {
      subscription.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
