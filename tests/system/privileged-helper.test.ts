// The privileged helper (issue 13): the poll loop as root in a process of its own, the app side
// unprivileged, joined by pipes the helper was started with (what pkexec hands on). Real
// processes throughout: the helper as root, `porthole watch` as nobody.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { Resync, Snapshot, Socket, StreamMessage } from '../../src-main/shared/contract';
import { parseFromHelper } from '../../src-main/poll/helper-protocol';
import { asNobody, CLI, PROJECT_ROOT, runPorthole } from '../helpers/cli';
import { at, socketsAt } from '../helpers/identity';
import { interruptThenKill, Workload } from '../helpers/workload';
import { Poller } from '../../src-main/poll/poller';
import { connectBackChannel, helperProcessChannel, type Rendezvous } from '../../src-main/poll/channel';

const root = process.getuid?.() === 0;
const HELPER = join(PROJECT_ROOT, 'out/main/helper.js');
const workload = new Workload();
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(interruptThenKill));
  await workload.stop();
});

function startHelper(): ChildProcess {
  const helper = spawn(process.execPath, [HELPER, '--interval', '250'], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(helper);
  return helper;
}

/** The helper's lines, parsed, as they come. */
/** The next line a child prints; from a helper, its heartbeats (`alive`, after every poll) are passed over. */
function linesOf(child: ChildProcess) {
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return async () => {
    for (;;) {
      const line = JSON.parse((await lines.next()).value as string) as Record<string, unknown>;
      if (line.type !== 'alive') return line;
    }
  };
}

const listenerIn = (sockets: Socket[], port: number) => socketsAt(sockets, 'tcp', at('127.0.0.1', port), null)[0];

describe.skipIf(!root)('the privileged helper', () => {
  it('lets an unprivileged app side see the owners only root can see', async () => {
    const held = await workload.start({ role: 'listen', host: '127.0.0.1' });
    // As nobody alone: root's listener is listed, its owner is not.
    const alone = JSON.parse(runPorthole(['snapshot', '--format', 'json'], {}, asNobody()).stdout) as Snapshot;
    expect(listenerIn(alone.sockets, held.port!)).toMatchObject({ pid: null });

    const helper = startHelper();
    const app = spawn(
      asNobody()[0],
      [...asNobody().slice(1), process.execPath, CLI, 'watch', '--json', '--interval', '250'],
      {
        stdio: ['ignore', 'pipe', 'pipe', helper.stdout!, helper.stdin!],
        env: { ...process.env, PORTHOLE_HELPER: 'fds:3,4' },
      },
    );
    children.push(app);
    let appErrors = '';
    app.stderr!.on('data', (chunk) => (appErrors += chunk));
    const next = linesOf(app);
    let owner: number | null | undefined;
    for (let i = 0; i < 20 && !owner; i++) {
      const message = (await next()) as unknown as StreamMessage;
      // The first table may come before its owners (stats.ownersPending): they follow as changes.
      const sockets =
        message.type === 'resync'
          ? message.resync.sockets
          : [...message.delta.added, ...message.delta.changed.map((c) => c.to)];
      owner = listenerIn(sockets, held.port!)?.pid ?? owner;
    }
    expect(owner, appErrors).toBe(held.pid);
  });

  it('refuses every hostile line, says why without quoting it, and goes on; stops only a socket owner the user saw', async () => {
    const holder = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const bystander = await workload.start({ role: 'udp', host: '127.0.0.1' });
    const snapshot = JSON.parse(runPorthole(['snapshot', '--format', 'json']).stdout) as Snapshot;
    const startedAt = (pid: number) => snapshot.processes.find((p) => p.pid === pid)!.startedAt!;
    const helper = startHelper();
    const next = linesOf(helper);
    const say = (line: string) => helper.stdin!.write(line + '\n');
    const hostile = [
      'not json',
      '{"type":"kill","pid":' + holder.pid + '}',
      '{"type":"stop"}',
      '{"type":"subscribe","id":"../../etc/passwd"}',
      '{"type":"interval","ms":1}',
      '{"type":"current","requestId":1,"__proto__":{"polluted":true}}',
      '{"type":"stop-process","requestId":2,"pid":1,"startedAt":"x","force":true}',
      '{"type":"current","requestId":3,"extra":"field"}',
      'x'.repeat(10_000),
    ];
    for (const line of hostile) say(line);
    const errors: string[] = [];
    for (let i = 0; i < hostile.length; i++) {
      const message = await next();
      expect(message.type).toBe('error');
      errors.push(message.message as string);
    }
    expect(errors.join('\n')).not.toContain('passwd');
    expect(errors.join('\n')).not.toContain('xxxx');

    // Once the helper's table holds both test processes as owners (a loaded host polls slowly):
    for (let id = 100; ; id++) {
      say(JSON.stringify({ type: 'current', requestId: id }));
      const answer = await next();
      const owners = (JSON.parse(answer.json as string) as Resync).sockets.flatMap((s) => s.pids);
      if (owners.includes(holder.pid) && owners.includes(bystander.pid)) break;
      expect(id).toBeLessThan(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The one privileged action, refused for a process holding no socket (it does hold a UDP one:
    // use a pid that holds none, the test runner's parent shell is not in the table)…
    say(JSON.stringify({ type: 'stop-process', requestId: 4, pid: process.ppid, startedAt: 'x', force: false }));
    expect(await next()).toMatchObject({ type: 'stopped', requestId: 4, outcome: { ok: false } });
    // …for a socket owner whose start time is not the one the user saw (a reused pid)…
    say(
      JSON.stringify({
        type: 'stop-process',
        requestId: 5,
        pid: bystander.pid,
        startedAt: '2001-01-01T00:00:00.000Z',
        force: false,
      }),
    );
    expect(await next()).toMatchObject({
      type: 'stopped',
      requestId: 5,
      outcome: { ok: false, reason: expect.stringContaining('another process') },
    });
    // …and done for the owner the user saw. Still alive after everything above.
    say(
      JSON.stringify({
        type: 'stop-process',
        requestId: 6,
        pid: holder.pid,
        startedAt: startedAt(holder.pid),
        force: false,
      }),
    );
    expect(await next()).toMatchObject({ type: 'stopped', requestId: 6, outcome: { ok: true, pid: holder.pid } });
    // Gone once its parent (this test's workload) has reaped it.
    await expect
      .poll(() => {
        try {
          process.kill(holder.pid, 0);
          return 'alive';
        } catch {
          return 'gone';
        }
      })
      .toBe('gone');
    expect(() => process.kill(bystander.pid, 0)).not.toThrow();
  });

  it('is started again when it dies, and every viewer continues from a resync', async () => {
    const app = spawn(process.execPath, [CLI, 'watch', '--json', '--interval', '250'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORTHOLE_HELPER: `command:${JSON.stringify([process.execPath, HELPER])}` },
    });
    children.push(app);
    let stderr = '';
    app.stderr!.on('data', (chunk) => (stderr += chunk));
    const next = linesOf(app);
    expect((await next()).type).toBe('resync');
    const helperPid = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .find(
          (p) => existsSync(`/proc/${p}/stat`) && readStat(p).ppid === app.pid && readStat(p).cmd.includes('helper.js'),
        );
    const first = Number(helperPid());
    expect(first).toBeGreaterThan(0);
    process.kill(first, 'SIGKILL');
    let resynced: Resync | undefined;
    for (let i = 0; i < 40 && !resynced; i++) {
      const message = (await next()) as unknown as StreamMessage;
      if (message.type === 'resync') resynced = message.resync;
    }
    expect(resynced).toBeDefined();
    expect(stderr).toContain('privileged helper ended; started again');
    const second = Number(helperPid());
    expect(second).toBeGreaterThan(0);
    expect(second).not.toBe(first);
  });

  it('connecting back, sends nothing but a token: refuses any other file, or a folder that is not private', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'porthole-helper-test-'));
    chmodSync(folder, 0o700);
    const path = join(folder, 'helper.sock');
    const received: Buffer[] = [];
    const server = createServer((socket) => socket.on('data', (chunk) => received.push(chunk)));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const run = (tokenFile: string) =>
      spawnSync(process.execPath, [HELPER, '--connect', path, '--token-file', tokenFile], {
        encoding: 'utf8',
        timeout: 10_000,
      });
    try {
      // A file that is not a token (a root-readable secret, say): refused before connecting.
      const secret = join(folder, 'secret');
      writeFileSync(secret, 'root:$6$not-a-token:19000:0:99999:7:::\n', { mode: 0o600 });
      const refused = run(secret);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain('is not a token');
      // A file outside the socket's folder, and a token in a folder others can read: refused too.
      expect(run('/etc/hostname').status).toBe(2);
      const token = join(folder, 'token');
      writeFileSync(token, 'a'.repeat(64), { mode: 0o600 });
      chmodSync(folder, 0o755);
      expect(run(token).status).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(Buffer.concat(received).length).toBe(0);
    } finally {
      server.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('ends when the app closes its end, and leaves no tracefs instance behind', async () => {
    const helper = startHelper();
    const next = linesOf(helper);
    helper.stdin!.write(JSON.stringify({ type: 'current', requestId: 1 }) + '\n');
    expect((await next()).type).toBe('current');
    // The table as a snapshot document, built by the helper's worker, passes the app's own check.
    helper.stdin!.write(JSON.stringify({ type: 'snapshot', requestId: 2 }) + '\n');
    const line = await next();
    expect(line).toMatchObject({ type: 'snapshot', requestId: 2 });
    expect(parseFromHelper(JSON.stringify(line))).toMatchObject({ type: 'snapshot', requestId: 2 });
    const ended = new Promise<number | null>((resolve) => helper.once('exit', (code) => resolve(code)));
    helper.stdin!.end();
    expect(await ended).toBe(0);
    const instances = '/sys/kernel/tracing/instances';
    if (existsSync(instances))
      expect(readdirSync(instances).filter((n) => n.startsWith(`porthole-${helper.pid}`))).toEqual([]);
  });
});

describe('the app side of the helper', () => {
  it('connects back (macOS/Windows style): only a peer that says the token is the helper, the folder is private and goes', async () => {
    const seen: Rendezvous[] = [];
    const impostorSaw = join(tmpdir(), `porthole-impostor-${process.pid}.txt`);
    // The launcher: an impostor connects first with a wrong token, then the real helper, as an
    // administrator prompt would start it.
    const impostor = (path: string) =>
      `const s=require('net').connect(${JSON.stringify(path)});s.write('not-the-token\\n');` +
      `s.on('close',()=>{require('fs').writeFileSync(${JSON.stringify(impostorSaw)},'closed');process.exit(0)});setTimeout(()=>process.exit(1),3000)`;
    const poller = new Poller({
      intervalMs: 250,
      workerPath: join(PROJECT_ROOT, 'out/main/poll-worker.js'),
      channel: {
        restart: true,
        factory: connectBackChannel((r) => {
          seen.push(r);
          const mode = statSync(dirname(r.path)).mode & 0o777;
          const tokenMode = statSync(r.tokenFile).mode & 0o777;
          seen.push({ path: String(mode), tokenFile: String(tokenMode) });
          return {
            command: 'sh',
            args: [
              '-c',
              `${shellQuote(process.execPath)} -e ${shellQuote(impostor(r.path))}; ` +
                `${shellQuote(process.execPath)} ${shellQuote(HELPER)} --connect ${shellQuote(r.path)} --token-file ${shellQuote(r.tokenFile)} --interval 250`,
            ],
          };
        }),
      },
    });
    const messages: StreamMessage[] = [];
    const subscription = poller.subscribe((json) => {
      messages.push(JSON.parse(json) as StreamMessage);
      subscription.ack();
    });
    try {
      await expect.poll(() => messages.length, { timeout: 10_000 }).toBeGreaterThan(2);
      expect(poller.kind).toBe('helper');
      expect(messages[0].type).toBe('resync');
      expect(readFileSync(impostorSaw, 'utf8')).toBe('closed');
      expect(seen[1]).toEqual({ path: String(0o700), tokenFile: String(0o600) });
      // Once the helper is in, the folder (socket and token) is gone: nobody else can come.
      expect(existsSync(dirname(seen[0].path))).toBe(false);
    } finally {
      subscription.close();
      await poller.stop();
      rmSync(impostorSaw, { force: true });
    }
  });

  it('without consent (the helper never starts), goes on polling as before and says so', async () => {
    const poller = new Poller({ intervalMs: 250, workerPath: join(PROJECT_ROOT, 'out/main/poll-worker.js') });
    const said: string[] = [];
    poller.onError((message) => said.push(message));
    const messages: StreamMessage[] = [];
    const subscription = poller.subscribe((json) => {
      messages.push(JSON.parse(json) as StreamMessage);
      subscription.ack();
    });
    try {
      // pkexec exits 126 when the user dismisses the dialog, before the helper says a word.
      const started = await poller.switchTo({ factory: helperProcessChannel('sh', ['-c', 'exit 126']), restart: true });
      expect(started).toBe(false);
      expect(poller.kind).toBe('worker');
      expect(said.join('\n')).toContain('The privileged helper did not start; polling goes on without it');
      const before = messages.length;
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(messages.length).toBeGreaterThan(before);
      expect(messages.some((m) => m.type === 'resync')).toBe(true);
      // Stopping a process needs the helper: refused, nothing sent.
      expect(await poller.stopProcess({ pid: 4242, startedAt: 'x', force: false })).toMatchObject({ ok: false });
    } finally {
      subscription.close();
      await poller.stop();
    }
  });
});

function readStat(pid: string): { ppid: number; cmd: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return { ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), cmd };
  } catch {
    return { ppid: -1, cmd: '' };
  }
}

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
