// The poll worker and the hosts on top of it: `porthole watch` (text and NDJSON) and `npm start`'s
// fallback when the Electron runtime is missing, all as real processes on real sockets.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { Resync, StreamMessage } from '../../src-main/shared/contract';
import { Poller } from '../../src-main/poll/poller';
import { parseSnapshot } from '../../src-main/export/import-snapshot';
import { TRAY_PORTS, type TrayModel } from '../../src-main/track/tray';
import { asNobody, CLI, PROJECT_ROOT } from '../helpers/cli';
import { at, socketsAt, theListener } from '../helpers/identity';
import { eventually, HELPERS, interruptThenKill, Workload } from '../helpers/workload';

const workload = new Workload();
const running: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(interruptThenKill));
  await workload.stop();
});

const root = process.getuid?.() === 0;

function launch(args: string[], prefix: string[] = []): { child: ChildProcess; stdout: string[]; stderr: string[] } {
  const [command, ...rest] = [...prefix, process.execPath, ...args];
  const child = spawn(command, rest, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  return { child, stdout, stderr };
}

describe('poll worker', () => {
  it('streams a resync, then seq-numbered deltas as JSON text, one at a time per acknowledgement', async () => {
    const poller = new Poller({ intervalMs: 250, workerPath: join(PROJECT_ROOT, 'out/main/poll-worker.js') });
    const messages: StreamMessage[] = [];
    let acking = true;
    let acked = 0;
    const subscription = poller.subscribe((json) => {
      messages.push(JSON.parse(json) as StreamMessage);
      if (acking) {
        subscription.ack();
        acked++;
      }
    });
    try {
      await eventually(() => messages[0]);
      expect(messages[0].type).toBe('resync');
      const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
      const deltas = () => messages.flatMap((m) => (m.type === 'delta' ? [m.delta] : []));
      const listener = at('127.0.0.1', server.port);
      const added = await eventually(
        () =>
          socketsAt(
            deltas().flatMap((d) => d.added),
            'tcp',
            listener,
            null,
          )[0],
      );
      expect(added).toMatchObject({ state: 'LISTEN', pid: server.pid, processName: 'node' });
      // Each delta applies on top of the one before: no gap.
      let seq = messages[0].type === 'resync' ? messages[0].resync.seq : -1;
      for (const delta of deltas()) {
        expect(delta.since).toBe(seq);
        seq = delta.seq;
      }
      // Stop acknowledging: once the window (4 messages) is full, nothing more arrives.
      acking = false;
      await eventually(() => (messages.length - acked >= 4 ? true : undefined), 10_000);
      const count = messages.length;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(messages.length).toBe(count);
      const current = JSON.parse(await poller.current()) as Resync;
      expect(current.seq).toBeGreaterThan(seq);
      expect(theListener(current.sockets, 'tcp', listener)).toMatchObject({ pid: server.pid });
      // What the tray shows and the snapshot to export are worked out in the worker, from the same table.
      const tray = JSON.parse(await poller.tray()) as TrayModel;
      expect(tray.tooltip).toMatch(/^Porthole: \d+ listening ports?$/);
      expect(tray.items.length).toBeGreaterThan(0);
      expect(tray.items.length).toBeLessThanOrEqual(TRAY_PORTS);
      const snapshot = parseSnapshot(Buffer.from(await poller.snapshot()));
      expect(theListener(snapshot.sockets, 'tcp', listener)).toMatchObject({ pid: server.pid });
    } finally {
      subscription.close();
      await poller.stop();
    }
  });
});

describe('a loop without traffic figures', () => {
  it('sends no connection its byte counters; the default loop sends them', async () => {
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 2 });
    const connectionsOf = async (traffic: boolean | undefined) => {
      const poller = new Poller({
        intervalMs: 250,
        traffic,
        workerPath: join(PROJECT_ROOT, 'out/main/poll-worker.js'),
      });
      try {
        return await eventually(async () => {
          const table = JSON.parse(await poller.current()) as Resync;
          const connections = table.sockets.filter(
            (s) => s.localPort === server.port && s.state === 'ESTABLISHED' && s.pid !== null,
          );
          return connections.length === 2 ? connections : undefined;
        });
      } finally {
        await poller.stop();
      }
    };
    expect((await connectionsOf(undefined)).every((s) => s.traffic !== undefined)).toBe(true);
    expect((await connectionsOf(false)).every((s) => s.traffic === undefined)).toBe(true);
  });
});

