// serve --source with real Porthole servers: three "machines" (network namespaces, each with its
// own `porthole serve` and token, reached through a tunnel as over `ssh -L`), merged by a fourth
// serve on the host. A client on one machine talks to a server on another over a link between
// them: both ends are in the merged table. One machine is killed mid-stream: it turns stale, the
// others go on; started again, it is connected again. A source given a wrong token is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { HostsStatus, HostStatus, Socket, StreamMessage } from '../../src-main/shared/contract';
import type { ServerMessage } from '../../src-main/shared/ipc';
import { SERVE_PROTOCOL } from '../../src-main/shared/ipc';
import { socketKey } from '../../src-main/track/identity';
import { Machines, type Machine } from '../helpers/machines';
import { TestNamespaces } from '../helpers/netns';
import { runPorthole } from '../helpers/cli';
import { startServe, type Served } from '../helpers/serve';
import { eventually, Workload } from '../helpers/workload';

const root = process.getuid?.() === 0;

/** A viewer of the merging serve: applies every host's stream as the UI does, and acknowledges. */
class Viewer {
  readonly tables = new Map<string, Map<string, Socket>>();
  hosts: HostsStatus | null = null;
  local = 0;
  private readonly ws: WebSocket;
  constructor(served: Served) {
    this.ws = new WebSocket(`ws://127.0.0.1:${served.port}/stream`, [SERVE_PROTOCOL], {
      headers: { authorization: `Bearer ${served.token}` },
    });
    this.ws.on('open', () => this.ws.send(JSON.stringify({ type: 'subscribe' })));
    this.ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as ServerMessage;
      if (message.type === 'hosts') this.hosts = message.hosts;
      else if (message.type === 'host') {
        this.apply(message.host, message.message);
        this.ws.send(JSON.stringify({ type: 'ack', host: message.host }));
      } else if (message.type === 'resync' || message.type === 'delta') {
        this.local++;
        this.ws.send(JSON.stringify({ type: 'ack' }));
      }
    });
  }
  private apply(host: string, message: StreamMessage): void {
    if (message.type === 'resync') {
      this.tables.set(host, new Map(message.resync.sockets.map((s) => [socketKey(s), s])));
      return;
    }
    const table = this.tables.get(host)!;
    for (const key of message.delta.removed) table.delete(key);
    for (const s of message.delta.added) table.set(socketKey(s), s);
    for (const c of message.delta.changed) table.set(c.key, c.to);
  }
  status(name: string): HostStatus | undefined {
    return this.hosts?.sources.find((s) => s.name === name);
  }
  sockets(host: string): Socket[] {
    return [...(this.tables.get(host)?.values() ?? [])];
  }
  close(): void {
    this.ws.terminate();
  }
}

