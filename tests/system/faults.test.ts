// Faults in the engine while `porthole serve` has viewers (issue 27): the poll worker thread, the
// kernel event reader thread and the privileged helper process are each ended at once (kill -9, or
// its thread's equivalent) and stopped for 10 s (SIGSTOP, or its thread's equivalent). Each time:
// the viewers are told while it lasts, none is dropped, the loop comes back by itself, and what it
// reads afterwards is attributed to the right process.
import { existsSync, readdirSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EventMode, LoopStatus, StreamMessage } from '../../src-main/shared/contract';
import { SERVE_PROTOCOL, SERVE_TOKEN_PREFIX, type ServerMessage } from '../../src-main/shared/ipc';
import { StreamTable } from '../../src-main/track/stream-table';
import { PROJECT_ROOT } from '../helpers/cli';
import { helperPid, startServe, type Served } from '../helpers/serve';
import { Inspector } from '../helpers/inspector';
import { eventually, Workload } from '../helpers/workload';

const HELPER = join(PROJECT_ROOT, 'out/main/helper.js');
const TRACEFS = '/sys/kernel/tracing/instances';
const STOPPED_MS = 10_000;
const workload = new Workload();
let served: Served | null = null;
let faults: Inspector | null = null;

/** A viewer as the UI is one: subscribes, acknowledges every stream message, keeps the table. */
class Viewer {
  readonly table = new StreamTable();
  readonly loops: LoopStatus[] = [];
  readonly modes: EventMode[] = [];
  readonly chainPorts = new Set<number>();
  closed = false;

  private constructor(private readonly ws: WebSocket) {
    ws.on('close', () => (this.closed = true));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as ServerMessage;
      if (message.type === 'loop') this.loops.push(message.loop);
      if (message.type !== 'delta' && message.type !== 'resync') return;
      const stream = message as StreamMessage;
      const mode = stream.type === 'delta' ? stream.delta.eventMode : stream.resync.eventMode;
      if (mode && mode !== this.modes.at(-1)) this.modes.push(mode);
      if (stream.type === 'delta') for (const chain of stream.delta.chains ?? []) this.chainPorts.add(chain.remotePort);
      if (this.table.applyMessage(stream) === 'gap') ws.send(JSON.stringify({ type: 'resync' }));
      ws.send(JSON.stringify({ type: 'ack' }));
    });
  }

  static async open(at: Served): Promise<Viewer> {
    const ws = new WebSocket(`ws://127.0.0.1:${at.port}/stream`, [SERVE_PROTOCOL, SERVE_TOKEN_PREFIX + at.token], {
      headers: { origin: `http://127.0.0.1:${at.port}` },
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const viewer = new Viewer(ws);
    ws.send(JSON.stringify({ type: 'subscribe' }));
    await eventually(() => (viewer.table.seq >= 0 ? true : undefined), 15_000);
    return viewer;
  }

  get loop(): LoopStatus | undefined {
    return this.loops.at(-1);
  }

  /** The pid its table gives the TCP listener on `port`, once it has one. */
  listenerPid(port: number): number | undefined {
    for (const socket of this.table.sockets.values())
      if (socket.state === 'LISTEN' && socket.localPort === port && socket.pid !== null) return socket.pid;
    return undefined;
  }

  close(): void {
    this.ws.close();
  }
}

/** Serve, polling every 500 ms, with two viewers (with the privileged helper when asked). */
async function serveWithViewers(helper = false): Promise<Viewer[]> {
  if (helper) process.env.PORTHOLE_HELPER = `command:${JSON.stringify([process.execPath, HELPER])}`;
  try {
    served = await startServe(['--interval', '500', '--no-history'], ['--inspect-port=0']);
  } finally {
    delete process.env.PORTHOLE_HELPER;
  }
  return Promise.all([Viewer.open(served), Viewer.open(served)]);
}

/** A listener opened after the fault: every viewer must give it its real owner. */
async function attributedAfter(viewers: Viewer[]): Promise<void> {
  const fresh = await workload.start({ role: 'listen', host: '127.0.0.1' });
  for (const viewer of viewers) expect(await eventually(() => viewer.listenerPid(fresh.port!), 15_000)).toBe(fresh.pid);
}

/** Porthole's tracefs instances made by this pid (threads share it): exactly one while events are read. */
function instancesOf(pid: number): string[] {
  return existsSync(TRACEFS) ? readdirSync(TRACEFS).filter((name) => name.startsWith(`porthole-${pid}-`)) : [];
}

/** A short connection to a listener of the workload's, after which event mode must have it. */
async function shortConnection(): Promise<number> {
  const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    const socket = tcpConnect(server.port!, '127.0.0.1', () => socket.end());
    socket.once('close', () => resolve()).once('error', reject);
  });
  return server.port!;
}

