// The flight recorder for real: `porthole serve` records the host's table into a SQLite file while
// real processes open and close listeners, and `porthole history` answers from it afterwards; a
// recorder killed with SIGKILL, a full disk (a small tmpfs) and a read-only folder each leave the
// live view running and lose nothing that was committed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryAnswer, PortHistory } from '../../src-main/history/query';
import type { Snapshot, Socket } from '../../src-main/shared/contract';
import { parseRecording } from '../../src-main/export/import-recording';
import { socketKey } from '../../src-main/track/identity';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, runPorthole } from '../helpers/cli';
import { portOutsideEphemeralRange } from '../helpers/real-servers';
import { startServe, type Served } from '../helpers/serve';
import { eventually, HELPERS, Workload } from '../helpers/workload';

const ROOT = process.getuid?.() === 0;
let dir: string;
const workload = new Workload();
let served: Served | null = null;
const mounts: string[] = [];

beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'porthole-history-'))));
afterEach(async () => {
  await served?.stop();
  served = null;
  await workload.stop();
});
afterAll(() => {
  for (const mount of mounts) execFileSync('umount', ['-l', mount]);
  rmSync(dir, { recursive: true, force: true });
});

function askHistory(path: string, port: number): PortHistory {
  const run = runPorthole(['history', '--port', String(port), '--since', '10 min ago', '--history', path, '--json']);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as PortHistory;
}

/** A tmpfs of `size`, mounted `ro` or not, under the test's folder. */
function tmpfs(name: string, options: string): string {
  const mount = join(dir, name);
  mkdirSync(mount);
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'porthole-test', mount]);
  mounts.push(mount);
  return mount;
}

