// The netlink sock_diag reader's parser over dump replies recorded from this kernel
// (tests/fixtures/netlink/SOURCE.md), and over broken ones.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDiagMessages, type DiagDump } from '../../src-main/collect/linux/sock-diag';
import type { InetRow } from '../../src-main/collect/linux/proc-net';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/netlink', name));
const SEQ = 7;

function parse(data: Buffer, protocol: 'tcp' | 'udp', previous?: ReadonlyMap<number, InetRow>) {
  const into: DiagDump = { rows: [], malformed: 0 };
  const done = parseDiagMessages(data, SEQ, protocol, into, previous);
  return { done, ...into };
}

const brief = (r: InetRow) =>
  `${r.protocol}${r.family === 6 ? '6' : ''} ${r.localAddress}:${r.localPort} ${r.remoteAddress ?? '*'}:${r.remotePort ?? '*'} ${r.state} uid=${r.uid} inode=${r.inode === 0 ? 0 : 'n'}`;

describe('netlink sock_diag replies', () => {
  it('reads every socket of a recorded TCP dump, TIME_WAIT included, to the end', () => {
    const { done, rows, malformed } = parse(fixture('tcp4.dump'), 'tcp');
    expect(done).toBe(true);
    expect(malformed).toBe(0);
    expect(rows.map(brief)).toEqual([
      'tcp 127.0.0.1:5000 *:* LISTEN uid=0 inode=n',
      'tcp 127.0.0.1:5000 127.0.0.1:41928 ESTABLISHED uid=0 inode=n',
      'tcp 127.0.0.1:41928 127.0.0.1:5000 ESTABLISHED uid=0 inode=n',
      'tcp 127.0.0.1:41930 127.0.0.1:5000 TIME_WAIT uid=0 inode=0',
    ]);
  });

  it('reads a UDP dump: a bound socket is UNCONN, as /proc and ss say', () => {
    const { done, rows } = parse(fixture('udp4.dump'), 'udp');
    expect(done).toBe(true);
    expect(rows.map(brief)).toEqual(['udp 127.0.0.1:5353 *:* UNCONN uid=0 inode=n']);
  });

  it('hands an unchanged socket back as last poll’s object', () => {
    const first = parse(fixture('tcp4.dump'), 'tcp').rows;
    const previous = new Map(first.filter((r) => r.inode !== 0).map((r) => [r.inode, r]));
    const again = parse(fixture('tcp4.dump'), 'tcp', previous).rows;
    expect(again.filter((r) => r.inode !== 0).every((r) => previous.get(r.inode) === r)).toBe(true);
  });

  it('ignores answers to another request, says the kernel’s error, and stops at a cut message', () => {
    const data = Buffer.from(fixture('tcp4.dump'));
    // Another sequence number: not this dump's.
    expect(parseDiagMessages(data, SEQ + 1, 'tcp', { rows: [], malformed: 0 })).toBe(false);
    // NLMSG_ERROR with -EINVAL in place of the first message.
    const error = Buffer.alloc(36);
    error.writeUInt32LE(36, 0);
    error.writeUInt16LE(2, 4);
    error.writeUInt32LE(SEQ, 8);
    error.writeInt32LE(-22, 16);
    expect(() => parseDiagMessages(error, SEQ, 'tcp', { rows: [], malformed: 0 })).toThrow(
      'the kernel refused the tcp dump (errno 22)',
    );
    // A message whose length runs past the data: counted, and the rest of the read is not trusted.
    const first = data.readUInt32LE(0);
    const cut = parse(data.subarray(0, first + 40), 'tcp');
    expect(cut.done).toBe(false);
    expect(cut.rows).toHaveLength(1);
    expect(cut.malformed).toBe(1);
    // A family or state that is not a socket's: skipped and counted.
    const odd = Buffer.from(data);
    odd[16] = 99;
    expect(parse(odd, 'tcp').malformed).toBe(1);
  });
});
