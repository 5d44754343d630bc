// `porthole serve` refuses what is not its own page: no token, a foreign Host (DNS rebinding), a
// WebSocket from a foreign Origin; and holds against hostile clients (issue 10): malformed requests,
// oversized or invalid frames, request floods, a client that never reads. A real browser-less
// client gets the stream it asks for.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SERVE_PROTOCOL, SERVE_TOKEN_PREFIX, type Reply, type ServerMessage } from '../../src-main/shared/ipc';
import { MAX_BUFFERED_BYTES, MAX_WAITING_CONNECTIONS, WAITING_IDLE_MS } from '../../src-main/web/server';
import { startServe, type Served } from '../helpers/serve';
import { eventually, Workload } from '../helpers/workload';

let served: Served;
beforeAll(async () => {
  served = await startServe(['--interval', '250']);
});
const workload = new Workload();
afterAll(async () => {
  await served.stop();
  await workload.stop();
});

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
  options: { path?: string; token?: string | null } = {},
): Promise<{ socket: WebSocket; messages: ServerMessage[] }> {
  const token = options.token === undefined ? served.token : options.token;
  const protocols = token === null ? [SERVE_PROTOCOL] : [SERVE_PROTOCOL, SERVE_TOKEN_PREFIX + token];
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${served.port}${options.path ?? '/stream'}`, protocols, { headers });
    const messages: ServerMessage[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as ServerMessage));
    socket.once('open', () => resolve({ socket, messages }));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    socket.once('error', reject);
  });
}

/** Sends raw bytes on a new TCP connection and returns what the server answers before closing. */
function raw(bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(served.port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

const origin = () => `http://127.0.0.1:${served.port}`;
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** A viewer that subscribes and acknowledges, as the UI does; counts the deltas it receives. */
async function goodViewer() {
  const viewer = await openSocket({ origin: origin() });
  let deltas = 0;
  viewer.socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    if (message.type === 'delta') deltas++;
    if (message.type === 'resync' || message.type === 'delta') viewer.socket.send(JSON.stringify({ type: 'ack' }));
  });
  viewer.socket.send(JSON.stringify({ type: 'subscribe' }));
  return { ...viewer, deltas: () => deltas };
}

