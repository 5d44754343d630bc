// The netlink sock_diag reader's parser over dump replies recorded from this kernel
// (tests/fixtures/netlink/SOURCE.md), and over broken ones.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CookieRows,
  parseDiagMessages,
  parseUnixDiagMessages,
  type DiagDump,
} from '../../src-main/collect/linux/sock-diag';
import type { UnixRow } from '../../src-main/collect/linux/proc-net-unix';
import type { InetRow } from '../../src-main/collect/linux/proc-net';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/netlink', name));
const SEQ = 7;

function parse(data: Buffer, protocol: 'tcp' | 'udp', previous?: ReadonlyMap<number, InetRow>, cookies?: CookieRows) {
  const into: DiagDump = { rows: [], malformed: 0 };
  cookies?.begin();
  const done = parseDiagMessages(data, SEQ, protocol, into, previous, undefined, cookies);
  if (done) cookies?.end();
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

  it('hands a TIME_WAIT row back by the kernel’s cookie, and makes a new one for another cookie', () => {
    const cookies = new CookieRows();
    const first = parse(fixture('tcp4.dump'), 'tcp', undefined, cookies);
    const timeWait = first.rows.find((r) => r.state === 'TIME_WAIT')!;
    expect(cookies.size).toBe(1);
    const again = parse(fixture('tcp4.dump'), 'tcp', undefined, cookies);
    expect(again.rows.find((r) => r.state === 'TIME_WAIT')).toBe(timeWait);
    // The same 4-tuple under another cookie is another socket (the port was used again): a row of its own.
    const data = Buffer.from(fixture('tcp4.dump'));
    let at = 0;
    for (let i = 0; i < 3; i++) at += (data.readUInt32LE(at) + 3) & ~3; // the fourth message: the TIME_WAIT
    expect(data.readUInt32LE(at + 16 + 68)).toBe(0); // its inode
    data.writeUInt32LE(data.readUInt32LE(at + 16 + 44) + 1, at + 16 + 44);
    const other = parse(data, 'tcp', undefined, cookies).rows.find((r) => r.state === 'TIME_WAIT');
    expect(other).not.toBe(timeWait);
    expect(other).toEqual(timeWait);
    // The first cookie's socket was not in that dump: gone, its row with it (the map is bounded by the table).
    expect(cookies.size).toBe(1);
    expect(parse(fixture('tcp4.dump'), 'tcp', undefined, cookies).rows.find((r) => r.inode === 0)).not.toBe(timeWait);
  });

  it('reads a socket in full when its cookie comes back in TIME_WAIT after another state', () => {
    // An orphan closed by its owner (FIN_WAIT2, no inode) whose TIME_WAIT keeps its cookie.
    const data = Buffer.from(fixture('tcp4.dump'));
    let at = 0;
    for (let i = 0; i < 3; i++) at += (data.readUInt32LE(at) + 3) & ~3; // the TIME_WAIT message
    const finWait2 = Buffer.from(data);
    finWait2[at + 16 + 1] = 5; // TCP_FIN_WAIT2
    const cookies = new CookieRows();
    const orphan = parse(finWait2, 'tcp', undefined, cookies).rows.find((r) => r.inode === 0)!;
    expect(orphan.state).toBe('FIN_WAIT2');
    const now = parse(data, 'tcp', undefined, cookies).rows.find((r) => r.inode === 0)!;
    expect(now.state).toBe('TIME_WAIT');
    expect(now).not.toBe(orphan);
  });

  it('notes a dump the kernel says was interrupted (NLM_F_DUMP_INTR), so the reader dumps again', () => {
    const data = Buffer.from(fixture('tcp4.dump'));
    const clean: DiagDump = { rows: [], malformed: 0 };
    parseDiagMessages(data, SEQ, 'tcp', clean);
    expect(clean.interrupted).toBeUndefined();
    data.writeUInt16LE(data.readUInt16LE(6) | 0x10, 6); // the first message's flags
    const cut: DiagDump = { rows: [], malformed: 0 };
    parseDiagMessages(data, SEQ, 'tcp', cut);
    expect(cut.interrupted).toBe(true);
    expect(cut.rows).toHaveLength(clean.rows.length); // its rows are still read: kept if every try is cut
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

describe('tcp_info in a dump (INET_DIAG_INFO)', () => {
  it('gives each connection the bytes it carried, as recorded, and the listener none', () => {
    const { done, rows, malformed } = parse(fixture('tcp4-info.dump'), 'tcp');
    expect(done).toBe(true);
    expect(malformed).toBe(0);
    const listener = rows.find((r) => r.state === 'LISTEN');
    expect(listener?.traffic).toBeUndefined();
    const server = rows.find((r) => r.localPort === 5000 && r.state === 'ESTABLISHED');
    const client = rows.find((r) => r.remotePort === 5000 && r.state === 'ESTABLISHED');
    // The recorder's client wrote 100,000 bytes and its server 2,500; both read everything. The
    // kernel counts the connecting end's SYN as one byte acknowledged (as `ss -i` shows it too).
    expect(server?.traffic).toMatchObject({ bytesReceived: 100_000, bytesAcked: 2_500, sendRate: null });
    expect(client?.traffic).toMatchObject({ bytesReceived: 2_500, bytesAcked: 100_001, retransmits: 0 });
    expect(client?.traffic?.segmentsOut).toBeGreaterThan(1);
    expect(client?.traffic?.rttMs).toBeGreaterThan(0);
  });

  it('hands back last poll’s row while the counters stand, and a copy (never a change) when they move', () => {
    const first = parse(fixture('tcp4-info.dump'), 'tcp').rows;
    const previous = new Map(first.map((r) => [r.inode, r]));
    const again = parse(fixture('tcp4-info.dump'), 'tcp', previous).rows;
    expect(again.every((r) => previous.get(r.inode) === r)).toBe(true);

    const client = first.find((r) => r.remotePort === 5000)!;
    const moved = new Map(previous);
    moved.set(client.inode, { ...client, traffic: { ...client.traffic!, bytesAcked: 1 } });
    const before = moved.get(client.inode)!;
    const third = parse(fixture('tcp4-info.dump'), 'tcp', moved).rows.find((r) => r.inode === client.inode)!;
    expect(third).not.toBe(before);
    expect(third.traffic?.bytesAcked).toBe(100_001);
    expect(before.traffic?.bytesAcked).toBe(1);
  });

  it('reads an older kernel’s shorter tcp_info: no delivery rate before 4.9, no figures at all before 4.2', () => {
    // Cuts every INFO attribute to `size` bytes: the attribute's length says so, the message keeps its own.
    const cutTo = (size: number) => {
      const data = Buffer.from(fixture('tcp4-info.dump'));
      for (let at = 0; at + 16 <= data.length;) {
        const length = data.readUInt32LE(at);
        for (let a = at + 16 + 72; a + 4 <= at + length;) {
          const attr = data.readUInt16LE(a);
          if (data.readUInt16LE(a + 2) === 2) data.writeUInt16LE(4 + size, a);
          a += (attr + 3) & ~3;
        }
        at += (length + 3) & ~3;
      }
      return parse(data, 'tcp').rows.find((r) => r.remotePort === 5000 && r.state === 'ESTABLISHED');
    };
    expect(cutTo(160)?.traffic).toMatchObject({ bytesAcked: 100_001, bytesReceived: 2_500, deliveryRate: null });
    expect(cutTo(104)?.traffic).toBeUndefined();
    expect(cutTo(104)?.state).toBe('ESTABLISHED');
  });
});

describe('Unix sockets in a dump (UNIX_DIAG)', () => {
  const DIR = '/tmp/kinds.Zb3G';
  it('reads every kind of a recorded dump: names as /proc prints them, states as ss names them', () => {
    const into = { rows: [] as UnixRow[], malformed: 0 };
    expect(parseUnixDiagMessages(fixture('unix.dump'), SEQ, into)).toBe(true);
    expect(into.malformed).toBe(0);
    const byInode = new Map(into.rows.map((r) => [r.inode, r]));
    expect(into.rows).toHaveLength(12);
    expect(byInode.get(247275)).toEqual({ inode: 247275, state: 'LISTEN', path: `${DIR}/stream.sock`, type: 'stream' });
    // The recording asked for names only (no UDIAG_SHOW_PEER): no peer in it.
    expect(byInode.get(247276)).toEqual({ inode: 247276, state: 'ESTABLISHED', path: null, type: 'stream' });
    expect(byInode.get(247280)?.type).toBe('seqpacket');
    expect(byInode.get(247286)?.type).toBe('dgram');
    expect(byInode.get(247277)).toMatchObject({ state: 'ESTABLISHED', path: `${DIR}/stream.sock` });
    expect(byInode.get(247278)).toMatchObject({ state: 'LISTEN', path: '@porthole-kinds@10630' });
    expect(byInode.get(247279)).toMatchObject({ state: 'LISTEN', path: `${DIR}/two\nlines.sock` });
    expect(byInode.get(247280)).toMatchObject({ state: 'LISTEN', path: `${DIR}/seq.sock` });
    expect(byInode.get(247283)).toMatchObject({ state: 'ESTABLISHED', path: null });
    expect(byInode.get(247285)).toMatchObject({ state: 'UNCONN', path: `${DIR}/dgram.sock` });
    expect(byInode.get(247286)).toMatchObject({ state: 'UNCONN', path: null });
  });

  it('says the kernel’s refusal, and skips a message that is not a Unix socket', () => {
    const data = Buffer.from(fixture('unix.dump'));
    data[16] = 2; // the first message's family: AF_INET
    const into = { rows: [] as UnixRow[], malformed: 0 };
    parseUnixDiagMessages(data, SEQ, into);
    expect(into.malformed).toBe(1);
    const error = Buffer.alloc(36);
    error.writeUInt32LE(36, 0);
    error.writeUInt16LE(2, 4);
    error.writeUInt32LE(SEQ, 8);
    error.writeInt32LE(-2, 16);
    expect(() => parseUnixDiagMessages(error, SEQ, { rows: [], malformed: 0 })).toThrow(
      'the kernel refused the unix dump (errno 2)',
    );
  });
});
