// Snapshot exports: CSV (RFC 4180, formula-safe), the text table, and atomic writes.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SOCKET_COLUMNS, type ConnectionChain, type Socket } from '../../src-main/shared/contract';
import {
  csvCell,
  LISTED_CHAINS,
  printable,
  renderSnapshot,
  toCsv,
  toMarkdown,
  toText,
} from '../../src-main/export/formats';
import { parseSnapshot } from '../../src-main/export/import-snapshot';
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
  unixType: 'stream',
});

describe('CSV', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', 'two\\nlines'],
    ['bell\u0007 esc\u001b[2J', 'bell\\x07 esc\\x1b[2J'],
    ['csi\u009b31m del\u007f', 'csi\\x9b31m del\\x7f'],
    ['bidi\u202eexe.txt', 'bidi\\u202eexe.txt'],
    ['a,\r\nb', '"a,\\x0d\\nb"'],
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', `"'+1"`],
    ['-2', `"'-2"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\tcmd', `"'\\tcmd"`],
    ['\rcmd', `"'\\x0dcmd"`],
    ['', ''],
  ])('quotes and neutralises %j as %j', (input, output) => {
    expect(csvCell(input)).toBe(output);
  });

  it('has the contract\u2019s columns and one CRLF-terminated row per socket', () => {
    const csv = toCsv([tcp('127.0.0.1:3000', null, { pids: [100, 101] }), unix('/tmp/=cmd|calc')]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(SOCKET_COLUMNS.join(','));
    expect(lines[1]).toBe('tcp,4,127.0.0.1,3000,,,LISTEN,100,node,1000,5000,100 101,,,,,');
    expect(lines[2]).toBe(`unix,,/tmp/=cmd|calc,,,,LISTEN,100,node,1000,11,100,,,,stream,`);
    expect(lines[3]).toBe('');
  });

  it('adds the traffic columns after them when any connection has figures, empty cells where one has none', () => {
    const traffic = {
      bytesAcked: 100_001,
      bytesReceived: 2_500,
      segmentsOut: 12,
      segmentsIn: 9,
      retransmits: 1,
      rttMs: 0.042,
      deliveryRate: null,
      sendRate: 50_000,
      receiveRate: null,
    };
    const csv = toCsv([tcp('127.0.0.1:3000', null), tcp('127.0.0.1:3000', '127.0.0.1:5000', { inode: 6, traffic })]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(
      `${SOCKET_COLUMNS.join(',')},bytesAcked,bytesReceived,sendRate,receiveRate,segmentsOut,segmentsIn,retransmits,rttMs,deliveryRate`,
    );
    expect(lines[1].endsWith(',,,,,,,,,,')).toBe(true);
    expect(lines[2].endsWith(',,,100001,2500,50000,,12,9,1,0.042,')).toBe(true);
    const text = toText(
      buildSnapshot(
        { sockets: [tcp('127.0.0.1:3000', '127.0.0.1:5000', { traffic })], processes: [], stats },
        host,
        new Date(0),
      ),
    );
    expect(text).toContain('SENT');
    expect(text).toContain('100 KB (50 KB/s)  2.5 KB');
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

  it('escapes every C0 and C1 control, DEL and bidirectional overrides', () => {
    expect(printable('a\u0000b\u007fc\td')).toBe('a\\x00b\\x7fc\\td');
    expect(printable('\u0085\u009f\u2066x\u2069')).toBe('\\x85\\x9f\\u2066x\\u2069');
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

describe('connections that ended (event mode)', () => {
  const T0 = Date.parse('2026-11-24T10:00:00Z');
  /** A client's short connection to `port`: SYN_SENT 0.1 ms, ESTABLISHED 1 ms, FIN_WAIT1/2, TIME_WAIT. */
  const short = (localPort: number, port: number, start: number, remote = '127.0.0.1'): ConnectionChain => ({
    key: `tcp|127.0.0.1:${localPort}|${remote}:${port}`,
    localAddress: '127.0.0.1',
    localPort,
    remoteAddress: remote,
    remotePort: port,
    pid: 4242,
    steps: [
      { state: 'SYN_SENT', at: start },
      { state: 'ESTABLISHED', at: start + 0.1 },
      { state: 'FIN_WAIT1', at: start + 1.1 },
      { state: 'FIN_WAIT2', at: start + 1.2 },
      { state: 'TIME_WAIT', at: start + 1.25 },
    ],
    complete: true,
  });
  const withChains = (chains: ConnectionChain[], active = true) =>
    buildSnapshot(
      {
        sockets: [tcp('127.0.0.1:8080', null)],
        processes: [],
        stats,
        eventMode: active ? { active, reason: null } : { active, reason: 'not permitted to use tracefs (run as root)' },
        chains,
      },
      host,
      new Date(T0 + 5000),
    );

  it('text lists one row per burst, then each connection with the time spent in each state', () => {
    const chains = [
      ...Array.from({ length: 3 }, (_, i) => short(50000 + i, 8080, T0 + i * 10)),
      short(50100, 9, T0 + 99),
    ];
    const lines = toText(withChains(chains)).trimEnd().split('\n');
    expect(lines.slice(lines.indexOf('') + 3)).toEqual([
      '',
      "Connections that ended, from the kernel's events: 4, grouped by endpoint; each listed.",
      '',
      'CONNECTIONS           CHAIN                                                       DURATION',
      '3 × → 127.0.0.1:8080  SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT  median 1.3 ms, max 1.3 ms',
      '1 × → 127.0.0.1:9     SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT  1.3 ms',
      '',
      'CONNECTION                            TASK  STARTED       CHAIN (time in each state)',
      'tcp 127.0.0.1:50000 → 127.0.0.1:8080  4242  10:00:00.000  SYN_SENT (0.1 ms) → ESTABLISHED (1.0 ms) → FIN_WAIT1 (0.1 ms) → FIN_WAIT2 (0.1 ms) → TIME_WAIT',
      'tcp 127.0.0.1:50001 → 127.0.0.1:8080  4242  10:00:00.010  SYN_SENT (0.1 ms) → ESTABLISHED (1.0 ms) → FIN_WAIT1 (0.1 ms) → FIN_WAIT2 (0.1 ms) → TIME_WAIT',
      'tcp 127.0.0.1:50002 → 127.0.0.1:8080  4242  10:00:00.020  SYN_SENT (0.1 ms) → ESTABLISHED (1.0 ms) → FIN_WAIT1 (0.1 ms) → FIN_WAIT2 (0.1 ms) → TIME_WAIT',
      'tcp 127.0.0.1:50100 → 127.0.0.1:9     4242  10:00:00.099  SYN_SENT (0.1 ms) → ESTABLISHED (1.0 ms) → FIN_WAIT1 (0.1 ms) → FIN_WAIT2 (0.1 ms) → TIME_WAIT',
    ]);
  });

  it('a burst of thousands stays one row; the report lists the last ones and says where the rest are', () => {
    const chains = Array.from({ length: 5000 }, (_, i) => short(20000 + i, 8080, T0 + i));
    const text = toText(withChains(chains));
    expect(text).toContain('5000 × → 127.0.0.1:8080');
    expect(text).toContain(`the last ${LISTED_CHAINS} listed (all 5000 are in the JSON export)`);
    expect(text.split('\n').filter((l) => l.startsWith('tcp 127.0.0.1:'))).toHaveLength(LISTED_CHAINS);
    expect(text).toContain('tcp 127.0.0.1:24999 → 127.0.0.1:8080');
    expect(JSON.parse(renderSnapshot(withChains(chains), 'json')).chains).toHaveLength(5000);
  });

  it('says when kernel events were off, so a reader knows short connections are missing', () => {
    expect(toText(withChains([], false))).toContain(
      'Kernel events were off (not permitted to use tracefs (run as root)): connections shorter than a poll are not in this snapshot.',
    );
    expect(toText(withChains([]))).toContain('No connection ended before this snapshot.');
    // A snapshot that knows nothing of event mode (a CLI poll, an older file) says nothing about it.
    expect(toText(buildSnapshot({ sockets: [], processes: [], stats }, host, new Date(T0)))).not.toMatch(
      /kernel|ended/i,
    );
  });

  it('says how many kernel events were lost, in text and Markdown, and the count reads back from JSON', () => {
    const snapshot = withChains([short(50000, 8080, T0)]);
    snapshot.eventMode = { active: true, reason: null, lost: 12_345 };
    const said =
      'The kernel lost 12,345 TCP events while recording (its buffer was full): some connections are missing or incomplete.';
    expect(toText(snapshot)).toContain(said);
    expect(toMarkdown(snapshot)).toContain(said);
    expect(parseSnapshot(Buffer.from(renderSnapshot(snapshot, 'json'))).eventMode).toEqual({
      active: true,
      reason: null,
      lost: 12_345,
    });
    // None lost: not a word about it.
    snapshot.eventMode = { active: true, reason: null, lost: 0 };
    expect(toText(snapshot)).not.toContain('lost');
  });

  it('Markdown has a table per section, and a hostile address cannot break out of its cell', () => {
    const markdown = toMarkdown(withChains([short(50000, 8080, T0, '1.2.3.4|x`y\n## z')]));
    expect(markdown).toContain('| CONNECTIONS | CHAIN | DURATION |');
    // printable() writes the line break as \n, and Markdown escapes that backslash too.
    expect(markdown).toContain('| 1 × → 1.2.3.4\\|x\\`y\\\\n## z:8080 |');
    expect(markdown.split('\n').filter((l) => l.startsWith('## '))).toEqual([]);
  });

  it('JSON carries them and reads back exactly; CSV stays one row per socket', () => {
    const snapshot = withChains([short(50000, 8080, T0 + 0.25), short(50001, 8080, T0 + 7.5)]);
    expect(parseSnapshot(Buffer.from(renderSnapshot(snapshot, 'json')))).toEqual(snapshot);
    expect(toCsv(snapshot.sockets).trimEnd().split('\r\n')).toHaveLength(2);
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
