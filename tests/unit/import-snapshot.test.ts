// Importing snapshot files: a corpus of malformed and hostile files (tests/fixtures/hostile-snapshots,
// made by its generate.cjs), each rejected with its own reason, no crash, Object.prototype untouched;
// and a real export read back unchanged.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, writeFileSync, truncateSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  address,
  ImportError,
  MAX_SNAPSHOT_BYTES,
  nestingDepth,
  parseSnapshot,
} from '../../src-main/export/import-snapshot';
import { readSnapshotFile } from '../../src-main/export/read-snapshot-file';
import { buildSnapshot } from '../../src-main/export/snapshot';
import { renderSnapshot } from '../../src-main/export/formats';
import { tcp } from '../helpers/sockets';

const CORPUS = join(__dirname, '..', 'fixtures', 'hostile-snapshots');
const expected = JSON.parse(readFileSync(join(CORPUS, 'expected.json.txt'), 'utf8')) as Record<string, string>;
const files = readdirSync(CORPUS).filter((name) => name.endsWith('.json'));
const dir = mkdtempSync(join(tmpdir(), 'porthole-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('snapshot import', () => {
  it('has a corpus of at least 50 hostile files, each with an expected reason', () => {
    expect(files.length).toBeGreaterThanOrEqual(50);
    expect(Object.keys(expected).sort()).toEqual([...files].sort());
  });

  it.each(files)('rejects %s with a clear reason', (name) => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    let error: unknown = null;
    try {
      readSnapshotFile(join(CORPUS, name));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ImportError);
    expect((error as Error).message).toMatch(/^Cannot import ".*": .+\.$/);
    expect((error as Error).message).toMatch(new RegExp(expected[name]));
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('accepts the corpus control file, and the minimal shape of version 1 (no pids, lastPid, stats)', () => {
    const snapshot = readSnapshotFile(join(CORPUS, 'valid.snapshot'));
    expect(snapshot.sockets[0]).toMatchObject({ localPort: 3000, pid: 4242, pids: [4242] });
    const minimal = JSON.parse(readFileSync(join(CORPUS, 'valid.snapshot'), 'utf8'));
    delete minimal.sockets[0].pids;
    delete minimal.sockets[0].lastPid;
    delete minimal.processes[0].ppid;
    delete minimal.processes[0].uid;
    const parsed = parseSnapshot(Buffer.from(JSON.stringify(minimal)));
    expect(parsed.sockets[0]).toMatchObject({ pids: [4242], lastPid: null });
    expect(parsed.processes[0]).toMatchObject({ ppid: null, uid: null });
    expect(parsed.stats).toEqual({ unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 0 });
  });

  it('reads back its own JSON export exactly', () => {
    const snapshot = buildSnapshot(
      {
        sockets: [
          tcp('127.0.0.1:3000', null),
          tcp('[::ffff:127.0.0.1]:3000', '[::ffff:127.0.0.1]:5000', {
            pids: [100, 101],
            traffic: {
              bytesAcked: 100_001,
              bytesReceived: 2_500,
              segmentsOut: 12,
              segmentsIn: 9,
              retransmits: 0,
              rttMs: 0.042,
              deliveryRate: null,
              sendRate: 50_000,
              receiveRate: null,
            },
          }),
        ],
        processes: [
          {
            pid: 100,
            ppid: 1,
            name: 'node',
            command: 'node a.js',
            user: 'dev',
            uid: 1000,
            startedAt: '2026-11-24T09:00:00.000Z',
            cwd: '/',
          },
        ],
        stats: { unattributed: 0, malformedRows: 1, repairedRows: 0, hiddenProcesses: 0, scanMs: 12.5 },
      },
      { hostname: 'dev', platform: 'linux', release: '6.1' },
      new Date('2026-11-24T10:00:00Z'),
    );
    expect(parseSnapshot(Buffer.from(renderSnapshot(snapshot, 'json')))).toEqual(snapshot);
  });

  it('reads back a table taken before its owners were looked up, and says so in its summary', () => {
    const snapshot = buildSnapshot(
      {
        sockets: [tcp('127.0.0.1:3000', null, { pid: null, pids: [] })],
        processes: [],
        stats: {
          unattributed: 0,
          ownersPending: true,
          malformedRows: 0,
          repairedRows: 0,
          hiddenProcesses: 0,
          scanMs: 3,
        },
      },
      { hostname: 'dev', platform: 'linux', release: '6.1' },
      new Date('2026-11-24T10:00:00Z'),
    );
    expect(parseSnapshot(Buffer.from(renderSnapshot(snapshot, 'json')))).toEqual(snapshot);
    expect(renderSnapshot(snapshot, 'text')).toContain('1 sockets, taken before their owners were looked up');
    const json = JSON.parse(renderSnapshot(snapshot, 'json')) as { stats: Record<string, unknown> };
    json.stats.ownersPending = false;
    expect(() => parseSnapshot(Buffer.from(JSON.stringify(json)))).toThrow(
      /stats\.ownersPending must be true when present/,
    );
  });

  it('refuses files too large to be snapshots before reading them, and things that are not files', () => {
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_SNAPSHOT_BYTES + 1); // sparse: nothing is really written
    expect(() => readSnapshotFile(huge)).toThrow(/larger than 67108864 bytes/);
    expect(() => readSnapshotFile(dir)).toThrow(/not a regular file/);
    expect(() => readSnapshotFile('/dev/zero')).toThrow(/not a regular file/);
    expect(() => readSnapshotFile(join(dir, 'missing.json'))).toThrow(/no such file/);
  });

  it('opens a FIFO without hanging and refuses it, and refuses devices by what they are', () => {
    const fifo = join(dir, 'pipe.json');
    execFileSync('mkfifo', [fifo]);
    expect(() => readSnapshotFile(fifo)).toThrow(/it is a named pipe \(FIFO\), not a regular file/);
    expect(() => readSnapshotFile('/dev/null')).toThrow(/it is a character device, not a regular file/);
  });

  it('never quotes the content of the file it refuses (a secret read through a symlink, unknown keys)', () => {
    const secret = join(dir, 'shadow');
    writeFileSync(secret, 'root:$y$j9T$SECRETHASH:19000:0:99999:7:::\n');
    const link = join(dir, 'innocent.json');
    symlinkSync(secret, link);
    const messageOf = (read: () => unknown) => {
      try {
        read();
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('it was accepted');
    };
    const refused = messageOf(() => readSnapshotFile(link));
    expect(refused).toMatch(/it is not valid JSON( \(at character \d+\))?\.$/);
    expect(refused).not.toMatch(/root|SECRETHASH|19000/);
    const valid = JSON.parse(readFileSync(join(CORPUS, 'valid.snapshot'), 'utf8'));
    for (const key of ['password=hunter2', 'AKIASECRET']) {
      const unknown = messageOf(() => parseSnapshot(Buffer.from(JSON.stringify({ ...valid, [key]: 1 }))));
      expect(unknown).toMatch(/has a field that is not one of format, version/);
      expect(unknown).not.toContain(key.slice(0, 6));
    }
  });

  it('counts nesting without being fooled by brackets inside strings', () => {
    expect(nestingDepth('{"a":[1,{"b":"[[[[[[[["}]}', 10)).toBe(3);
    expect(nestingDepth('{"a":"\\"[[[["}', 10)).toBe(1);
  });
});

describe('addresses in imported tables', () => {
  it('takes IPv4 and IPv6 literals (a link-local one with its zone, as macOS prints it), and nothing else', () => {
    for (const good of ['0.0.0.0', '127.0.0.1', '::', '::ffff:127.0.0.1', 'fe80::1%lo0', '2001:db8::42'])
      expect(address(good, 'a', false)).toBe(good);
    expect(address(null, 'a', true)).toBeNull();
    for (const bad of ['999.1.1.1', 'localhost', '127.0.0.1 ', 'fe80::1%', 'fe80::1%lo0\n', '1.2.3', ':::'])
      expect(() => address(bad, 'sockets[0].localAddress', false)).toThrow(/must be an IP address/);
  });
});
