// `porthole serve`: the renderer and its stream over HTTP + WebSocket, on loopback only, behind a
// per-run token. Host and Origin are checked on every request, so a page on another site cannot
// reach it through DNS rebinding or a cross-site WebSocket.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import type { Poller } from './poller';
import { ViewerSession } from './session';
import { createHostActions } from './host-actions';

export interface WebServerOptions {
  poller: Poller;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** 0 picks a free port. */
  port: number;
  /** Reports refused requests and errors. */
  log?: (line: string) => void;
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
const COOKIE = 'porthole_token';
/** A viewer only ever sends small requests. */
const MAX_MESSAGE_BYTES = 4096;

function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function cookieToken(request: IncomingMessage): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === COOKIE) return value;
  }
  return undefined;
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = randomBytes(24).toString('base64url');
  const log = options.log ?? (() => {});
  // The browser host answers the port doctor, kill and snapshot; saving is a browser download.
  const actions = createHostActions(options.poller);
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

  const server = createServer((request, response) => {
    void (async () => {
      if (!allowedHosts().has(request.headers.host ?? '')) return refuse(response, 403, 'Unknown Host header');
      const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
      const presented = url.searchParams.get('token') ?? cookieToken(request);
      if (!sameSecret(presented ?? undefined, token))
        return refuse(response, 401, 'Missing or wrong token: open the URL porthole serve printed');
      if (request.method !== 'GET') return refuse(response, 405, 'Only GET');
      const path = url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname);
      const file = normalize(join(root, path));
      if (!file.startsWith(root)) return refuse(response, 404, 'Not found');
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
        // The token moves from the URL into a cookie only this origin's pages and socket send.
        'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      });
      response.end(body);
    })().catch((error: unknown) => {
      log(`error: ${(error as Error).message}`);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    const reason = !allowedHosts().has(request.headers.host ?? '')
      ? 'Unknown Host header'
      : !allowedOrigins().has(request.headers.origin ?? '')
        ? `Foreign Origin ${request.headers.origin ?? '(none)'}`
        : !sameSecret(url.searchParams.get('token') ?? cookieToken(request), token)
          ? 'Missing or wrong token'
          : url.pathname !== '/stream'
            ? 'Not found'
            : null;
    if (reason) {
      log(`refused WebSocket: ${reason}`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      const session = new ViewerSession(
        options.poller,
        {
          send: (json) => {
            if (ws.readyState === ws.OPEN) ws.send(json);
          },
          refuse: (why) => log(`refused message: ${why}`),
        },
        actions,
      );
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
      ws.on('close', () => session.close());
    });
  });

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