describe('the first table', () => {
  it('goes out before its owners are looked up, owners "pending", never a wrong one; the next delta fills them in', async () => {
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const listener = at('127.0.0.1', server.port);
    const poller = new Poller({ intervalMs: 1000, workerPath: join(PROJECT_ROOT, 'out/main/poll-worker.js') });
    const messages: StreamMessage[] = [];
    const subscription = poller.subscribe((json) => {
      messages.push(JSON.parse(json) as StreamMessage);
      subscription.ack();
    });
    try {
      /** The listener as each message that carries it has it, with that message's stats. */
      const sightings = () =>
        messages.flatMap((m) => {
          const sockets =
            m.type === 'resync' ? m.resync.sockets : [...m.delta.added, ...m.delta.changed.map((c) => c.to)];
          const stats = m.type === 'resync' ? m.resync.stats : m.delta.stats;
          return sockets
            .filter((s) => s.state === 'LISTEN' && s.localAddress === listener.address && s.localPort === listener.port)
            .map((s) => ({ pid: s.pid, pending: stats?.ownersPending === true }));
        });
      await eventually(() => (sightings().some((s) => s.pid !== null) ? true : undefined));
      const seen = sightings();
      expect(seen[0]).toEqual({ pid: null, pending: true });
      expect(seen.slice(1)).toEqual([{ pid: server.pid, pending: false }]);
      const current = JSON.parse(await poller.current()) as Resync;
      expect(current.stats?.ownersPending).toBeUndefined();
    } finally {
      subscription.close();
      await poller.stop();
    }
  });
});