describe('porthole serve', () => {
  it('listens on 127.0.0.1 only, and prints a URL with a per-run token', () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
  });

  it('serves the page with a strict CSP and sets no cookie: the token never leaves the page', async () => {
    const response = await get(`/?token=${served.token}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.body).toContain('<div id="app">');
    // The page holds no data: it is the same without a token; the stream is what needs one.
    expect((await get('/')).body).toBe(response.body);
  });

  it('refuses a foreign Host, paths outside the UI, methods other than GET, and malformed paths', async () => {
    expect((await get(`/?token=${served.token}`, { host: `evil.example:${served.port}` })).status).toBe(403);
    expect((await get(`/../../etc/passwd`)).status).toBe(404);
    expect((await get('/%E0%A4%A')).status).toBe(400);
    expect(await raw(`GET //[ HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 (400|404)/);
    expect(await raw('GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
  });

  it('refuses a WebSocket from a foreign Origin, without the token, with a wrong one, or with a foreign Host', async () => {
    await expect(openSocket({ origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(openSocket({ origin: origin() }, { token: null })).rejects.toThrow('HTTP 403');
    await expect(openSocket({ origin: origin() }, { token: 'x'.repeat(32) })).rejects.toThrow('HTTP 403');
    await expect(openSocket({ origin: origin(), host: `evil.example:${served.port}` })).rejects.toThrow('HTTP 403');
    // The token in the URL or a cookie, as before, no longer lets anyone in.
    await expect(
      openSocket(
        { origin: origin(), cookie: `porthole_token=${served.token}` },
        { token: null, path: `/stream?token=${served.token}` },
      ),
    ).rejects.toThrow('HTTP 403');
    expect(served.stderr.join('\n')).toMatch(/refused WebSocket: Foreign Origin "http:\/\/evil\.example"/);
  });

  it('survives a token of the right length whose last character is not ASCII (a byte more: refused, keeps serving)', async () => {
    // Headers are latin-1: é is one character here and two bytes once encoded. Comparing by
    // characters and then by bytes threw out of the upgrade handler and ended the server.
    const token = Buffer.concat([Buffer.from(served.token.slice(0, -1)), Buffer.from([0xe9])]);
    const answer = await raw(
      Buffer.concat([
        Buffer.from(
          `GET /stream HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
            `Sec-WebSocket-Protocol: ${SERVE_PROTOCOL}, ${SERVE_TOKEN_PREFIX}`,
        ),
        token,
        Buffer.from('\r\n\r\n'),
      ]),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 403/);
    expect(served.child.exitCode).toBeNull();
    const viewer = await goodViewer();
    await eventually(() => (viewer.deltas() > 0 ? true : undefined), 5000);
    viewer.socket.close();
  });

  it('survives an upgrade whose path is not a URL, sent without a token (answers it, keeps serving)', async () => {
    const upgrade = (path: string) =>
      raw(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    for (const path of ['//[', '/%', 'http://[::1', '*']) expect(await upgrade(path)).toMatch(/^HTTP\/1\.1 (400|403)/);
    expect(served.child.exitCode).toBeNull();
    const viewer = await goodViewer();
    await eventually(() => (viewer.deltas() > 0 ? true : undefined), 5000);
    viewer.socket.close();
  });

  it('closes only the connection that sends an oversized frame (1009) or invalid UTF-8 (1007)', async () => {
    const bystander = await goodViewer();
    const closeCode = async (payload: Buffer | string) => {
      const { socket } = await openSocket({ origin: origin() });
      const code = new Promise<number>((resolve) => socket.once('close', (c) => resolve(c)));
      socket.on('error', () => {});
      if (typeof payload === 'string') socket.send(payload);
      else socket.send(payload, { binary: false });
      return code;
    };
    expect(await closeCode('{"type":"ack","pad":"' + 'x'.repeat(10_000) + '"}')).toBe(1009);
    expect(await closeCode(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe(1007);
    const before = bystander.deltas();
    await eventually(() => (bystander.deltas() > before ? true : undefined), 5000);
    expect(served.child.exitCode).toBeNull();
    bystander.socket.close();
  });

  it('answers at most 8 requests of one viewer at a time and refuses the rest as busy', async () => {
    const { socket, messages } = await openSocket({ origin: origin() });
    const burst = Array.from({ length: 40 }, (_, i) => JSON.stringify({ type: 'snapshot', id: i + 1 }));
    for (const frame of burst) socket.send(frame);
    const replies = () => messages.filter((m): m is Reply => m.type === 'reply');
    await eventually(() => (replies().length >= 40 ? true : undefined), 20_000);
    const ok = replies().filter((r) => r.ok).length;
    const busy = replies().flatMap((r) => (!r.ok && /^busy: /.test(r.error) ? [r.error] : []));
    // 40 at once: the ninth finds 8 in flight. (On a busy host, with snapshots of megabytes, some
    // later ones may also be told that earlier answers are still waiting to be read.)
    expect(busy.filter((error) => /8 requests are already being answered/.test(error)).length).toBeGreaterThanOrEqual(
      1,
    );
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok + busy.length).toBe(40);
    socket.close();
  });

  it('drops a viewer that sends more than 100 messages a second, and serves the others', async () => {
    const bystander = await goodViewer();
    const { socket } = await openSocket({ origin: origin() });
    socket.on('error', () => {});
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    for (let i = 0; i < 1000; i++) socket.send(JSON.stringify({ type: 'ack' }));
    expect(await closed).toBe(1008);
    expect(served.stderr.join('\n')).toMatch(/dropped a viewer: over 100 messages a second/);
    const before = bystander.deltas();
    await eventually(() => (bystander.deltas() > before ? true : undefined), 5000);
    bystander.socket.close();
  });

  it('drops a viewer that asks for snapshots without reading them, keeps memory bounded, and serves the others', async () => {
    // 4,000 sockets make each snapshot reply about a megabyte, whatever else the host holds.
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 2000 });
    const bystander = await goodViewer();
    // One snapshot reply's size here (the host's whole table: 20,000–60,000 sockets on CI).
    const replySize = await new Promise<number>((resolve) => {
      const listener = (data: WebSocket.RawData) => {
        if (!String(data).startsWith('{"type":"reply","id":424242,')) return;
        bystander.socket.off('message', listener);
        resolve((data as Buffer).length);
      };
      bystander.socket.on('message', listener);
      bystander.socket.send(JSON.stringify({ type: 'snapshot', id: 424242 }));
    });
    const { socket } = await openSocket({ origin: origin() });
    socket.on('error', () => {});
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    (socket as unknown as { _socket: Socket })._socket.pause(); // never read again
    let id = 0;
    let peak = 0;
    // 60 requests a second: within the rate bound, so only the bytes waiting for it can stop it.
    const flood = setInterval(() => {
      for (let i = 0; i < 6; i++) socket.send(JSON.stringify({ type: 'snapshot', id: ++id }));
      peak = Math.max(peak, rssMb(served.child.pid!));
    }, 100);
    let dropLine: string | undefined;
    try {
      dropLine = await eventually(() => served.stderr.find((l) => /dropped a viewer: not reading/.test(l)), 30_000);
    } finally {
      clearInterval(flood);
    }
    (socket as unknown as { _socket: Socket })._socket.resume();
    expect(await closed).not.toBe(1000);
    // What the server held for it when it gave up: the bound, at most the one reply that crossed it
    // (the table grows on this busy host while the flood goes on: the largest reply it queued), and
    // the small messages sent to it while it was over the bound (its requests' "busy" answers).
    const [, heldText, largestText, otherText] =
      /not reading: (\d+) bytes waiting \(its largest reply (\d+) bytes, (\d+) sent while over the bound\)/.exec(
        dropLine,
      )!;
    const held = Number(heldText);
    const largest = Number(largestText);
    console.log(
      `non-reading viewer dropped after ${id} requests holding ${(held / 2 ** 20).toFixed(1)} MB (a reply: ${(replySize / 2 ** 20).toFixed(1)} MB); server RSS peak ${peak.toFixed(0)} MB`,
    );
    expect(held).toBeGreaterThan(MAX_BUFFERED_BYTES);
    expect(largest).toBeGreaterThanOrEqual(replySize * 0.5); // a whole table, not a busy answer
    expect(held).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + largest + Number(otherText));
    // RSS is V8's sizing of two heaps (the main thread's and the poll worker's) for the host's table,
    // which CI's busy host makes 20,000–60,000 sockets: only a ceiling here (the bound is above).
    expect(peak).toBeLessThan(640);
    const before = bystander.deltas();
    await eventually(() => (bystander.deltas() > before ? true : undefined), 5000);
    expect(served.child.exitCode).toBeNull();
    bystander.socket.close();
  }, 60_000);

  it('keeps at most 64 connections that are not viewers, closes idle ones, and still lets a viewer in', async () => {
    const idle = await Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect(served.port, '127.0.0.1', () => resolve(socket));
            socket.on('error', () => undefined); // closed by the server: expected for most
            socket.once('timeout', reject);
          }),
      ),
    );
    const open = () => idle.filter((s) => !s.destroyed && s.readyState === 'open').length;
    const closes = idle.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
    // The oldest went as the newer came: at most the cap stays.
    await eventually(() => (open() <= MAX_WAITING_CONNECTIONS ? true : undefined), 5000);
    // A viewer gets in while they are held (one more of them goes).
    const viewer = await openSocket({ origin: origin() });
    viewer.socket.close();
    // Those left are closed once idle for WAITING_IDLE_MS.
    const started = Date.now();
    await Promise.all(closes);
    expect(Date.now() - started).toBeLessThan(WAITING_IDLE_MS + 5000);
    expect(served.stderr.join('\n')).toMatch(
      /closed the oldest of over 64 connections that are not viewers \(\d+ so far\)/,
    );
  }, 30_000);

  it('streams a resync then deltas to a subscriber that acknowledges, and refuses malformed requests', async () => {
    const { socket, messages } = await openSocket({ origin: origin() });
    socket.send(JSON.stringify({ type: 'subscribe' }));
    await eventually(() => messages[2]);
    // How the poll loop and the flight recorder are doing come first, then the table, then deltas.
    expect(messages[0]).toMatchObject({ type: 'loop', loop: { state: 'running', restarts: 0 } });
    expect(messages[1]).toMatchObject({ type: 'history' });
    expect(messages[2].type).toBe('resync');
    socket.send(JSON.stringify({ type: 'ack' }));
    await eventually(() => messages.find((m) => m.type === 'delta'));
    socket.send(JSON.stringify({ type: 'interval', ms: 250, extra: 1 }));
    socket.send('not json');
    await eventually(() =>
      served.stderr.some((l) => l.includes('interval has a field it does not take')) ? true : undefined,
    );
    expect(served.stderr.join('\n')).toMatch(/refused message: not JSON/);
    socket.close();
  });
});
