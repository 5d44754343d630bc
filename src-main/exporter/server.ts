// `porthole exporter`: the socket table as Prometheus metrics at /metrics, from the same poll
// worker as every other host. Loopback by default; any other address only when asked for
// explicitly and behind authentication: a bearer token, or basic auth or client certificates from
// an exporter-toolkit web configuration file (which may also turn on TLS). It keeps the table from
// the stream and the counters the metrics need; rendering is export/metrics.ts's.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { ScanStats } from '../shared/contract';
import { StreamTable } from '../track/stream-table';
import { emptyCounters, negotiate, observePoll, renderMetrics } from '../export/metrics';
import { followPoller } from '../poll/follow';
import type { Poller } from '../poll/poller';
import { authenticates, BasicAuth, type WebConfig } from '../web/web-config';
import { sameSecret } from '../common/secret';

export interface ExporterOptions {
  poller: Poller;
  host: string;
  port: number;
  version: string;
  maxProcessSeries: number;
  /**
   * One of them is required when `host` is not a loopback address: requests carry
   * `Authorization: Bearer <token>`, or what the web configuration asks (basic auth, a client certificate).
   */
  bearerToken: string | null;
  webConfig?: WebConfig | null;
  log?: (line: string) => void;
  /** How long a scrape before the first poll waits for it before a 503 (FIRST_READ_WAIT_MS). */
  firstReadWaitMs?: number;
}

/**
 * A scrape that comes before the first poll waits this long for it; then 503. Answering 200 with
 * an empty table would read "nothing listens" to an alert.
 */
export const FIRST_READ_WAIT_MS = 5_000;

export interface Exporter {
  url: string;
  close(): Promise<void>;
}

const isLoopback = (host: string) => /^127\./.test(host) || host === '::1';

export async function startExporter(options: ExporterOptions): Promise<Exporter> {
  const webConfig = options.webConfig ?? null;
  if (options.bearerToken && webConfig?.users.size)
    throw new Error('a bearer token and basic auth users both want the Authorization header: give one of them');
  if (!isLoopback(options.host) && !options.bearerToken && !(webConfig && authenticates(webConfig)))
    throw new Error(
      'listening beyond loopback needs authentication: a bearer token (--bearer-token-file), or basic_auth_users or client certificates (RequireAndVerifyClientCert) in --web-config-file',
    );
  const table = new StreamTable();
  const counters = emptyCounters();
  let stats: ScanStats | null = null;
  let lastLost = 0;
  /** The table's size before the message at hand: a first reading into an empty table is no news. */
  let sizeBefore = 0;
  const connected = (s: { protocol: string; remoteAddress: string | null; state: string }) =>
    s.protocol === 'tcp' && s.remoteAddress !== null && s.state !== 'LISTEN';
  let markRead = () => {};
  const read = () => stats !== null && !stats.ownersPending;
  const firstRead = new Promise<void>((resolve) => (markRead = resolve));
  const subscription = followPoller(options.poller, table, (received) => {
    if (received.type === 'resync') {
      stats = received.resync.stats;
    } else {
      const { delta, applied } = received;
      if (delta.since >= 0 && sizeBefore > 0) {
        // As polls see them (connections shorter than a poll are event mode's: porthole watch, the UI).
        counters.opened += delta.added.filter(connected).length;
        counters.closed += applied.gone.filter(connected).length;
      }
      // A table sent before its owners is the scan that the next delta completes: counted then, once.
      if (delta.stats !== stats && !delta.stats.ownersPending) {
        observePoll(counters, delta.stats.scanMs / 1000);
        counters.malformedRows += delta.stats.malformedRows;
        counters.interruptedDumps += delta.stats.interruptedDumps ?? 0;
      }
      stats = delta.stats;
      const lost = delta.eventMode?.lost ?? lastLost;
      counters.eventsLost += Math.max(0, lost - lastLost);
      lastLost = lost;
      counters.chainsDropped += delta.chainsDropped ?? 0;
    }
    sizeBefore = table.sockets.size;
    // A subscriber gets the state at once, before the first poll: read means a scan's figures came,
    // with its owners (a listener without its process would read "the process changed" to an alert).
    if (read()) markRead();
  });
  const basicAuth = webConfig?.users.size ? new BasicAuth(webConfig.users) : null;
  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') return void response.writeHead(404).end('Not found\n');
    if (options.bearerToken && !sameSecret(request.headers.authorization, `Bearer ${options.bearerToken}`))
      return void response.writeHead(401, { 'www-authenticate': 'Bearer' }).end('Unauthorized\n');
    if (basicAuth) {
      const verdict = await basicAuth.check(request.headers.authorization);
      if (verdict === 'busy') return void response.writeHead(503, { 'retry-after': '1' }).end('Busy\n');
      if (verdict === 'denied')
        return void response.writeHead(401, { 'www-authenticate': 'Basic realm="porthole"' }).end('Unauthorized\n');
    }
    if (!read()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        firstRead,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, options.firstReadWaitMs ?? FIRST_READ_WAIT_MS))),
      ]);
      clearTimeout(timer);
      if (!read() || stats === null)
        return void response
          .writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' })
          .end('Porthole has not read the socket table yet\n');
    }
    const { openMetrics, contentType } = negotiate(request.headers.accept);
    const body = renderMetrics(
      { seq: 0, at: table.at, sockets: [...table.sockets.values()], processes: [], stats },
      counters,
      {
        version: options.version,
        maxProcessSeries: options.maxProcessSeries,
        openMetrics,
      },
    );
    response.writeHead(200, { 'content-type': contentType }).end(body);
  };
  const handler = (request: IncomingMessage, response: ServerResponse) =>
    void answer(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  const tls = webConfig?.tls;
  const server: Server = tls
    ? createTlsServer(
        {
          cert: tls.cert,
          key: tls.key,
          minVersion: tls.minVersion,
          ...(tls.clientCa ? { ca: tls.clientCa } : {}),
          // Go's names: Request… asks for a certificate, Require… refuses a connection without one.
          requestCert: tls.clientAuth !== 'NoClientCert',
          rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
        },
        handler,
      )
    : createServer(handler);
  if (tls?.clientAuth === 'VerifyClientCertIfGiven')
    // A certificate given must verify; none at all is let through (rejectUnauthorized is off for that).
    server.on('secureConnection', (socket: TLSSocket) => {
      if (Object.keys(socket.getPeerCertificate() ?? {}).length > 0 && !socket.authorized) socket.destroy();
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
    url: `${tls ? 'https' : 'http'}://${host}:${address.port}/metrics`,
    close: async () => {
      subscription.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
