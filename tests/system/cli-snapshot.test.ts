// The real `porthole snapshot` command: formats, atomic --output, errors, and running unprivileged.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOCKET_COLUMNS, TRAFFIC_COLUMNS, type Snapshot } from '../../src-main/shared/contract';
import { at, theListener } from '../helpers/identity';
import { asNobody, runPorthole } from '../helpers/cli';
import { HELPERS, Workload, type ChildInfo } from '../helpers/workload';

const workload = new Workload();
const dir = mkdtempSync(join(tmpdir(), 'porthole-cli-'));
let server: ChildInfo;

beforeAll(async () => {
  server = await workload.start({ role: 'listen', host: '127.0.0.1' });
});
afterAll(async () => {
  await workload.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('porthole snapshot', () => {
  it('prints the versioned JSON format with exactly the field names of docs/format.md', () => {
    const run = runPorthole(['snapshot', '--format', 'json']);
    expect(run.status).toBe(0);
    const snapshot = JSON.parse(run.stdout) as Snapshot;
    expect(snapshot).toMatchObject({ format: 'porthole.snapshot', version: 1, host: { platform: 'linux' } });
    const keys = Object.keys(snapshot);
    expect(keys.slice(0, 7)).toEqual(['format', 'version', 'takenAt', 'host', 'sockets', 'processes', 'stats']);
    // Then the additive fields of issue 11: the namespaces read (Linux), published ports when any.
    expect(keys.slice(7)).toEqual(expect.arrayContaining(['namespaces']));
    expect(keys.slice(7).every((k) => k === 'namespaces' || k === 'publishedPorts')).toBe(true);
    const listener = theListener(snapshot.sockets, 'tcp', at('127.0.0.1', server.port));
    expect(listener).toMatchObject({ family: 4, pid: server.pid, processName: 'node' });
    // A socket in Porthole's own namespace carries no namespace fields (they name another one).
    // Optional fields: the namespace (Porthole's own here), and those of Unix sockets.
    const optional: readonly string[] = ['netns', 'netnsName', 'unixType', 'peerInode'];
    expect(Object.keys(listener)).toEqual(SOCKET_COLUMNS.filter((c) => !optional.includes(c)));
    expect(Object.keys(snapshot.processes.find((p) => p.pid === server.pid)!)).toEqual(
      expect.arrayContaining(['pid', 'name', 'command', 'user', 'startedAt', 'cwd']),
    );
  });

  it('prints CSV with the same columns, one row per socket', () => {
    const run = runPorthole(['snapshot', '--format', 'csv']);
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\r\n');
    // The traffic columns follow when any connection on the host has figures (empty for a listener).
    const traffic = lines[0] === [...SOCKET_COLUMNS, ...TRAFFIC_COLUMNS].join(',');
    if (!traffic) expect(lines[0]).toBe(SOCKET_COLUMNS.join(','));
    const row = new RegExp(
      `^tcp,4,127\\.0\\.0\\.1,${server.port},,,LISTEN,${server.pid},node,0,[1-9]\\d*,${server.pid},,,,,${traffic ? ','.repeat(TRAFFIC_COLUMNS.length) : ''}$`,
    );
    expect(lines.filter((line) => row.test(line))).toHaveLength(1);
  });

  it('prints an aligned text table a person can paste into a bug report', () => {
    const run = runPorthole(['snapshot', '--format', 'text']);
    expect(run.status).toBe(0);
    const [summary, blank, header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(summary).toMatch(/^Porthole snapshot of .+: \d+ sockets, \d+ without a visible owner/);
    expect(summary).toMatch(/; read through netlink sock_diag$/);
    expect(blank).toBe('');
    // SENT and RECEIVED only when connections on the host carry traffic figures, NAMESPACE only when
    // sockets of other namespaces are on it (tests in parallel make both).
    expect(header).toMatch(
      /^PROTO\s+LOCAL\s+REMOTE\s+STATE\s+PID\s+PROCESS\s+UID\s+INODE(\s+SENT\s+RECEIVED)?(\s+NAMESPACE)?$/,
    );
    const listener = new RegExp(
      `^tcp\\s+127\\.0\\.0\\.1:${server.port}\\s+\\*\\s+LISTEN\\s+${server.pid}\\s+node\\s+0\\s+\\d+(\\s+-\\s+-)?(\\s+host)?$`,
    );
    const [row, ...others] = rows.filter((r) => listener.test(r));
    expect(others).toEqual([]);
    // Columns line up: each column starts at the same offset as in the header.
    expect(row.indexOf('LISTEN')).toBe(header.indexOf('STATE'));
  });

  it('writes --output atomically and infers the format from the extension', () => {
    const target = join(dir, 'snap.csv');
    const run = runPorthole(['snapshot', '--output', target]);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/Wrote \d+ sockets to .*snap\.csv \(csv\)/);
    expect(readFileSync(target, 'utf8').startsWith(SOCKET_COLUMNS.join(','))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('fails clearly and leaves nothing behind when the target cannot be written', () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const missing = runPorthole(['snapshot', '--output', join(dir, 'missing', 'x.json')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/its folder does not exist\. Nothing was written/);
    const intoFolder = runPorthole(['snapshot', '--output', folder]);
    expect(intoFolder.status).toBe(2);
    expect(intoFolder.stderr).toMatch(/it is a folder, and Porthole writes only regular files\. Nothing was written/);
    // Not permitted: a read-only folder, written to as nobody (root ignores permissions).
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    writeFileSync(join(locked, 'old.json'), 'previous content');
    chmodSync(dir, 0o755);
    chmodSync(locked, 0o555);
    const run = runPorthole(['snapshot', '--output', join(locked, 'old.json')], { cwd: tmpdir() }, asNobody());
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/permission denied/);
    expect(readFileSync(join(locked, 'old.json'), 'utf8')).toBe('previous content');
    expect(readdirSync(locked)).toEqual(['old.json']);
  });

  it('writes only regular files: refuses devices, FIFOs, sockets and symlinks (exit 2), leaving them as they were', async () => {
    const fifo = join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    const original = join(dir, 'original.txt');
    writeFileSync(original, 'keep me');
    const link = join(dir, 'link.json');
    symlinkSync(original, link);
    const socketPath = join(dir, 'out.sock');
    await workload.start({ role: 'unixListen', path: socketPath });
    const kinds: [string, RegExp, (path: string) => boolean][] = [
      ['/dev/null', /a character device/, (p) => lstatSync(p).isCharacterDevice()],
      [fifo, /a named pipe \(FIFO\)/, (p) => lstatSync(p).isFIFO()],
      [socketPath, /a socket/, (p) => lstatSync(p).isSocket()],
      [link, /a symbolic link/, (p) => lstatSync(p).isSymbolicLink() && readlinkSync(p) === original],
    ];
    for (const [target, kind, unchanged] of kinds) {
      const run = runPorthole(['snapshot', '--format', 'json', '--output', target], { timeout: 10_000 });
      expect([run.status, run.stderr]).toEqual([2, expect.stringMatching(kind)]);
      expect(run.stderr).toMatch(/Nothing was written/);
      expect(unchanged(target), target).toBe(true);
    }
    expect(readFileSync(original, 'utf8')).toBe('keep me');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps an existing file\u2019s mode and owner, and creates new files 0600', () => {
    const theirs = join(dir, 'theirs.json');
    writeFileSync(theirs, 'old');
    chmodSync(theirs, 0o600);
    chownSync(theirs, 65534, 65534);
    const shared = join(dir, 'shared.csv');
    writeFileSync(shared, 'old');
    chmodSync(shared, 0o640);
    const fresh = join(dir, 'fresh.json');
    for (const target of [theirs, shared, fresh]) expect(runPorthole(['snapshot', '--output', target]).status).toBe(0);
    expect(statSync(theirs)).toMatchObject({ mode: 0o100600, uid: 65534, gid: 65534 });
    expect(statSync(shared)).toMatchObject({ mode: 0o100640, uid: 0 });
    expect(statSync(fresh)).toMatchObject({ mode: 0o100600, uid: 0 });
    expect(readFileSync(theirs, 'utf8')).toMatch(/^\{\n {2}"format": "porthole\.snapshot"/);
  });

  it('escapes control characters of a hostile process name in CSV, as in the text table', async () => {
    const name = 'ev\x1b[2J\x07il\n,x';
    const hostile = (await workload.run('python3', [join(HELPERS, 'named-listener.py'), name])) as unknown as {
      pid: number;
      port: number;
    };
    const csv = runPorthole(['snapshot', '--format', 'csv']).stdout;
    expect(csv).not.toMatch(/[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]/);
    const row = csv
      .split('\r\n')
      .find((line) => line.startsWith(`tcp,4,127.0.0.1,${hostile.port},,,LISTEN,${hostile.pid},`));
    expect(row).toContain(`,"ev\\x1b[2J\\x07il\\n,x",`);
    const text = runPorthole(['snapshot', '--format', 'text']).stdout;
    expect(text).toContain('ev\\x1b[2J\\x07il\\n,x');
  });

  it('refuses bad input with exit 2 and says why', () => {
    const bad = runPorthole(['snapshot', '--format', 'xml']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Unknown format "xml": use json, csv, text, markdown/);
    expect(runPorthole(['snapshot', '--bogus']).status).toBe(2);
    expect(runPorthole(['frobnicate']).stderr).toMatch(/^porthole: unknown command 'frobnicate'/);
  });

  it('run unprivileged, shows other users\u2019 sockets with pid null, their uid, and counts them', () => {
    const run = runPorthole(['snapshot', '--format', 'json'], { cwd: tmpdir() }, asNobody());
    expect(run.status).toBe(0);
    const snapshot = JSON.parse(run.stdout) as Snapshot;
    const listener = theListener(snapshot.sockets, 'tcp', at('127.0.0.1', server.port));
    expect(listener).toMatchObject({ pid: null, processName: null, pids: [], uid: 0 });
    expect(listener.inode).toBeGreaterThan(0);
    expect(snapshot.stats.unattributed).toBeGreaterThanOrEqual(1);
    expect(snapshot.stats.hiddenProcesses).toBeGreaterThan(0);
    const text = runPorthole(['snapshot', '--format', 'text'], { cwd: tmpdir() }, asNobody());
    expect(text.stdout.split('\n')[0]).toMatch(/processes could not be inspected: run as root to see every owner/);
  });
});
