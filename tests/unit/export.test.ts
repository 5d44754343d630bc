// Snapshot exports: CSV (RFC 4180, formula-safe), the text table, and atomic writes.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SOCKET_COLUMNS, type Socket } from '../../src-main/shared/contract';
import { csvCell, printable, renderSnapshot, toCsv, toText } from '../../src-main/export/formats';
import { buildSnapshot } from '../../src-main/export/snapshot';
import { ExportError, writeFileAtomic } from '../../src-main/export/write-atomic';
import { tcp } from '../helpers/sockets';

const stats = { unattributed: 1, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 3 };
const host = { hostname: 'dev-box', platform: 'linux', release: '6.18' };
const unix = (path: string): Socket => ({
  ...tcp('127.0.0.1:1', null),
  protocol: 'unix',
  family: null,
  localAddress: path,
  localPort: null,
  state: 'LISTEN',
  inode: 11,
});

describe('CSV', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', `"'+1"`],
    ['-2', `"'-2"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\tcmd', `"'\tcmd"`],
    ['\rcmd', `"'\rcmd"`],
    ['', ''],
  ])('quotes and neutralises %j as %j', (input, output) => {
    expect(csvCell(input)).toBe(output);
  });

  it('has the contract\u2019s columns and one CRLF-terminated row per socket', () => {
    const csv = toCsv([tcp('127.0.0.1:3000', null, { pids: [100, 101] }), unix('/tmp/=cmd|calc')]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(SOCKET_COLUMNS.join(','));
    expect(lines[1]).toBe('tcp,4,127.0.0.1,3000,,,LISTEN,100,node,1000,5000,100 101,');
    expect(lines[2]).toBe(`unix,,/tmp/=cmd|calc,,,,LISTEN,100,node,1000,11,100,`);
    expect(lines[3]).toBe('');
  });

  it('neutralises a hostile process name', () => {
    const csv = toCsv([tcp('127.0.0.1:3000', null, { processName: '=cmd|/c calc' })]);
    expect(csv.split('\r\n')[1]).toContain(`"'=cmd|/c calc"`);
  });
});

describe('text table', () => {
  it('aligns columns, marks unknown owners and remembered ones, escapes control characters', () => {
    const snapshot = buildSnapshot(
      {
        sockets: [
          tcp('127.0.0.1:3000', null),
          tcp('127.0.0.1:5000', '127.0.0.1:3000', {
            state: 'TIME_WAIT',
            pid: null,
            pids: [],
            processName: null,
            inode: 0,
            lastPid: 77,
          }),
          unix('/tmp/two\nlines\u001b[31m'),
        ],
        processes: [],
        stats,
      },
      host,
      new Date('2026-11-24T10:00:00Z'),
    );
    const lines = toText(snapshot).trimEnd().split('\n');
    expect(lines[0]).toBe(
      'Porthole snapshot of dev-box (linux 6.18) at 2026-11-24T10:00:00.000Z: 3 sockets, 1 without a visible owner (held outside this PID namespace, or in flight)',
    );
    expect(lines.slice(2)).toEqual([
      'PROTO  LOCAL                    REMOTE          STATE      PID   PROCESS  UID   INODE',
      'tcp    127.0.0.1:3000           *               LISTEN     100   node     1000  5000',
      'tcp    127.0.0.1:5000           127.0.0.1:3000  TIME_WAIT  (77)  -        1000  0',
      'unix   /tmp/two\\nlines\\x1b[31m  *               LISTEN     100   node     1000  11',
    ]);
  });

  it('escapes every C0 control and DEL', () => {
    expect(printable('a\u0000b\u007fc\td')).toBe('a\\x00b\\x7fc\\td');
  });

  it('JSON is the snapshot itself, with the format and version first', () => {
    const snapshot = buildSnapshot({ sockets: [], processes: [], stats }, host, new Date(0));
    expect(JSON.parse(renderSnapshot(snapshot, 'json'))).toEqual({
      format: 'porthole.snapshot',
      version: 1,
      takenAt: '1970-01-01T00:00:00.000Z',
      host,
      sockets: [],
      processes: [],
      stats,
    });
  });
});

describe('atomic write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-write-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces a file whole and leaves no temp file', () => {
    const target = join(dir, 'snap.json');
    writeFileSync(target, 'old');
    writeFileAtomic(target, 'new content');
    expect(readFileSync(target, 'utf8')).toBe('new content');
    expect(readdirSync(dir)).toEqual(['snap.json']);
  });

  it('fails with a reason in the user\u2019s words and leaves nothing behind', () => {
    expect(() => writeFileAtomic(join(dir, 'nope', 'x.csv'), 'data')).toThrow(ExportError);
    expect(() => writeFileAtomic(join(dir, 'nope', 'x.csv'), 'data')).toThrow(
      /Cannot write ".*x\.csv": its folder does not exist\. Nothing was written\./,
    );
    expect(() => writeFileAtomic(dir, 'data')).toThrow(/it is a folder/);
    expect(() => writeFileAtomic(join(dir, 'snap.json', 'x'), 'data')).toThrow(/is not a folder/);
    expect(readdirSync(dir)).toEqual(['snap.json']);
  });
});
