// The real `porthole snapshot` command: formats, atomic --output, errors, and running unprivileged.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOCKET_COLUMNS, type Snapshot } from '../../src-main/shared/contract';
import { at, theListener } from '../helpers/identity';
import { AS_NOBODY, runPorthole } from '../helpers/cli';
import { Workload, type ChildInfo } from '../helpers/workload';

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
  it('prints the versioned JSON format with exactly the DESIGN §4 field names', () => {
    const run = runPorthole(['snapshot', '--format', 'json']);
    expect(run.status).toBe(0);
    const snapshot = JSON.parse(run.stdout) as Snapshot;
    expect(snapshot).toMatchObject({ format: 'porthole.snapshot', version: 1, host: { platform: 'linux' } });
    expect(Object.keys(snapshot)).toEqual(['format', 'version', 'takenAt', 'host', 'sockets', 'processes', 'stats']);
    const listener = theListener(snapshot.sockets, 'tcp', at('127.0.0.1', server.port));
    expect(listener).toMatchObject({ family: 4, pid: server.pid, processName: 'node' });
    expect(Object.keys(listener)).toEqual([...SOCKET_COLUMNS]);
    expect(Object.keys(snapshot.processes.find((p) => p.pid === server.pid)!)).toEqual(
      expect.arrayContaining(['pid', 'name', 'command', 'user', 'startedAt', 'cwd']),
    );
  });

  it('prints CSV with the same columns, one row per socket', () => {
    const run = runPorthole(['snapshot', '--format', 'csv']);
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\r\n');
    expect(lines[0]).toBe(SOCKET_COLUMNS.join(','));
    const row = new RegExp(
      `^tcp,4,127\\.0\\.0\\.1,${server.port},,,LISTEN,${server.pid},node,0,[1-9]\\d*,${server.pid},$`,
    );
    expect(lines.filter((line) => row.test(line))).toHaveLength(1);
  });

  it('prints an aligned text table a person can paste into a bug report', () => {
    const run = runPorthole(['snapshot', '--format', 'text']);
    expect(run.status).toBe(0);
    const [summary, blank, header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(summary).toMatch(/^Porthole snapshot of .+: \d+ sockets, \d+ without a visible owner/);
    expect(blank).toBe('');
    expect(header).toMatch(/^PROTO\s+LOCAL\s+REMOTE\s+STATE\s+PID\s+PROCESS\s+UID\s+INODE$/);
    const listener = new RegExp(
      `^tcp\\s+127\\.0\\.0\\.1:${server.port}\\s+\\*\\s+LISTEN\\s+${server.pid}\\s+node\\s+0\\s+\\d+$`,
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
    const cases: [string, RegExp][] = [
      [join(dir, 'missing', 'x.json'), /its folder does not exist/],
      [folder, /it is a folder/],
    ];
    for (const [target, reason] of cases) {
      const run = runPorthole(['snapshot', '--output', target]);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(reason);
      expect(run.stderr).toMatch(/Nothing was written/);
    }
    // Not permitted: a read-only folder, written to as nobody (root ignores permissions).
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    writeFileSync(join(locked, 'old.json'), 'previous content');
    chmodSync(dir, 0o755);
    chmodSync(locked, 0o555);
    const run = runPorthole(['snapshot', '--output', join(locked, 'old.json')], { cwd: tmpdir() }, AS_NOBODY);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/permission denied/);
    expect(readFileSync(join(locked, 'old.json'), 'utf8')).toBe('previous content');
    expect(readdirSync(locked)).toEqual(['old.json']);
  });

  it('refuses bad input with exit 2 and says why', () => {
    const bad = runPorthole(['snapshot', '--format', 'xml']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Unknown format "xml": use json, csv, text, markdown/);
    expect(runPorthole(['snapshot', '--bogus']).status).toBe(2);
    expect(runPorthole(['frobnicate']).stderr).toMatch(/Unknown command "frobnicate"/);
  });

  it('run unprivileged, shows other users\u2019 sockets with pid null, their uid, and counts them', () => {
    const run = runPorthole(['snapshot', '--format', 'json'], { cwd: tmpdir() }, AS_NOBODY);
    expect(run.status).toBe(0);
    const snapshot = JSON.parse(run.stdout) as Snapshot;
    const listener = theListener(snapshot.sockets, 'tcp', at('127.0.0.1', server.port));
    expect(listener).toMatchObject({ pid: null, processName: null, pids: [], uid: 0 });
    expect(listener.inode).toBeGreaterThan(0);
    expect(snapshot.stats.unattributed).toBeGreaterThanOrEqual(1);
    expect(snapshot.stats.hiddenProcesses).toBeGreaterThan(0);
    const text = runPorthole(['snapshot', '--format', 'text'], { cwd: tmpdir() }, AS_NOBODY);
    expect(text.stdout.split('\n')[0]).toMatch(/processes could not be inspected: run as root to see every owner/);
  });
});
