// `porthole exporter`: the socket table as Prometheus metrics at /metrics, from the same poll
// worker as every other host. Loopback by default; any other address only when asked for
// explicitly and behind authentication: a bearer token, or basic auth or client certificates from
// an exporter-toolkit web configuration file (which may also turn on TLS). It keeps no table: each
// scrape asks the poll worker for its counts and counters (Poller.metrics), a few hundred bytes
// whatever the table's size; rendering is export/metrics.ts's.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { negotiate, renderMetrics, type TableMetrics } from '../export/metrics';
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
  /** How long a scrape waits for the poll worker's answer before a 503 (ANSWER_WAIT_MS). */
  answerWaitMs?: number;
}

/**
 * A scrape that comes before the first poll waits this long for it; then 503. Answering 200 with
 * an empty table would read "nothing listens" to an alert.
 */
export const FIRST_READ_WAIT_MS = 5_000;
/** How often a waiting scrape asks again. */
const READ_RETRY_MS = 100;
/**
 * How long a scrape waits for the poll worker's answer: it answers between the steps of a poll,
 * so only a loop that has stalled (and is being started again) takes this long.
 */
const ANSWER_WAIT_MS = 5_000;

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
  /** The poll worker's figures (it keeps the table and the counters), or null when it does not answer in time. */
  const figures = async (): Promise<TableMetrics | null> => {
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      options.poller.metrics(),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), options.answerWaitMs ?? ANSWER_WAIT_MS))),
    ]);
    clearTimeout(timer);
    return answer === null ? null : (JSON.parse(answer) as TableMetrics);
  };
  /** Asks until a scan's figures came with its owners, or `waitMs` passed; the last answer either way. */
  const readWithin = async (waitMs: number): Promise<TableMetrics | null> => {
    const until = Date.now() + waitMs;
    for (;;) {
      const metrics = await figures();
      if (metrics === null || metrics.read || Date.now() >= until) return metrics;
      await new Promise((resolve) => setTimeout(resolve, Math.min(READ_RETRY_MS, until - Date.now())));
    }
  };
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
    // A subscriber's table before the first poll is empty, and one sent before its owners would
    // read "the process changed" to an alert: a scrape waits for a scan with its owners.
    const metrics = await readWithin(options.firstReadWaitMs ?? FIRST_READ_WAIT_MS);
    if (metrics === null || !metrics.read)
      return void response
        .writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' })
        .end(
          metrics === null ? 'The poll loop did not answer in time\n' : 'Porthole has not read the socket table yet\n',
        );
    const { openMetrics, contentType } = negotiate(request.headers.accept);
    const body = renderMetrics(metrics, {
      version: options.version,
      maxProcessSeries: options.maxProcessSeries,
      openMetrics,
    });
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
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
