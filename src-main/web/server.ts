// `porthole serve`: the renderer and its stream over HTTP + WebSocket, on loopback only, the stream
// behind a per-run token. Host and Origin are checked on every request, so a page on another site
// cannot reach it through DNS rebinding or a cross-site WebSocket. Every client is bounded: message
// size, requests in flight, bytes queued, number of viewers; a bad one loses its own connection.

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SERVE_PROTOCOL, SERVE_TOKEN_PREFIX } from '../shared/ipc';
import type { Poller } from '../poll/poller';
import { ViewerSession } from '../viewer/session';
import { createHostActions } from '../viewer/actions';
import type { RecordingControl } from '../history/subscriber';
import type { ReverseDnsMode } from '../shared/ipc';
import type { SourceHub } from './sources';
import { sameSecret } from '../common/secret';

export interface WebServerOptions {
  poller: Poller;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** 0 picks a free port. */
  port: number;
  /** Reports refused requests and errors. */
  log?: (line: string) => void;
  /** Other Porthole servers whose tables every viewer gets too (`serve --source`). */
  sources?: SourceHub;
  /** The token viewers must present; by default a new random one (`serve --token-file`). */
  token?: string;
  /** How remote addresses are named (`serve --reverse-dns`). */
  reverseDns?: ReverseDnsMode;
  /** serve's flight recorder: its state for the viewers, the history they may ask about. */
  recording?: RecordingControl;
}

