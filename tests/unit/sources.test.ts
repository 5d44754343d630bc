// serve --source: a source is untrusted input. A stand-in source on loopback (a WebSocket server
// speaking the stream protocol, as a hostile or broken Porthole could) sends what it likes; the hub
// must stamp, bound and validate it, say each source's state, and keep the others going.
// The real `porthole serve` processes as sources: tests/system/sources.test.ts.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { HostsStatus, Resync, ScanStats, Socket, StreamMessage } from '../../src-main/shared/contract';
import type { ServerMessage } from '../../src-main/shared/ipc';
import {
  MAX_SOURCE_MESSAGES_PER_SECOND,
  parseSourceSpec,
  SOURCE_LIMITS,
  SourceSet,
  SourceSpecError,
  type SourceSpec,
} from '../../src-main/web/sources';
import { otherEndFinder, ownerLabel } from '../../src-main/track/local-peers';
import { hostOfKey, socketKey } from '../../src-main/track/identity';
import { tcp } from '../helpers/sockets';

const TOKEN = 'a-token-of-some-length-0123456789';
const stats: ScanStats = { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 };
const resync = (seq: number, sockets: Socket[]): StreamMessage => ({
  type: 'resync',
  resync: { seq, at: new Date().toISOString(), sockets, processes: [], stats },
});