afterEach(async () => {
  faults?.close();
  faults = null;
  await served?.stop();
  served = null;
  await workload.stop();
});
afterAll(() => workload.stop());

describe('the poll worker thread', () => {
  it('ended at once: viewers are told, kept, and resume from a loop started again that attributes rightly', async () => {
    const viewers = await serveWithViewers();
    faults = await Inspector.open(served!.child, served!.stderr);
    await faults.end('poll-worker.js');
    for (const viewer of viewers) {
      await eventually(() => (viewer.loops.some((l) => l.state === 'restarting') ? true : undefined), 10_000);
      await eventually(() => (viewer.loop?.state === 'running' ? true : undefined), 15_000);
      expect(viewer.loop).toMatchObject({ state: 'running', kind: 'worker', restarts: 1 });
      expect(viewer.loops.find((l) => l.state === 'restarting')?.message).toContain('poll worker ended');
    }
    await attributedAfter(viewers);
    expect(viewers.every((v) => !v.closed)).toBe(true);
    // The dead thread's event reader had no time to remove its tracefs instance: the host did.
    await eventually(() => (instancesOf(served!.child.pid!).length === 1 ? true : undefined), 10_000);
    expect(served!.stderr.join('\n')).toContain('The poll worker ended; started again.');
  });

  it('stopped for 10 s: viewers are told it stalled while it lasts, then it goes on, not restarted', async () => {
    const viewers = await serveWithViewers();
    faults = await Inspector.open(served!.child, served!.stderr);
    const stopped = Date.now();
    void faults.stop('poll-worker.js', STOPPED_MS);
    for (const viewer of viewers)
      await eventually(() => (viewer.loop?.state === 'stalled' ? true : undefined), STOPPED_MS);
    // Said while it lasted: before the thread went on.
    expect(Date.now() - stopped).toBeLessThan(STOPPED_MS);
    expect(viewers[0].loop!.message).toMatch(/poll worker has not answered since/);
    for (const viewer of viewers) {
      await eventually(() => (viewer.loop?.state === 'running' ? true : undefined), STOPPED_MS + 5_000);
      expect(viewer.loop!.restarts).toBe(0);
    }
    await attributedAfter(viewers);
    expect(viewers.every((v) => !v.closed)).toBe(true);
  });
});

