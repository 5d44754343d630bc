// /proc/net/unix: real rows, and paths with newlines that try to pass for rows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseUnixTable, type UnixEvidence } from '../../src-main/collect/linux/proc-net-unix';

const HEADER = 'Num       RefCount Protocol Flags    Type St Inode Path';
const row = (slot: string, flags: string, st: string, inode: number, path?: string) =>
  `${slot}: 00000002 00000000 ${flags} 0001 ${st} ${String(inode).padStart(5)}${path === undefined ? '' : ' ' + path}`;
const evidence = (over: Partial<UnixEvidence> = {}): UnixEvidence => ({
  isOwned: () => false,
  isSocketFile: () => false,
  seesAllProcesses: true,
  ...over,
});

describe('/proc/net/unix', () => {
  it('reads the captured table: listeners, connected pairs, abstract names', () => {
    const text = readFileSync(join(__dirname, '../fixtures/proc/unix'), 'latin1');
    const { rows, malformed } = parseUnixTable(text, evidence({ isOwned: () => true }));
    expect(malformed).toBe(0);
    expect(rows).toHaveLength(text.trimEnd().split('\n').length - 1);
    expect(rows.find((r) => r.path === '/tmp/porthole-fixture.sock')).toMatchObject({ state: 'LISTEN' });
    expect(rows.find((r) => r.path?.startsWith('@porthole-abstract'))).toMatchObject({ state: 'LISTEN' });
    expect(rows.filter((r) => r.state === 'ESTABLISHED').every((r) => r.path === null)).toBe(true);
  });

  it('maps flags and states: accepting is LISTEN; 01 UNCONN, 02 connecting, 03 ESTABLISHED', () => {
    const text = [
      HEADER,
      row('00000000a1', '00010000', '01', 1, '/l'),
      row('00000000a2', '00000000', '01', 2),
      row('00000000a3', '00000000', '02', 3),
      row('00000000a4', '00000000', '03', 4),
    ].join('\n');
    const { rows } = parseUnixTable(text, evidence({ isOwned: () => true }));
    expect(rows.map((r) => r.state)).toEqual(['LISTEN', 'UNCONN', 'SYN_SENT', 'ESTABLISHED']);
  });

  it('keeps a path with a newline whole when the next line is not row-shaped', () => {
    const text = [
      HEADER,
      row('00000000a1', '00010000', '01', 7, '/tmp/two'),
      'lines',
      row('00000000a2', '00000000', '03', 8),
    ].join('\n');
    const { rows, malformed } = parseUnixTable(text, evidence({ isOwned: () => true }));
    expect(rows.map((r) => r.path)).toEqual(['/tmp/two\nlines', null]);
    expect(malformed).toBe(0);
  });

  const forged = row('00000000deadbeef', '00010000', '01', 99999, 'fake');

  it('a forged row inside a file path is merged back when lstat finds the full path', () => {
    const text = [HEADER, row('00000000a1', '00010000', '01', 7, '/tmp/e'), forged].join('\n');
    const { rows, mergedLines } = parseUnixTable(text, evidence({ isSocketFile: (p) => p === '/tmp/e\n' + forged }));
    expect(rows).toEqual([{ inode: 7, state: 'LISTEN', path: '/tmp/e\n' + forged, type: 'stream' }]);
    expect(mergedLines).toBe(1);
  });

  it('a forged row copying a real inode or kernel slot is a forgery', () => {
    const real = row('00000000b1', '00000000', '03', 500);
    const copyInode = row('00000000cc', '00000000', '03', 500);
    const copySlot = row('00000000b1', '00000000', '03', 501);
    for (const fake of [copyInode, copySlot]) {
      const text = [HEADER, real, row('00000000a1', '00010000', '01', 7, '@x'), fake].join('\n');
      const { rows } = parseUnixTable(
        text,
        evidence({ isOwned: (i) => i === 500 || i === 501, seesAllProcesses: false }),
      );
      expect(rows.map((r) => r.inode)).toEqual([500, 7]);
    }
  });

  it('as root, an unowned row hidden in an abstract name is treated as part of the name', () => {
    const text = [
      HEADER,
      row('00000000a1', '00010000', '01', 7, '@evil'),
      row('00000000cafe', '00010000', '01', 99998, '@fake'),
    ].join('\n');
    expect(parseUnixTable(text, evidence()).rows.map((r) => r.inode)).toEqual([7]);
  });

  it('keeps real rows after paths: owned ones, ones too long to fit in a name, and (unprivileged) unproven ones', () => {
    const after = (path: string, next: string, ev: Partial<UnixEvidence>) =>
      parseUnixTable([HEADER, row('00000000a1', '00010000', '01', 7, path), next].join('\n'), evidence(ev)).rows.length;
    const next = row('00000000a2', '00000000', '03', 8);
    expect(after('@short', next, { isOwned: (i) => i === 8 })).toBe(2);
    expect(after('@' + 'n'.repeat(60), next, {})).toBe(2);
    expect(after('/tmp/real.sock', next, { isSocketFile: (p) => p === '/tmp/real.sock' })).toBe(2);
    expect(after('@short', next, { seesAllProcesses: false })).toBe(2);
  });

  it('counts a stray line that belongs to no path as malformed', () => {
    const text = [HEADER, row('00000000a2', '00000000', '03', 8), 'stray', row('00000000a3', '00000000', '03', 9)].join(
      '\n',
    );
    const { rows, malformed } = parseUnixTable(text, evidence());
    expect(rows.map((r) => r.inode)).toEqual([8, 9]);
    expect(malformed).toBe(1);
  });
});