export interface WebServer {
  /** The URL to open, token included. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};
/** A viewer only ever sends small requests; a larger frame closes that one connection (1009). */
const MAX_MESSAGE_BYTES = 4096;
/** Viewers at once; more are refused (503) rather than each holding a stream and its buffers. */
export const MAX_VIEWERS = 32;
/**
 * Connections that are not a viewer (yet): a page's requests, a handshake on its way, or someone
 * holding sockets open. At most this many at once (more are closed as they come, counted in the
 * log), and each is closed after WAITING_IDLE_MS without a byte: 2,000 idle connections held open
 * for as long as the fd limit allowed.
 */
export const MAX_WAITING_CONNECTIONS = 64;
export const WAITING_IDLE_MS = 10_000;
/**
 * Bytes queued for one viewer past which it is congested. Deltas are flow-controlled by acks, so
 * only replies (a snapshot of 50k sockets is ≈ 7 MB) can pile up: while congested, its requests
 * are answered "busy" and no large reply is queued, so a viewer holds at most this plus one reply.
 */
export const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
/** A congested viewer whose queue has not shrunk for this long is not reading: it is dropped. */
export const STALLED_MS = 10_000;
/** How long a dropped viewer's close handshake may take before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/** The request's path, or null when it is not one (e.g. `//[`): a 400, never an exception. */
function requestPath(request: IncomingMessage): string | null {
  try {
    return new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
  } catch {
    return null;
  }
}

/** The token a WebSocket client offered: as a subprotocol (browsers), or as a bearer token (other clients). */
function offeredToken(request: IncomingMessage): string | undefined {
  const protocols = String(request.headers['sec-websocket-protocol'] ?? '').split(',');
  const offered = protocols.map((p) => p.trim()).find((p) => p.startsWith(SERVE_TOKEN_PREFIX));
  if (offered) return offered.slice(SERVE_TOKEN_PREFIX.length);
  const bearer = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''));
  return bearer?.[1];
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const log = options.log ?? (() => {});
  // The browser host answers the port doctor, kill and snapshot; saving is a browser download.
  const actions = createHostActions(options.poller, null, {
    reverseDns: options.reverseDns,
    ...(options.recording ? { recording: options.recording } : {}),
  });
  const root = normalize(options.rendererDir + sep);
  let port = options.port;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  const csp = () =>
    [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src ws://127.0.0.1:${port} ws://localhost:${port}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; ');

  const refuse = (response: ServerResponse, status: number, reason: string) => {
    log(`refused: ${reason}`);
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${reason}\n`);
  };

  // The page and its scripts are the same for everyone (they hold no data); the data flows only
  // over the WebSocket, which needs the token. The Host check keeps DNS rebinding out of both.
  const server = createServer((request, response) => {
    void (async () => {
      if (!allowedHosts().has(request.headers.host ?? '')) return refuse(response, 403, 'Unknown Host header');
      if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(response, 405, 'Only GET');
      const pathname = requestPath(request);
      let path: string;
      try {
        if (pathname === null) throw new URIError('not a path');
        path = pathname === '/' ? '/index.html' : decodeURIComponent(pathname);
      } catch {
        return refuse(response, 400, 'Bad request path');
      }
      const file = normalize(join(root, path));
      if (!file.startsWith(root) || file.includes('\0')) return refuse(response, 404, 'Not found');
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch {
        return refuse(response, 404, 'Not found');
      }
      response.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-security-policy': csp(),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    })().catch((error: unknown) => {
      log(`error: ${(error as Error).message}`);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  // Connections that are not a viewer: bounded in number and in idle time (see
  // MAX_WAITING_CONNECTIONS). When full, the oldest goes, not the newcomer: whoever holds sockets
  // open cannot keep a real viewer out, only make its own go sooner.
  const waiting = new Set<Socket>();
  let evicted = 0;
  let evictionLogged = 0;
  const becameViewer = new WeakMap<Duplex, () => void>();
  server.headersTimeout = WAITING_IDLE_MS;
  server.requestTimeout = WAITING_IDLE_MS;
  server.on('connection', (socket: Socket) => {
    if (waiting.size >= MAX_WAITING_CONNECTIONS) {
      const oldest = waiting.values().next().value!;
      waiting.delete(oldest);
      oldest.destroy();
      evicted++;
      // Said at most every 10 s, with the count: a flood must not flood the log too.
      if (Date.now() - evictionLogged > 10_000) {
        evictionLogged = Date.now();
        log(
          `closed the oldest of over ${MAX_WAITING_CONNECTIONS} connections that are not viewers (${evicted} so far)`,
        );
      }
    }
    waiting.add(socket);
    socket.once('close', () => waiting.delete(socket));
    socket.setTimeout(WAITING_IDLE_MS, () => socket.destroy());
    becameViewer.set(socket, () => {
      waiting.delete(socket);
      socket.setTimeout(0); // a viewer may be quiet: the stream's own checks look after it
    });
  });
  // A malformed request line or header: answer 400 on that connection, never throw.
  server.on('clientError', (error, socket) => {
    log(`refused: malformed request (${(error as NodeJS.ErrnoException).code ?? error.message})`);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(SERVE_PROTOCOL) ? SERVE_PROTOCOL : false),
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error) => log(`WebSocket connection error: ${error.message}`));
    const reason = !allowedHosts().has(request.headers.host ?? '')
      ? 'Unknown Host header'
      : !allowedOrigins().has(request.headers.origin ?? '') && request.headers.origin !== undefined
        ? `Foreign Origin ${JSON.stringify(String(request.headers.origin).slice(0, 100))}`
        : !sameSecret(offeredToken(request), token)
          ? 'Missing or wrong token'
          : requestPath(request) !== '/stream'
            ? 'Not found'
            : null;
    if (reason) {
      log(`refused WebSocket: ${reason}`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    if (sockets.clients.size >= MAX_VIEWERS) {
      log(`refused WebSocket: already ${MAX_VIEWERS} viewers`);
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    becameViewer.get(socket)?.();
    sockets.handleUpgrade(request, socket, head, (ws) => serveViewer(ws));
  });

  // The poller hands the same message text to every viewer in step, one after another: encode it
  // once and queue that one buffer on every socket, instead of a copy per viewer (18 viewers of a
  // 30,000-socket table held 18 copies of an 8 MB resync until each had read it).
  let lastText: string | null = null;
  let lastBytes: Buffer = Buffer.alloc(0);
  const encoded = (text: string): Buffer => {
    if (text !== lastText) {
      lastText = text;
      lastBytes = Buffer.from(text);
    }
    return lastBytes;
  };

  /** One viewer: its requests in, its stream and replies out, its buffer bounded. */
  const serveViewer = (ws: WebSocket) => {
    let dropped = false;
    const drop = (why: string) => {
      if (dropped) return;
      dropped = true;
      clearInterval(stallCheck);
      log(`dropped a viewer: ${why}`);
      ws.close(1008, why.slice(0, 120));
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    };
    const congested = () => ws.bufferedAmount > MAX_BUFFERED_BYTES;
    /**
     * What may be queued past the bound, said when it is dropped: the largest reply queued for it
     * (one crosses the bound), and the small messages sent while it was over it ("busy" answers).
     */
    let largestReply = 0;
    let sentWhileCongested = 0;
    // Congested and not draining for STALLED_MS: the viewer has stopped reading.
    let stalled: { since: number; bytes: number } | null = null;
    const stallCheck = setInterval(() => {
      if (!congested()) {
        stalled = null;
        sentWhileCongested = 0;
      } else if (!stalled || ws.bufferedAmount < stalled.bytes)
        stalled = { since: Date.now(), bytes: ws.bufferedAmount };
      else if (Date.now() - stalled.since >= STALLED_MS)
        drop(
          `not reading: ${ws.bufferedAmount} bytes waiting (its largest reply ${largestReply} bytes, ${sentWhileCongested} sent while over the bound), none taken for ${STALLED_MS / 1000} s`,
        );
    }, 1000);
    stallCheck.unref();
    const session = new ViewerSession(
      options.poller,
      {
        send: (json) => {
          if (dropped || ws.readyState !== ws.OPEN) return;
          const message = encoded(json);
          if (congested()) sentWhileCongested += message.length;
          ws.send(message, { binary: false });
        },
        // One text message in fragments: the shared body's bytes are encoded once and queued by
        // reference however many viewers (or requests) wait for them.
        sendParts: (parts) => {
          if (dropped || ws.readyState !== ws.OPEN) return;
          const buffers = parts.map((part, i) => (i === 1 ? encoded(part) : Buffer.from(part)));
          largestReply = Math.max(
            largestReply,
            buffers.reduce((n, b) => n + b.length, 0),
          );
          buffers.forEach((buffer, i) => ws.send(buffer, { binary: false, fin: i === buffers.length - 1 }));
        },
        refuse: (why) => log(`refused message: ${why}`),
        drop,
        congested,
      },
      actions,
      options.sources ?? null,
    );
    // A frame over the limit (1009) or not UTF-8 (1007): ws closes that connection and reports it here.
    ws.on('error', (error) => log(`closed a viewer: ${error.message}`));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return log('refused message: binary');
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        return log('refused message: not JSON');
      }
      session.handle(message);
    });
    ws.on('close', () => {
      clearInterval(stallCheck);
      session.close();
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: options.port }, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