describe('porthole serve records, porthole history answers', () => {
  it('answers who held a port, with the pid, after the listener has gone', async () => {
    const path = join(dir, 'answer', 'history.sqlite');
    served = await startServe(['--interval', '250', '--history', path]);
    const child = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const port = child.port!;
    // Recorded as soon as a poll has seen it; then it goes.
    await eventually(() => askHistory(path, port).uses.find((u) => u.role === 'listener'), 10_000);
    await workload.stop();
    const gone = await eventually(
      () => askHistory(path, port).uses.find((u) => u.role === 'listener' && u.to !== null),
      10_000,
    );
    expect(gone).toMatchObject({ pid: child.pid, localPort: port, state: 'LISTEN', protocol: 'tcp' });
    expect(gone.command).toContain('socket-child.cjs');
    expect(gone.to! - gone.from).toBeGreaterThan(0);
    const text = runPorthole(['history', '--port', String(port), '--history', path]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(`listener +tcp 127\\.0\\.0\\.1:${port} LISTEN +node \\(pid ${child.pid}\\)`),
    );
  });

  it('answers for a pid, a process name and a remote address, alone and together', async () => {
    const path = join(dir, 'who-talked', 'history.sqlite');
    served = await startServe(['--interval', '250', '--history', path]);
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const client = await workload.start({
      role: 'connect',
      host: '127.0.0.1',
      port: server.port,
      count: 2,
      from: '127.0.0.3',
    });
    const ask = (...question: string[]) => {
      const run = runPorthole(['history', ...question, '--since', '10 min ago', '--history', path, '--json']);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      return (JSON.parse(run.stdout) as HistoryAnswer).uses;
    };
    // The client's two connections, by its pid, once a poll has recorded them.
    const mine = await eventually(() => {
      const uses = ask('--pid', String(client.pid));
      return uses.length === 2 ? uses : undefined;
    }, 10_000);
    expect(mine.map((u) => [u.role, u.remoteAddress, u.remotePort, u.localAddress])).toEqual([
      ['connection', '127.0.0.1', server.port, '127.0.0.3'],
      ['connection', '127.0.0.1', server.port, '127.0.0.3'],
    ]);
    // The server's side of them, by the address they came from: owned by the listener's process.
    const accepted = ask('--remote', '127.0.0.3');
    expect(accepted.map((u) => [u.pid, u.localPort]).sort()).toEqual([
      [server.pid, server.port],
      [server.pid, server.port],
    ]);
    // A name and an address together: node's connections to the server, not its accepted ones.
    const toServer = ask('--process', 'node', '--remote', `127.0.0.1:${server.port}`);
    expect(toServer.map((u) => u.pid)).toEqual([client.pid, client.pid]);
    const text = runPorthole(['history', '--pid', String(client.pid), '--history', path]);
    expect(text.stdout).toMatch(new RegExp(`^Pid ${client.pid} from .*: 2 uses\n`));
    expect(text.stdout).toMatch(
      new RegExp(
        `connection tcp 127\\.0\\.0\\.3:\\d+ ↔ 127\\.0\\.0\\.1:${server.port} ESTABLISHED +node \\(pid ${client.pid}\\)`,
      ),
    );
    // What is not an address is refused with what it takes.
    const bad = runPorthole(['history', '--remote', 'db.example', '--history', path]);
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining('--remote takes an IP address')]);
  });

  it('past its budget a minute, keeps short connections as counts, and says so wherever they show', async () => {
    const path = join(dir, 'folded', 'history.sqlite');
    served = await startServe(['--interval', '250', '--history', path, '--history-budget', '5']);
    const server = await workload.start({ role: 'closeAfterPeer', host: '127.0.0.1' });
    // 40 connections, each closed by the client first: what the polls see is their TIME_WAIT.
    await promisify(execFile)(process.execPath, [join(HELPERS, 'short-connections.cjs'), String(server.port), '40']);
    // Each of the 40 is in the history once: one by one (5 a minute at most) or in a count.
    const clients = (answer: HistoryAnswer) =>
      answer.uses.filter((u) => u.role === 'client').length +
      answer.folded.filter((f) => f.role === 'client').reduce((n, f) => n + f.count, 0);
    const answer = await eventually(() => {
      const a = askHistory(path, server.port!);
      return clients(a) === 40 ? a : undefined;
    }, 10_000);
    // 40 connections in at most two minutes: at most 10 kept one by one, the rest counted.
    expect(answer.uses.filter((u) => u.role === 'client').length).toBeLessThanOrEqual(10);
    const fold = answer.folded.find((f) => f.role === 'client')!;
    expect(fold).toMatchObject({
      protocol: 'tcp',
      remoteAddress: '127.0.0.1',
      remotePort: server.port,
      localPort: null,
    });
    expect(answer.foldedCount).toBeGreaterThanOrEqual(30);
    const text = runPorthole(['history', '--port', String(server.port!), '--history', path]).stdout;
    expect(text).toMatch(/\+ \d+ short connections kept only as counts a minute/);
    expect(text).toMatch(new RegExp(`\\d+ × tcp → 127\\.0\\.0\\.1:${server.port} +no visible owner`));
    // The table of that minute says how many it does not list.
    const at = new Date(Math.min(fold.to - 1, answer.lastRecorded!)).toISOString();
    const past = runPorthole(['snapshot', '--at', at, '--history', path, '--format', 'json']);
    expect(past.status).toBe(0);
    expect((JSON.parse(past.stdout) as Snapshot).stats.foldedConnections).toBeGreaterThan(0);
    const summary = runPorthole(['snapshot', '--at', at, '--history', path, '--format', 'text']).stdout;
    expect(summary).toMatch(/, \d+ short connections of that minute kept only as a count \(not listed\)/);
  });

  it('answers who held a port at a past moment with who --at, as who answers now', async () => {
    const path = join(dir, 'who-at', 'history.sqlite');
    served = await startServe(['--interval', '250', '--history', path]);
    // A port no outgoing connection is given: once free, it stays free (asked below).
    const child = await workload.start({ role: 'listen', host: '127.0.0.1', port: await portOutsideEphemeralRange() });
    const port = child.port!;
    await eventually(() => askHistory(path, port).uses.find((u) => u.role === 'listener'), 10_000);
    const held = new Date().toISOString();
    await workload.stop();
    await eventually(() => askHistory(path, port).uses.find((u) => u.role === 'listener' && u.to !== null), 10_000);
    const then = runPorthole(['who', String(port), '--at', held, '--history', path]);
    expect(then.stderr).toBe('');
    expect(then.status).toBe(1);
    expect(then.stdout.split('\n')[0]).toMatch(
      new RegExp(
        `^At \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\(from the history\\): tcp port ${port} is in use: node \\(pid ${child.pid}, user root\\) listens on 127\\.0\\.0\\.1:${port}\\.$`,
      ),
    );
    expect(then.stdout).toContain('No bind was tried: a past moment, answered from the listeners recorded then.');
    expect(then.stdout).toContain(`what holds it now: porthole who ${port}`);
    const json = JSON.parse(runPorthole(['who', String(port), '--at', held, '--history', path, '--json']).stdout) as {
      verdict: string;
      listeners: { socket: { pid: number } }[];
    };
    expect(json.verdict).toBe('in-use');
    expect(json.listeners.map((l) => l.socket.pid)).toEqual([child.pid]);
    // A moment since it went: free then, as now.
    const after = runPorthole([
      'who',
      String(port),
      '--at',
      new Date(Date.now() - 300).toISOString(),
      '--history',
      path,
    ]);
    expect(after.status).toBe(0);
    expect(after.stdout).toMatch(new RegExp(`\\(from the history\\): tcp port ${port} is free to bind\\.`));
    // Stopping is for now only.
    const kill = runPorthole(['who', String(port), '--at', held, '--history', path, '--kill']);
    expect(kill.status).toBe(2);
    expect(kill.stderr).toContain('--kill acts on now, not on a moment (--at).');
  });

  it('cuts the recording of a range with history --cut, which the UI and import read back', async () => {
    const path = join(dir, 'cut', 'history.sqlite');
    served = await startServe(['--interval', '250', '--history', path]);
    await eventually(() => (existsSync(`${path}.lock`) ? true : undefined), 5000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const since = new Date().toISOString();
    const child = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await eventually(() => askHistory(path, child.port!).uses.find((u) => u.role === 'listener'), 10_000);
    await workload.stop();
    await eventually(
      () => askHistory(path, child.port!).uses.find((u) => u.role === 'listener' && u.to !== null),
      10_000,
    );
    const file = join(dir, 'cut', 'cut.ndjson');
    const run = runPorthole(['history', '--cut', '--since', since, '--history', path, '--output', file]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const messages = parseRecording(readFileSync(file, 'utf8'));
    expect(messages[0].type).toBe('resync');
    const deltas = messages.flatMap((m) => (m.type === 'delta' ? [m.delta] : []));
    const listening = (s: Socket) => s.state === 'LISTEN' && s.localPort === child.port;
    const came = deltas.find((d) => d.added.some(listening));
    expect(came?.added.find(listening)?.pid).toBe(child.pid);
    expect(came?.processes.find((p) => p.pid === child.pid)?.command).toContain('socket-child.cjs');
    const went = deltas.find((d) => d.removed.some((key) => key === socketKey(came!.added.find(listening)!)));
    expect(Date.parse(went!.at)).toBeGreaterThan(Date.parse(came!.at));
  });

  it('rebuilds a past moment with snapshot --at as snapshot printed it then', async () => {
    const path = join(dir, 'at', 'history.sqlite');
    served = await startServe(['--interval', '250', '--history', path]);
    const child = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await eventually(() => askHistory(path, child.port!).uses.find((u) => u.role === 'listener'), 10_000);
    const then = JSON.parse(runPorthole(['snapshot', '--format', 'json']).stdout) as Snapshot;
    // The listener goes; the history still knows the moment the snapshot was taken.
    await workload.stop();
    await eventually(
      () => askHistory(path, child.port!).uses.find((u) => u.role === 'listener' && u.to !== null),
      10_000,
    );
    const past = runPorthole(['snapshot', '--at', then.takenAt, '--history', path, '--format', 'json']);
    expect(past.stderr).toBe('');
    expect(past.status).toBe(0);
    const rebuilt = JSON.parse(past.stdout) as Snapshot;
    expect(rebuilt.takenAt).toBe(then.takenAt);
    // Every TCP listener of this namespace, with its owner: the same then and rebuilt (the busy
    // host's short connections come and go within a poll, listeners do not).
    const listeners = (s: Snapshot) =>
      s.sockets
        .filter((x) => x.protocol === 'tcp' && x.state === 'LISTEN' && x.netns === undefined)
        .map((x) => `${x.localAddress}:${x.localPort} ${x.pid}`)
        .sort();
    expect(listeners(rebuilt)).toEqual(listeners(then));
    expect(listeners(rebuilt)).toContain(`127.0.0.1:${child.port} ${child.pid}`);
    expect(rebuilt.processes.find((p) => p.pid === child.pid)?.command).toContain('socket-child.cjs');
    // Text too, as snapshot prints it; and a moment after the history ends is refused with why.
    const text = runPorthole(['snapshot', '--at', then.takenAt, '--history', path, '--format', 'text']);
    expect(text.stdout).toContain(`127.0.0.1:${child.port}`);
    const future = runPorthole(['snapshot', '--at', new Date(Date.now() + 3600_000).toISOString(), '--history', path]);
    expect(future.status).toBe(1);
    expect(future.stderr).toMatch(/^porthole snapshot: the history was last written at .*, before that moment\n$/);
  });

  it('keeps what was committed when the recorder is killed with SIGKILL, and ends its spans there', async () => {
    const path = join(dir, 'killed', 'history.sqlite');
    served = await startServe(['--interval', '250', '--history', path]);
    const child = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await eventually(() => askHistory(path, child.port!).uses.find((u) => u.role === 'listener'), 10_000);
    served.child.kill('SIGKILL');
    await new Promise((resolve) => served!.child.once('exit', resolve));
    served = null;
    // Still open in the file (the recorder never saw it go); a new recorder ends it where the
    // last one stopped, and starts it again as it finds it still there.
    const open = askHistory(path, child.port!).uses.filter((u) => u.role === 'listener');
    expect(open).toHaveLength(1);
    served = await startServe(['--interval', '250', '--history', path]);
    const spans = await eventually(() => {
      const uses = askHistory(path, child.port!).uses.filter((u) => u.role === 'listener');
      return uses.length === 2 ? uses : undefined;
    }, 10_000);
    expect(spans[0].to).not.toBeNull();
    expect(spans.map((s) => s.pid)).toEqual([child.pid, child.pid]);
  });

  it.runIf(ROOT)('on a full disk, pauses recording with a message while the live view goes on', async () => {
    // 160 KiB: room for the schema and the first polls; the log of each poll's transaction then
    // fills it within seconds (sooner on the busy host, whose 20,000 TIME_WAIT never fit).
    const path = join(tmpfs('full', 'size=160k'), 'history.sqlite');
    served = await startServe(['--interval', '250', '--history', path]);
    await eventually(
      () => served!.stderr.find((line) => /history paused, the live view goes on: .*full/i.test(line)),
      20_000,
    );
    const page = await fetch(served.url);
    expect(page.status).toBe(200);
    expect(served.child.exitCode).toBeNull();
  });

  it.runIf(ROOT)('in a read-only folder, says it does not record and serves', async () => {
    const folder = tmpfs('ro', 'ro,size=64k');
    served = await startServe(['--interval', '250', '--history', join(folder, 'porthole', 'history.sqlite')]);
    await eventually(
      () => served!.stderr.find((line) => /not recording history: .*(read-only|EROFS)/i.test(line)),
      5000,
    );
    expect((await fetch(served.url)).status).toBe(200);
    expect(existsSync(join(folder, 'porthole'))).toBe(false);
  });

  it('has one recorder a file: a second serve on it says so and serves; the first records on', async () => {
    const path = join(dir, 'shared', 'history.sqlite');
    served = await startServe(['--interval', '250', '--history', path]);
    await eventually(() => (existsSync(`${path}.lock`) ? true : undefined), 5000);
    const second = await startServe(['--interval', '250', '--history', path]);
    try {
      const said = await eventually(() => second.stderr.find((line) => line.includes('not recording history')), 5000);
      expect(said).toBe(
        `porthole: not recording history: another Porthole (pid ${served.child.pid}) is recording into ${path}; only one may`,
      );
      expect((await fetch(second.url)).status).toBe(200);
      // The first goes on: a listener opened now is in the history with its owner.
      const held = await workload.start({ role: 'listen', host: '127.0.0.1' });
      await eventually(
        () => (askHistory(path, held.port!).uses.some((u) => u.pid === held.pid) ? true : undefined),
        10_000,
      );
    } finally {
      await second.stop();
    }
  });

  it('records without a UI with porthole record, until stopped', async () => {
    const path = join(dir, 'record', 'history.sqlite');
    const recorder = spawn(process.execPath, [CLI, 'record', '--interval', '250', '--history', path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let said = '';
    recorder.stderr.on('data', (chunk) => (said += chunk));
    try {
      // It says so once the history is open (its schema written).
      await eventually(() => (said.includes('Recording the socket table into') ? true : undefined), 10_000);
      const child = await workload.start({ role: 'listen', host: '127.0.0.1' });
      const use = await eventually(() => askHistory(path, child.port!).uses.find((u) => u.role === 'listener'), 10_000);
      expect(use.pid).toBe(child.pid);
    } finally {
      recorder.kill('SIGINT');
    }
    const code = await new Promise((resolve) => recorder.once('exit', resolve));
    expect(code).toBe(0);
  });

  it('records nothing with --no-history', async () => {
    const state = mkdtempSync(join(dir, 'state-'));
    served = await startServe(['--no-history'], [], ['env', `XDG_STATE_HOME=${state}`]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(existsSync(join(state, 'porthole'))).toBe(false);
  });
});