describe.runIf(root)('several machines in one serve (serve --source)', () => {
  const namespaces = new TestNamespaces();
  const workload = new Workload();
  const machines = new Machines(namespaces, workload);
  let alpha: Machine;
  let beta: Machine;
  let gamma: Machine;
  let merged: Served;
  let viewer: Viewer;
  let link: { a: string; b: string };
  let folder: string;

  beforeAll(async () => {
    [alpha, beta, gamma] = await Promise.all([machines.add('alpha'), machines.add('beta'), machines.add('gamma')]);
    link = machines.link(alpha, beta);
    // beta serves on its end of the link; alpha's client connects to it across.
    const server = await namespaces.start(workload, beta.netns, { role: 'listen', host: link.b });
    await namespaces.start(workload, alpha.netns, { role: 'connect', host: link.b, port: server.port, count: 3 });
    // beta's token from a file (kept out of the process list), alpha's in its URL, gamma's wrong.
    folder = mkdtempSync(join(tmpdir(), 'porthole-sources-'));
    writeFileSync(join(folder, 'beta.token'), beta.token, { mode: 0o600 });
    merged = await startServe([
      ...['--source', `alpha=${alpha.url}`],
      ...[
        '--source',
        `beta=http://127.0.0.1:${beta.port}/`,
        '--source-token-file',
        `beta=${join(folder, 'beta.token')}`,
      ],
      ...['--source', `gamma=http://127.0.0.1:${gamma.port}/?token=${'x'.repeat(24)}`],
    ]);
    viewer = new Viewer(merged);
  }, 60_000);

  afterAll(async () => {
    viewer?.close();
    await merged?.stop();
    await machines.stop();
    await workload.stop();
    namespaces.cleanup();
    if (folder) rmSync(folder, { recursive: true, force: true });
  }, 60_000);

  it('shows each machine’s own table, stamped with its name, beside this one’s', async () => {
    await eventually(
      () =>
        (viewer.status('alpha')?.state === 'connected' && viewer.status('beta')?.state === 'connected') || undefined,
      30_000,
    );
    // What a source's serve says besides its stream (its loop's and recorder's state) is not refused.
    expect([viewer.status('alpha')?.refused, viewer.status('beta')?.refused]).toEqual([0, 0]);
    // beta's listener on its end of the link, and alpha's three clients to it.
    const listener = await eventually(
      () => viewer.sockets('beta').find((s) => s.state === 'LISTEN' && s.localAddress === link.b),
      15_000,
    );
    expect(listener.host).toBe('beta');
    // A source's first table may come before its owners (stats.ownersPending): wait for them too.
    const clients = await eventually(() => {
      const found = viewer
        .sockets('alpha')
        .filter((s) => s.remoteAddress === link.b && s.remotePort === listener.localPort && s.state === 'ESTABLISHED');
      return found.length === 3 && found.every((s) => s.pid !== null) ? found : undefined;
    }, 15_000);
    expect(clients.every((s) => s.host === 'alpha' && s.netns === undefined && s.pid !== null)).toBe(true);
    // The server ends are beta's, in beta's own namespace: each one's peer is one of alpha's clients.
    const ends = clients.map((s) => `${s.localAddress}:${s.localPort}`).sort();
    const accepted = await eventually(() => {
      const found = viewer
        .sockets('beta')
        .filter((s) => s.localAddress === link.b && s.localPort === listener.localPort && s.state === 'ESTABLISHED')
        .map((s) => `${s.remoteAddress}:${s.remotePort}`)
        .sort();
      return found.length === 3 ? found : undefined;
    }, 15_000);
    expect(accepted).toEqual(ends);
    // This machine's own stream came too, apart.
    expect(viewer.local).toBeGreaterThan(0);
    expect(viewer.hosts!.local.length).toBeGreaterThan(0);
  }, 60_000);

  it('refuses a source whose token is wrong, and says why', async () => {
    const gammaStatus = await eventually(() => {
      const s = viewer.status('gamma');
      return s?.state === 'refused' ? s : undefined;
    }, 20_000);
    expect(gammaStatus.reason).toMatch(/403/);
    expect(viewer.sockets('gamma')).toEqual([]);
    // Gamma itself logged the refusal: the merging serve did knock, with a token.
    expect(gamma.served.stderr.join('\n')).toMatch(/refused WebSocket: Missing or wrong token/);
  }, 30_000);

  it('marks a machine killed mid-stream stale, keeps the others going, and reconnects when it is back', async () => {
    await eventually(() => viewer.status('alpha')?.state === 'connected' || undefined, 20_000);
    alpha.kill();
    const stale = await eventually(() => {
      const s = viewer.status('alpha');
      return s?.state === 'stale' ? s : undefined;
    }, 20_000);
    expect(stale.reason).toMatch(/connection lost/);
    // Its last table stays shown (marked stale), not emptied, and no longer moves.
    const alphaRows = viewer.sockets('alpha').length;
    expect(viewer.sockets('alpha').filter((s) => s.remoteAddress === link.b && s.state === 'ESTABLISHED')).toHaveLength(
      3,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(viewer.sockets('alpha').length).toBe(alphaRows);
    // beta goes on: a new listener in beta reaches the viewer while alpha is down.
    const more = await namespaces.start(workload, beta.netns, { role: 'listen', host: '127.0.0.1' });
    await eventually(
      () => viewer.sockets('beta').find((s) => s.state === 'LISTEN' && s.localPort === more.port),
      15_000,
    );
    expect(viewer.status('beta')?.state).toBe('connected');
    expect(viewer.status('alpha')?.state).toBe('stale');
    // alpha again, on the same port with the same token: connected, its table whole again.
    await alpha.restart();
    await eventually(() => viewer.status('alpha')?.state === 'connected' || undefined, 40_000);
    await eventually(
      () =>
        viewer.sockets('alpha').filter((s) => s.remoteAddress === link.b && s.state === 'ESTABLISHED').length === 3 ||
        undefined,
      15_000,
    );
  }, 120_000);
});

describe('serve --source and --token-file: bad input', () => {
  it('is refused with exit 2 and a reason, before anything listens', () => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-source-args-'));
    try {
      const plus = join(dir, 'plus.token');
      writeFileSync(plus, 'a+b/c=d'.repeat(4)); // + and / would not survive a URL's query
      const good = join(dir, 'good.token');
      writeFileSync(good, 'x'.repeat(24));
      const cases: [string[], RegExp][] = [
        [['--source', 'no-equals-sign'], /--source is NAME=URL/],
        [['--source', 'a=ftp://127.0.0.1:1/?token=' + 'x'.repeat(20)], /http\(s\) or ws\(s\)/],
        [['--source', 'a=http://127.0.0.1:1/'], /no token/],
        [
          [
            '--source',
            `a=http://127.0.0.1:1/?token=${'x'.repeat(20)}`,
            '--source',
            `a=http://127.0.0.1:2/?token=${'x'.repeat(20)}`,
          ],
          /Two sources are called "a"/,
        ],
        [['--source', 'a=http://127.0.0.1:1/', '--source-token-file', `b=${good}`], /no token|names "b"/],
        [['--token-file', plus], /--token-file holds one token/],
        [['--source', 'a=http://127.0.0.1:1/', '--source-token-file', `a=${join(dir, 'missing')}`], /no such file/],
      ];
      for (const [args, reason] of cases) {
        const run = runPorthole(['serve', ...args], { timeout: 10_000 });
        expect(run.status, args.join(' ')).toBe(2);
        expect(run.stderr, args.join(' ')).toMatch(reason);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
