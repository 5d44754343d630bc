// `porthole serve` refuses what is not its own page: no token, a foreign Host (DNS rebinding), a
// WebSocket from a foreign Origin. And a real browser-less client gets the stream it asks for.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { StreamMessage } from '../../src-main/shared/contract';
import { startServe, type Served } from '../helpers/serve';
import { eventually } from '../helpers/workload';

let served: Served;
beforeAll(async () => {
  served = await startServe(['--interval', '250']);
});
afterAll(() => served.stop());

/** A raw GET: fetch would rewrite the Host header and normalise the path. */
function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: served.port, path, headers }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

function openSocket(
  headers: Record<string, string>,
  path = '/stream',
): Promise<{ socket: WebSocket; messages: StreamMessage[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${served.port}${path}`, { headers });
    const messages: StreamMessage[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as StreamMessage));
    socket.once('open', () => resolve({ socket, messages }));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    socket.once('error', reject);
  });
}

describe('porthole serve', () => {
  it('listens on 127.0.0.1 only, and prints a URL with a per-run token', () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
  });

  it('serves the page with its token, with a strict CSP, and sets the token cookie', async () => {
    const response = await get(`/?token=${served.token}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    expect(String(response.headers['set-cookie'])).toMatch(/porthole_token=.*HttpOnly; SameSite=Strict/);
    expect(response.body).toContain('<div id="app">');
  });

  it('refuses requests without the token, with a wrong one, or with a foreign Host', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/?token=wrong')).status).toBe(401);
    expect((await get(`/?token=${served.token}`, { host: `evil.example:${served.port}` })).status).toBe(403);
    expect((await get(`/../../etc/passwd?token=${served.token}`)).status).toBe(404);
  });

  it('refuses a WebSocket from a foreign Origin, without the token, or with a foreign Host', async () => {
    const origin = `http://127.0.0.1:${served.port}`;
    const cookie = `porthole_token=${served.token}`;
    await expect(openSocket({ origin: 'http://evil.example', cookie })).rejects.toThrow('HTTP 403');
    await expect(openSocket({ origin })).rejects.toThrow('HTTP 403');
    await expect(openSocket({ origin, cookie, host: `evil.example:${served.port}` })).rejects.toThrow('HTTP 403');
    expect(served.stderr.join('\n')).toMatch(/refused WebSocket: Foreign Origin http:\/\/evil\.example/);
  });

  it('streams a resync then deltas to a subscriber that acknowledges, and refuses malformed requests', async () => {
    const { socket, messages } = await openSocket({
      origin: `http://127.0.0.1:${served.port}`,
      cookie: `porthole_token=${served.token}`,
    });
    socket.send(JSON.stringify({ type: 'subscribe' }));
    await eventually(() => messages[0]);
    expect(messages[0].type).toBe('resync');
    socket.send(JSON.stringify({ type: 'ack' }));
    await eventually(() => messages.find((m) => m.type === 'delta'));
    socket.send(JSON.stringify({ type: 'interval', ms: 250, extra: 1 }));
    socket.send('not json');
    await eventually(() => (served.stderr.some((l) => l.includes('interval takes { ms: number }')) ? true : undefined));
    expect(served.stderr.join('\n')).toMatch(/refused message: not JSON/);
    socket.close();
  });
});