describe('the kernel event reader thread', () => {
  it('ended at once: event mode says so, a new reader takes over, and short connections are seen again', async () => {
    const viewers = await serveWithViewers();
    await eventually(() => (viewers[0].modes.at(-1)?.active ? true : undefined), 10_000);
    faults = await Inspector.open(served!.child, served!.stderr);
    await faults.end('event-worker.js');
    for (const viewer of viewers) {
      await eventually(() => (viewer.modes.some((m) => m.interrupted) ? true : undefined), 10_000);
      expect(viewer.modes.find((m) => m.interrupted)?.reason).toContain('event reader ended');
      await eventually(() => (viewer.modes.at(-1)?.active ? true : undefined), 10_000);
    }
    const port = await shortConnection();
    for (const viewer of viewers) await eventually(() => (viewer.chainPorts.has(port) ? true : undefined), 10_000);
    await attributedAfter(viewers);
    expect(viewers.every((v) => !v.closed && v.loop?.state === 'running')).toBe(true);
    // The dead reader's instance was removed; the new reader's is the one left.
    await eventually(() => (instancesOf(served!.child.pid!).length === 1 ? true : undefined), 10_000);
  });

  it('stopped for 10 s: event mode says it is not answering while it lasts, then reads on', async () => {
    const viewers = await serveWithViewers();
    await eventually(() => (viewers[0].modes.at(-1)?.active ? true : undefined), 10_000);
    faults = await Inspector.open(served!.child, served!.stderr);
    const stopped = Date.now();
    void faults.stop('event-worker.js', STOPPED_MS);
    for (const viewer of viewers)
      await eventually(() => (viewer.modes.at(-1)?.interrupted ? true : undefined), STOPPED_MS);
    expect(Date.now() - stopped).toBeLessThan(STOPPED_MS);
    expect(viewers[0].modes.at(-1)!.reason).toContain('event reader has not answered');
    for (const viewer of viewers)
      await eventually(() => (viewer.modes.at(-1)?.active ? true : undefined), STOPPED_MS + 5_000);
    // The same reader went on (nothing was restarted): short connections are seen again.
    expect(faults.count('event-worker.js')).toBe(1);
    const port = await shortConnection();
    for (const viewer of viewers) await eventually(() => (viewer.chainPorts.has(port) ? true : undefined), 10_000);
    expect(viewers.every((v) => !v.closed && v.loop?.state === 'running')).toBe(true);
  });
});

describe('the privileged helper process', () => {
  it('killed with SIGKILL: viewers are told, kept, and a new helper attributes rightly', async () => {
    const viewers = await serveWithViewers(true);
    await eventually(() => (viewers[0].loop?.kind === 'helper' ? true : undefined), 10_000);
    const first = helperPid(served!.child.pid!);
    process.kill(first, 'SIGKILL');
    for (const viewer of viewers) {
      await eventually(() => (viewer.loops.some((l) => l.state === 'restarting') ? true : undefined), 10_000);
      await eventually(() => (viewer.loop?.state === 'running' ? true : undefined), 15_000);
      expect(viewer.loop).toMatchObject({ kind: 'helper', restarts: 1 });
    }
    expect(helperPid(served!.child.pid!)).not.toBe(first);
    await attributedAfter(viewers);
    expect(viewers.every((v) => !v.closed)).toBe(true);
  });

  it('stopped with SIGSTOP for 10 s: viewers are told it stalled while it lasts; SIGCONT and it goes on', async () => {
    const viewers = await serveWithViewers(true);
    await eventually(() => (viewers[0].loop?.kind === 'helper' ? true : undefined), 10_000);
    const helper = helperPid(served!.child.pid!);
    process.kill(helper, 'SIGSTOP');
    const stopped = Date.now();
    try {
      for (const viewer of viewers)
        await eventually(() => (viewer.loop?.state === 'stalled' ? true : undefined), STOPPED_MS);
      expect(Date.now() - stopped).toBeLessThan(STOPPED_MS);
      expect(viewers[0].loop!.message).toMatch(/privileged helper has not answered since/);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, STOPPED_MS - (Date.now() - stopped))));
    } finally {
      process.kill(helper, 'SIGCONT');
    }
    for (const viewer of viewers) {
      await eventually(() => (viewer.loop?.state === 'running' ? true : undefined), 10_000);
      expect(viewer.loop!.restarts).toBe(0);
    }
    expect(helperPid(served!.child.pid!)).toBe(helper);
    await attributedAfter(viewers);
    expect(viewers.every((v) => !v.closed)).toBe(true);
  });
});