describe('porthole watch', () => {
  it('--json prints NDJSON stream messages: the whole table first, then each change', async () => {
    const watch = launch([CLI, 'watch', '--json', '--interval', '250']);
    const first = JSON.parse(await eventually(() => watch.stdout[0])) as StreamMessage;
    expect(first.type).toBe('resync');
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const listener = at('127.0.0.1', server.port);
    const added = await eventually(() =>
      watch.stdout
        .slice(1)
        .map((line) => JSON.parse(line) as StreamMessage)
        .flatMap((m) => (m.type === 'delta' ? socketsAt(m.delta.added, 'tcp', listener, null) : []))
        .at(0),
    );
    expect(added).toMatchObject({ state: 'LISTEN', pid: server.pid });
    watch.child.kill('SIGINT');
    expect(await new Promise((resolve) => watch.child.once('exit', resolve))).toBe(0);
  });

  it('prints a line per change for people, and says what polling cannot see', async () => {
    const watch = launch([CLI, 'watch', '--interval', '250']);
    await eventually(() => watch.stderr[0]);
    expect(watch.stderr[0]).toMatch(
      root
        ? /^Watching \d+ sockets, polling every 0\.25 s and recording every TCP state change from kernel events\./
        : /^Watching \d+ sockets, polling every 0\.25 s; connections shorter than that are not seen \(kernel events: .+\)\./,
    );
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    // The listener's own lines: its endpoint with no remote end (other sockets may share the port).
    const listenerLine = (sign: string) =>
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${sign} tcp 127\\.0\\.0\\.1:${server.port} [^→]*$`);
    const line = await eventually(() => watch.stdout.find((l) => listenerLine('\\+').test(l)));
    expect(line).toMatch(new RegExp(` node\\[${server.pid}\\] LISTEN$`));
    await workload.stop();
    const gone = await eventually(() => watch.stdout.find((l) => listenerLine('-').test(l)));
    expect(gone).toMatch(/ LISTEN$/);
  });

  it.skipIf(!root)('says once, without permission for kernel events, that it only polls', async () => {
    const watch = launch([CLI, 'watch', '--interval', '250'], asNobody());
    await eventually(() => watch.stderr[0], 10_000);
    expect(watch.stderr[0]).toMatch(
      /^Watching \d+ sockets, polling every 0\.25 s; connections shorter than that are not seen \(kernel events: (not permitted to use tracefs \(run as root\)|tracefs is not available .*)\)\. Ctrl-C stops\.$/,
    );
  });

  it.skipIf(!root)('prints a burst of short connections as one line per endpoint, with the whole chain', async () => {
    const watch = launch([CLI, 'watch', '--interval', '1000']);
    await eventually(() => watch.stderr[0], 10_000);
    const server = await workload.start({ role: 'closeAfterPeer', host: '127.0.0.1' });
    await promisify(execFile)(process.execPath, [join(HELPERS, 'short-connections.cjs'), String(server.port), '20']);
    // The client's whole chain, each state change the kernel reported.
    const chain = new RegExp(
      `\\* (\\d+) connections → 127\\.0\\.0\\.1:${server.port} SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT`,
    );
    // Lines are per delta: a burst that straddles two (the first connection slow, on a busy host)
    // is two lines, one of them perhaps a single connection's, written as such.
    const single = new RegExp(
      `\\* tcp 127\\.0\\.0\\.1:\\d+ → 127\\.0\\.0\\.1:${server.port} SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT`,
    );
    const counted = () =>
      watch.stdout.reduce((sum, l) => sum + Number(chain.exec(l)?.[1] ?? (single.test(l) ? 1 : 0)), 0);
    await eventually(() => (counted() === 20 ? true : undefined), 5000).catch(() => {
      throw new Error(
        `${counted()} of 20 short connections printed with their chain; watch printed:\n${watch.stdout.join('\n')}`,
      );
    });
    // The server's side is one line per burst too, never a line per connection.
    expect(watch.stdout.filter((l) => l.includes(`127.0.0.1:${server.port} ←`)).length).toBeLessThanOrEqual(5);
  });

  it.skipIf(!root)('says when the kernel lost events, on a line of its own and in the JSON stream', async () => {
    // An 8 KiB buffer a CPU holds ~100 events: 300 connections (3,000 changes) overflow it at once.
    const watch = launch([CLI, 'watch', '--interval', '1000', '--event-buffer-kb', '8']);
    const json = launch([CLI, 'watch', '--json', '--interval', '1000', '--event-buffer-kb', '8']);
    await eventually(() => watch.stderr[0], 10_000);
    await eventually(() => json.stdout[0], 10_000);
    const server = await workload.start({ role: 'closeAfterPeer', host: '127.0.0.1' });
    await promisify(execFile)(process.execPath, [join(HELPERS, 'short-connections.cjs'), String(server.port), '300']);
    const line = await eventually(() => watch.stdout.find((l) => / ! the kernel lost /.test(l)), 5000);
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} ! the kernel lost [\d,]+ TCP events \(its buffer was full; [\d,]+ in all\): some connections are missing or incomplete$/,
    );
    const lost = await eventually(() => {
      const messages = json.stdout.map((l) => JSON.parse(l) as StreamMessage);
      const modes = messages.map((m) => (m.type === 'delta' ? m.delta.eventMode : m.resync.eventMode));
      return modes.find((mode) => (mode?.lost ?? 0) > 0);
    }, 5000);
    expect(lost).toMatchObject({ active: true, reason: null, lost: expect.any(Number) });
  });

  it('refuses an event buffer outside 8 KiB-1 GiB with exit 2 and the range', async () => {
    for (const value of ['4', 'big', '9999999999']) {
      const run = launch([CLI, 'watch', '--event-buffer-kb', value]);
      expect(await new Promise((resolve) => run.child.once('exit', resolve))).toBe(2);
      expect(run.stderr[0]).toBe(
        `porthole watch: --event-buffer-kb takes whole KiB from 8 to 1048576, not "${value}". See "porthole watch --help".`,
      );
    }
  });

  it('refuses an interval outside 250-10000 ms with exit 2 and the range (watch and serve)', async () => {
    for (const [command, value] of [
      ['watch', 'soon'],
      ['watch', '99999999'],
      ['watch', '1e-300'],
      ['serve', '100'],
      ['serve', '250.5'],
    ]) {
      const run = launch([CLI, command, '--interval', value]);
      expect(await new Promise((resolve) => run.child.once('exit', resolve))).toBe(2);
      expect(run.stderr[0]).toBe(
        `porthole ${command}: --interval takes whole milliseconds from 250 to 10000, not "${value}". See "porthole ${command} --help".`,
      );
    }
  });

  it('ends quietly with 0 when its reader goes away (watch --json | head -c 100)', async () => {
    const watch = launch([CLI, 'watch', '--json', '--interval', '250']);
    const exited = new Promise((resolve) => watch.child.once('exit', resolve));
    await new Promise<void>((resolve) => watch.child.stdout!.once('data', () => resolve()));
    watch.child.stdout!.destroy(); // what head does after 100 bytes
    // The next line it writes finds the pipe closed: a new listener makes sure there is one.
    await workload.start({ role: 'listen', host: '127.0.0.1' });
    expect(await exited).toBe(0);
    expect(watch.stderr.join('\n')).not.toMatch(/EPIPE|Error|at /);
    if (root)
      expect(readdirSync('/sys/kernel/tracing/instances').filter((n) => n.includes(`-${watch.child.pid}-`))).toEqual(
        [],
      );
  });
});

// This machine class cannot download Electron's binary; where it can, `npm start` opens the window.
const electronInstalled = existsSync(join(PROJECT_ROOT, 'node_modules/electron/dist'));

describe('npm start without the Electron runtime', () => {
  it.skipIf(electronInstalled)(
    'says so in one sentence and falls back to serving the UI on loopback, printing the URL',
    async () => {
      const start = launch([join(PROJECT_ROOT, 'bin/start.js'), '--port', '0']);
      await eventually(() => start.stdout[0], 10_000);
      expect(start.stderr[0]).toBe(
        'The Electron runtime is not installed here (npm cannot download its binary on this machine), so Porthole serves the same UI to your browser instead: `porthole serve`.',
      );
      const url = /^Porthole is serving its UI at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/.exec(start.stdout[0])![1];
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="app">');
    },
  );
});