/** A stand-in source: checks the bearer token, then runs `script` on each viewer that connects. */
async function standIn(script: (ws: WebSocket, received: unknown[]) => void, token = TOKEN) {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info, done) =>
      info.req.headers.authorization === `Bearer ${token}` ? done(true) : done(false, 403, 'Forbidden'),
    handleProtocols: () => 'porthole.v1',
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const received: unknown[] = [];
  server.on('connection', (ws) => {
    ws.on('message', (data) => received.push(JSON.parse(String(data))));
    script(ws, received);
  });
  const port = (server.address() as AddressInfo).port;
  cleanups.push(() => {
    for (const client of server.clients) client.terminate();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port, received, server, url: `http://127.0.0.1:${port}/?token=${token}` };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A hub with one viewer, and what that viewer was sent. */
function hubWith(specs: SourceSpec[], limits = SOURCE_LIMITS) {
  const hub = new SourceSet(specs, () => {}, 'here', limits);
  cleanups.push(() => hub.close());
  const sent: ServerMessage[] = [];
  hub.subscribe('viewer', (json) => {
    const message = JSON.parse(json) as ServerMessage;
    sent.push(message);
    if (message.type === 'host') hub.ack('viewer', message.host);
  });
  const status = (name: string) => hub.status().sources.find((s) => s.name === name)!;
  return { hub, sent, status };
}

async function until<T>(what: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = what();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const lastTable = (sent: ServerMessage[], host: string): Resync | undefined =>
  sent
    .filter((m): m is Extract<ServerMessage, { type: 'host' }> => m.type === 'host' && m.host === host)
    .map((m) => m.message)
    .filter((m): m is Extract<StreamMessage, { type: 'resync' }> => m.type === 'resync')
    .map((m) => m.resync)
    .pop();

describe('--source NAME=URL', () => {
  it('takes the URL serve printed, or a token from a file; refuses what is not one', () => {
    expect(parseSourceSpec(`staging=http://127.0.0.1:7001/?token=${TOKEN}`)).toEqual({
      name: 'staging',
      streamUrl: 'ws://127.0.0.1:7001/stream',
      token: TOKEN,
    });
    expect(parseSourceSpec('vm.2=https://[::1]:7002/', new Map([['vm.2', TOKEN]]))).toMatchObject({
      streamUrl: 'wss://[::1]:7002/stream',
      token: TOKEN,
    });
    for (const bad of [
      `=http://127.0.0.1:1/?token=${TOKEN}`,
      `a b=http://127.0.0.1:1/?token=${TOKEN}`,
      `${'x'.repeat(33)}=http://127.0.0.1:1/?token=${TOKEN}`,
      `staging=file:///etc/passwd?token=${TOKEN}`,
      `staging=http://user:${TOKEN}@127.0.0.1:1/`,
      'staging=http://127.0.0.1:1/',
      'staging=http://127.0.0.1:1/?token=short',
      'staging=not a url',
    ])
      expect(() => parseSourceSpec(bad), bad).toThrow(SourceSpecError);
  });
});

describe('SourceSet', () => {
  it('re-streams a source’s table with its host stamped, and its changes with their own seq', async () => {
    const listener = tcp('0.0.0.0:5432', null, { inode: 7 });
    const client = tcp('10.0.0.2:5432', '10.0.0.1:40000', { inode: 8 });
    const source = await standIn((ws) => {
      ws.send(JSON.stringify(resync(41, [listener])));
      ws.send(
        JSON.stringify({
          type: 'delta',
          delta: {
            seq: 42,
            since: 41,
            at: new Date().toISOString(),
            added: [client],
            removed: [],
            changed: [],
            processes: [],
            stats,
          },
        } satisfies StreamMessage),
      );
    });
    const { sent, status } = hubWith([parseSourceSpec(`db=${source.url}`)]);
    const delta = await until(() =>
      sent.find((m): m is Extract<ServerMessage, { type: 'host' }> => m.type === 'host' && m.message.type === 'delta'),
    );
    expect(sent[0]).toMatchObject({ type: 'hosts', hosts: { local: 'here', sources: [{ name: 'db' }] } });
    const table = lastTable(sent, 'db')!;
    expect(table.sockets).toEqual([{ ...listener, host: 'db' }]);
    // The key says the machine (the renderer finds a row's table by it); this machine's says none.
    expect(hostOfKey(socketKey(table.sockets[0]))).toBe('db');
    expect(hostOfKey(socketKey(listener))).toBeUndefined();
    expect(delta.message.type === 'delta' && delta.message.delta).toMatchObject({
      since: table.seq,
      seq: table.seq + 1,
      added: [{ ...client, host: 'db' }],
    });
    await until(() => status('db').state === 'connected');
    expect(status('db')).toMatchObject({
      sockets: 2,
      refused: 0,
      reason: null,
      url: `ws://127.0.0.1:${source.port}/stream`,
    });
    // The hub acknowledges each message it applied, as a viewer does.
    await until(() => source.received.filter((m) => (m as { type: string }).type === 'ack').length >= 2);
    expect(source.received[0]).toEqual({ type: 'subscribe' });
  });

  // Each message is one a hostile source could send: every one costs it the connection, and is counted.
  const hostile: [string, (ws: WebSocket) => void, RegExp][] = [
    [
      'claims a host of its own',
      (ws) => ws.send(JSON.stringify(resync(1, [{ ...tcp('0.0.0.0:1', null), host: 'here' }]))),
      /resync\.sockets\[0\] has a field that is not one of/,
    ],
    ['is not JSON', (ws) => ws.send('{"type":"resync",'), /not valid JSON/],
    ['carries a prototype key', (ws) => ws.send('{"type":"resync","resync":{"__proto__":{"x":1}}}'), /not allowed/],
    [
      'is a reply, not a stream message',
      (ws) => ws.send('{"type":"reply","id":1,"ok":true,"value":1}'),
      /not a stream message/,
    ],
    ['is binary', (ws) => ws.send(Buffer.from('{}')), /binary/],
    [
      'changes a socket it never sent',
      (ws) => {
        ws.send(JSON.stringify(resync(1, [])));
        const to = tcp('0.0.0.0:22', null);
        ws.send(
          JSON.stringify({
            type: 'delta',
            delta: {
              seq: 2,
              since: 1,
              at: new Date().toISOString(),
              added: [],
              removed: [],
              changed: [{ key: socketKey(to), from: { pid: 1 }, to }],
              processes: [],
              stats,
            },
          }),
        );
      },
      /never sent/,
    ],
    [
      'floods',
      (ws) => {
        for (let i = 0; i < 3 * MAX_SOURCE_MESSAGES_PER_SECOND; i++) ws.send(JSON.stringify(resync(i, [])));
      },
      /messages a second/,
    ],
  ];
  for (const [what, script, reason] of hostile)
    it(`cuts off a source whose message ${what}, and says why`, async () => {
      const source = await standIn(script);
      const { status } = hubWith([parseSourceSpec(`bad=${source.url}`)]);
      const s = await until(() => status('bad').state === 'refused' && status('bad'));
      expect(s.reason).toMatch(reason);
      expect(s.refused).toBe(1);
    });

  it('cuts off a source past its bytes a second, and one message over the largest', async () => {
    const limits = { ...SOURCE_LIMITS, messageBytes: 64 * 1024, bytesPerSecond: 100 * 1024 };
    // Each resync ≈ 40 KB (under the largest message), ten of them at once: 400 KB past a 64 KB burst.
    const many = Array.from({ length: 200 }, (_, i) => tcp('0.0.0.0:1', null, { inode: i + 1 }));
    const heavy = await standIn((ws) => {
      for (let i = 0; i < 10; i++) ws.send(JSON.stringify(resync(i, many)));
    });
    const huge = await standIn((ws) => ws.send(JSON.stringify(resync(1, [...many, ...many, ...many]))));
    const { status } = hubWith([parseSourceSpec(`heavy=${heavy.url}`), parseSourceSpec(`huge=${huge.url}`)], limits);
    await until(() => status('heavy').state === 'refused');
    expect(status('heavy').reason).toMatch(/over 102400 bytes a second/);
    await until(() => status('huge').state === 'refused');
    expect(status('huge').reason).toMatch(/a message over 65536 bytes/);
  });

  it('keeps a refused, an unreachable and a lost source apart, and the good one going', async () => {
    const good = await standIn((ws) => ws.send(JSON.stringify(resync(1, [tcp('0.0.0.0:80', null)]))));
    const wrongToken = await standIn(() => {}, 'another-token-0123456789abcdef');
    const gone = await standIn(() => {});
    const goneUrl = gone.url;
    await new Promise<void>((resolve) => gone.server.close(() => resolve()));
    const lost = await standIn((ws) => {
      ws.send(JSON.stringify(resync(1, [tcp('0.0.0.0:81', null)])));
      setTimeout(() => ws.terminate(), 300);
    });
    const { sent, status } = hubWith([
      parseSourceSpec(`good=${good.url}`),
      parseSourceSpec(`wrong=${wrongToken.url.replace(/token=.*/, `token=${TOKEN}`)}`),
      parseSourceSpec(`gone=${goneUrl}`),
      parseSourceSpec(`lost=${lost.url}`),
    ]);
    await until(() => status('wrong').state === 'refused');
    expect(status('wrong').reason).toMatch(/403/);
    await until(() => status('gone').state === 'unreachable');
    expect(status('gone').reason).toMatch(/connection refused/);
    await until(() => status('lost').state === 'stale');
    expect(status('lost').reason).toMatch(/connection lost/);
    expect(status('good').state).toBe('connected');
    expect(lastTable(sent, 'good')!.sockets).toHaveLength(1);
    // The lost source's last table is still what the viewer has (stale, not emptied).
    expect(lastTable(sent, 'lost')!.sockets.map((s) => s.localPort)).toEqual([81]);
    // Every change of state reached the viewer.
    const told = sent.filter((m): m is { type: 'hosts'; hosts: HostsStatus } => m.type === 'hosts');
    expect(
      told
        .at(-1)!
        .hosts.sources.map((s) => s.state)
        .sort(),
    ).toEqual(['connected', 'refused', 'stale', 'unreachable'].sort());
  });
});

describe('the other end on another machine', () => {
  it('is found between two machines’ own namespaces when exactly one holds it', () => {
    const server = tcp('10.9.0.2:80', '10.9.0.1:40000', { host: 'b', pid: 20, processName: 'nginx' });
    const client = tcp('10.9.0.1:40000', '10.9.0.2:80', { host: 'a', pid: 10, processName: 'curl' });
    const find = otherEndFinder([server, client]);
    expect(find(server)).toBe(client);
    expect(ownerLabel(find(server)!)).toBe('curl (10) on a');
    expect(find(client)).toBe(server);
    // In another namespace (a container's address is translated on its way out): not matched.
    const inContainer = { ...client, netns: 4026532000, netnsName: 'c' };
    expect(otherEndFinder([server, inContainer])(server)).toBeUndefined();
    // Two machines holding the same pair of ends: neither is the other end.
    const twin = { ...client, host: 'c' };
    expect(otherEndFinder([server, client, twin])(server)).toBeUndefined();
    // On one machine, a non-loopback pair is not "another machine".
    const local = tcp('10.9.0.1:40000', '10.9.0.2:80');
    expect(otherEndFinder([local, { ...server, host: undefined }])(local)).toBeUndefined();
  });
});
