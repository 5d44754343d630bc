// The /proc/net/{tcp,udp}{,6} parser over real captured tables and over broken or hostile lines.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInetLine, parseInetTable } from '../../src-main/collect/linux/proc-net';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/proc', name), 'latin1');
const dataLines = (text: string) => text.split('\n').filter((l, i) => i > 0 && l.trim() !== '').length;

describe('parsing captured /proc/net tables (tests/fixtures/proc/SOURCE.md)', () => {
  it('reads every row of tcp, tcp6, udp and udp6 with no malformed row', () => {
    for (const [file, protocol, family] of [
      ['tcp', 'tcp', 4],
      ['tcp6', 'tcp', 6],
      ['udp', 'udp', 4],
      ['udp6', 'udp', 6],
    ] as const) {
      const text = fixture(file);
      const { rows, malformed } = parseInetTable(text, protocol, family, 'LE');
      expect(malformed, file).toBe(0);
      expect(rows, file).toHaveLength(dataLines(text));
    }
  });

  it('decodes listeners, dual-stack peers, TIME_WAIT and UDP as ss shows them', () => {
    const tcp = parseInetTable(fixture('tcp'), 'tcp', 4, 'LE').rows;
    const tcp6 = parseInetTable(fixture('tcp6'), 'tcp', 6, 'LE').rows;
    const udp = parseInetTable(fixture('udp'), 'udp', 4, 'LE').rows;
    expect(tcp.find((r) => r.localPort === 3000 && r.state === 'LISTEN')).toMatchObject({
      localAddress: '127.0.0.1',
      remoteAddress: null,
      remotePort: null,
      uid: 0,
    });
    expect(tcp6.find((r) => r.localPort === 8080 && r.state === 'LISTEN')).toMatchObject({ localAddress: '::' });
    expect(tcp6.find((r) => r.localPort === 5432)).toMatchObject({ localAddress: '::1', state: 'LISTEN' });
    const mapped = tcp6.find((r) => r.localPort === 8080 && r.state === 'ESTABLISHED')!;
    expect(mapped).toMatchObject({ family: 6, localAddress: '::ffff:127.0.0.1', remoteAddress: '::ffff:127.0.0.1' });
    const timeWait = tcp.filter((r) => r.state === 'TIME_WAIT');
    expect(timeWait.length).toBeGreaterThan(10);
    expect(timeWait.every((r) => r.inode === 0 && r.remotePort !== null)).toBe(true);
    expect(udp.map((r) => r.state).sort()).toEqual(['ESTABLISHED', 'UNCONN']);
    const connected = udp.find((r) => r.state === 'ESTABLISHED')!;
    expect(udp.find((r) => r.state === 'UNCONN')!.localPort).toBe(connected.remotePort);
  });

  it('agrees with ss -tuanp captured beside it on every listener', () => {
    const ss = fixture('ss-tuanp.txt')
      .split('\n')
      .filter((l) => /^tcp\s+LISTEN/.test(l))
      .map((l) => l.split(/\s+/)[4].replace(/^\*:/, '[::]:'));
    const ours = [
      ...parseInetTable(fixture('tcp'), 'tcp', 4, 'LE').rows,
      ...parseInetTable(fixture('tcp6'), 'tcp', 6, 'LE').rows,
    ]
      .filter((r) => r.state === 'LISTEN')
      .map((r) => (r.family === 6 ? `[${r.localAddress}]:${r.localPort}` : `${r.localAddress}:${r.localPort}`));
    expect(ours.sort()).toEqual(ss.sort());
  });
});

const GOOD =
  '   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 89634 1 00000000d5612a41 100 0 0 10 0';

describe('malformed, truncated and hostile lines', () => {
  it('parses a good line', () => {
    expect(parseInetLine(GOOD, 'tcp', 4, 'LE')).toMatchObject({ localPort: 3000, state: 'LISTEN', inode: 89634 });
  });

  it.each([
    ['empty', ''],
    ['truncated in the inode', GOOD.slice(0, GOOD.indexOf('89634') + 3)],
    ['truncated in an address', GOOD.slice(0, 12)],
    ['an address of the wrong length', GOOD.replace('0100007F:0BB8', '100007F:0BB8')],
    ['non-hex address', GOOD.replace('0100007F', '0100007Z')],
    ['no port separator', GOOD.replace('0100007F:0BB8', '0100007F0BB8')],
    ['an unknown TCP state', GOOD.replace(' 0A ', ' 0F ')],
    ['a non-numeric uid', GOOD.replace('     0        0 89634', '     x        0 89634')],
    ['a negative inode', GOOD.replace('89634', '-89634')],
    ['no slot number', GOOD.replace('   0: ', '      ')],
    ['binary garbage', '\u0000\u0001\u00ff'.repeat(40)],
    ['an IPv6 address in an IPv4 table', GOOD.replace('0100007F', '00000000000000000000000001000000')],
  ])('skips %s', (_name, line) => {
    expect(parseInetLine(line, 'tcp', 4, 'LE')).toBeNull();
  });

  it('counts the bad rows and keeps every good one: one bad line never costs the scan', () => {
    const header = fixture('tcp').split('\n')[0];
    const text = [header, GOOD, 'garbage', GOOD.replace('0BB8', '0BB9'), GOOD.slice(0, 40)].join('\n');
    const { rows, malformed } = parseInetTable(text, 'tcp', 4, 'LE');
    expect(rows.map((r) => r.localPort)).toEqual([3000, 3001]);
    expect(malformed).toBe(2);
  });

  it('treats a table without its header the same way (every line is data)', () => {
    expect(parseInetTable(GOOD + '\n', 'tcp', 4, 'LE')).toEqual({
      rows: [parseInetLine(GOOD, 'tcp', 4, 'LE')],
      malformed: 0,
    });
  });

  it('reads UDP states: 07 is UNCONN, 01 ESTABLISHED, anything else malformed', () => {
    const udp = GOOD.replace(' 0A ', ' 07 ');
    expect(parseInetLine(udp, 'udp', 4, 'LE')!.state).toBe('UNCONN');
    expect(parseInetLine(udp.replace(' 07 ', ' 01 '), 'udp', 4, 'LE')!.state).toBe('ESTABLISHED');
    expect(parseInetLine(udp.replace(' 07 ', ' 0A '), 'udp', 4, 'LE')).toBeNull();
  });

  it('accepts tabs and runs of blanks between fields, and CRLF-free blank lines', () => {
    expect(parseInetLine(GOOD.replace(/ +/g, '\t'), 'tcp', 4, 'LE')).toMatchObject({ localPort: 3000, inode: 89634 });
    expect(parseInetTable(`${GOOD}\n   \n${GOOD}\n`, 'tcp', 4, 'LE')).toMatchObject({ malformed: 0 });
  });
});
