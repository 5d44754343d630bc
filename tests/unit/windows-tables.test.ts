// The Windows collector's reading of iphlpapi's tables, on byte buffers laid out as tcpmib.h and
// udpmib.h define them (MIB_TCPROW_OWNER_PID, MIB_TCP6ROW_OWNER_PID, MIB_UDPROW_OWNER_PID,
// MIB_UDP6ROW_OWNER_PID): states, owners, cut-short and oversized buffers, a table that grows
// while it is read. (The calls themselves run under Wine: tests/system/windows-wine.test.ts.)
import { describe, expect, it } from 'vitest';
import {
  ERROR_INSUFFICIENT_BUFFER,
  fileTimeToMs,
  MAX_TABLE_BYTES,
  readGrowingTable,
} from '../../src-main/collect/windows/iphlpapi';
import { parseTable, tcpStateName } from '../../src-main/collect/windows/tables';
import { closeWindowsConnection, deleteTcbRow } from '../../src-main/collect/windows/close-connection';
import { processFromImage, scanFromTables } from '../../src-main/collect/windows/windows-collector';

/** A port DWORD: network order in its first two bytes; the other two are garbage Windows leaves. */
function port(row: Buffer, at: number, value: number): void {
  row.writeUInt16BE(value, at);
  row.writeUInt16BE(0xabcd, at + 2);
}

function tcp4Row(state: number, local: number[], lport: number, remote: number[], rport: number, pid: number) {
  const row = Buffer.alloc(24);
  row.writeUInt32LE(state, 0);
  Buffer.from(local).copy(row, 4);
  port(row, 8, lport);
  Buffer.from(remote).copy(row, 12);
  port(row, 16, rport);
  row.writeUInt32LE(pid, 20);
  return row;
}

const V6_LOOPBACK = [...Array(15).fill(0), 1];
const V6_DOC = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 5];

function tcp6Row(state: number, local: number[], lport: number, remote: number[], rport: number, pid: number) {
  const row = Buffer.alloc(56);
  Buffer.from(local).copy(row, 0);
  row.writeUInt32LE(0, 16); // dwLocalScopeId
  port(row, 20, lport);
  Buffer.from(remote).copy(row, 24);
  row.writeUInt32LE(0, 40); // dwRemoteScopeId
  port(row, 44, rport);
  row.writeUInt32LE(state, 48);
  row.writeUInt32LE(pid, 52);
  return row;
}

function udp4Row(local: number[], lport: number, pid: number) {
  const row = Buffer.alloc(12);
  Buffer.from(local).copy(row, 0);
  port(row, 4, lport);
  row.writeUInt32LE(pid, 8);
  return row;
}

function udp6Row(local: number[], lport: number, pid: number) {
  const row = Buffer.alloc(28);
  Buffer.from(local).copy(row, 0);
  port(row, 20, lport);
  row.writeUInt32LE(pid, 24);
  return row;
}

/** A table: its DWORD count, then its rows. */
const table = (rows: Buffer[], count = rows.length) => {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(count, 0);
  return Buffer.concat([head, ...rows]);
};

const ends = (t: ReturnType<typeof parseTable>) =>
  t.sockets.map((s) => [
    s.protocol,
    s.family,
    s.localAddress,
    s.localPort,
    s.remoteAddress,
    s.remotePort,
    s.state,
    s.pid,
  ]);

describe("iphlpapi's owner-pid tables", () => {
  it('reads each of the four tables: endpoints, state and owning pid; pid 0 is no owner', () => {
    const tcp4 = table([
      tcp4Row(2, [0, 0, 0, 0], 3000, [0, 0, 0, 0], 0, 4242),
      tcp4Row(5, [127, 0, 0, 1], 3000, [127, 0, 0, 1], 51000, 4242),
      tcp4Row(11, [127, 0, 0, 1], 51001, [127, 0, 0, 1], 3000, 0),
    ]);
    expect(ends(parseTable('tcp4', tcp4))).toEqual([
      ['tcp', 4, '0.0.0.0', 3000, null, null, 'LISTEN', 4242],
      ['tcp', 4, '127.0.0.1', 3000, '127.0.0.1', 51000, 'ESTABLISHED', 4242],
      ['tcp', 4, '127.0.0.1', 51001, '127.0.0.1', 3000, 'TIME_WAIT', null],
    ]);
    const tcp6 = table([
      tcp6Row(2, Array(16).fill(0), 5432, Array(16).fill(0), 0, 900),
      tcp6Row(3, V6_LOOPBACK, 50000, V6_DOC, 443, 901),
    ]);
    expect(ends(parseTable('tcp6', tcp6))).toEqual([
      ['tcp', 6, '::', 5432, null, null, 'LISTEN', 900],
      ['tcp', 6, '::1', 50000, '2001:db8::5', 443, 'SYN_SENT', 901],
    ]);
    expect(ends(parseTable('udp4', table([udp4Row([0, 0, 0, 0], 53, 1200)])))).toEqual([
      ['udp', 4, '0.0.0.0', 53, null, null, 'UNCONN', 1200],
    ]);
    expect(ends(parseTable('udp6', table([udp6Row(V6_LOOPBACK, 5353, 1300)])))).toEqual([
      ['udp', 6, '::1', 5353, null, null, 'UNCONN', 1300],
    ]);
    // Windows has no socket inode.
    expect(parseTable('tcp4', tcp4).sockets[0]).toMatchObject({ inode: 0, pids: [4242], processName: null });
  });

  it("names MIB_TCP_STATE's states as Linux does; a row with another code is skipped and counted", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(tcpStateName)).toEqual([
      'CLOSE',
      'LISTEN',
      'SYN_SENT',
      'SYN_RECV',
      'ESTABLISHED',
      'FIN_WAIT1',
      'FIN_WAIT2',
      'CLOSE_WAIT',
      'CLOSING',
      'LAST_ACK',
      'TIME_WAIT',
    ]);
    // 12 is DELETE_TCB, a request a table never holds; 0 and 99 are no state.
    const odd = table([0, 12, 99, 5].map((state) => tcp4Row(state, [127, 0, 0, 1], 1, [127, 0, 0, 1], 2, 7)));
    const parsed = parseTable('tcp4', odd);
    expect(parsed.malformed).toBe(3);
    expect(parsed.sockets.map((s) => s.state)).toEqual(['ESTABLISHED']);
  });

  it('reads the whole rows of a buffer cut short and counts the rest; ignores bytes past the last row', () => {
    const rows = [1, 2, 3].map((i) => tcp4Row(5, [127, 0, 0, 1], 1000 + i, [127, 0, 0, 1], 2000, i));
    const whole = table(rows);
    const cut = whole.subarray(0, 4 + 24 * 2 + 10);
    expect(parseTable('tcp4', cut)).toMatchObject({ malformed: 1 });
    expect(parseTable('tcp4', cut).sockets.map((s) => s.localPort)).toEqual([1001, 1002]);
    // A count far past the buffer: only what is there.
    expect(parseTable('tcp4', table(rows, 4_000_000_000)).sockets).toHaveLength(3);
    expect(parseTable('tcp4', Buffer.alloc(3))).toEqual({ sockets: [], malformed: 0 });
    const oversized = Buffer.concat([whole, Buffer.alloc(4096, 0xff)]);
    expect(parseTable('tcp4', oversized)).toMatchObject({ malformed: 0 });
    expect(parseTable('tcp4', oversized).sockets).toHaveLength(3);
  });
});

describe('a table read that grows', () => {
  it('offers the last size first, and asks again with the size returned while the table grows', () => {
    const offered: number[] = [];
    const needs = [100_000, 180_000];
    const bytes = readGrowingTable(
      (buffer, size) => {
        offered.push(buffer.length);
        const need = needs.shift();
        if (need !== undefined) {
          size[0] = need;
          return ERROR_INSUFFICIENT_BUFFER;
        }
        buffer.writeUInt32LE(0, 0);
        size[0] = 200;
        return 0;
      },
      'GetExtendedTcpTable',
      65_536,
    );
    // ERROR_INSUFFICIENT_BUFFER, retried with the size it returned (and room to grow).
    expect(offered).toEqual([65_536, 104_096, 184_096]);
    expect(bytes.length).toBe(200);
  });

  it('gives up on a table that keeps growing, one over the bound, or another error, saying which', () => {
    const growing = (_buffer: Buffer, size: [number]) => {
      size[0] += 100_000;
      return ERROR_INSUFFICIENT_BUFFER;
    };
    expect(() => readGrowingTable(growing, 'GetExtendedTcpTable')).toThrow(
      'GetExtendedTcpTable: the table kept growing while it was read',
    );
    const huge = (_buffer: Buffer, size: [number]) => {
      size[0] = MAX_TABLE_BYTES + 1;
      return ERROR_INSUFFICIENT_BUFFER;
    };
    expect(() => readGrowingTable(huge, 'GetExtendedUdpTable')).toThrow(/asks for 67108865 bytes, over the 67108864/);
    expect(() => readGrowingTable(() => 87, 'GetExtendedTcpTable')).toThrow('GetExtendedTcpTable failed (error 87)');
  });
});

describe('the Windows scan', () => {
  it("names each row's owner from its image, counts the ones it may not open, says its engine", () => {
    const tcp4 = table([
      tcp4Row(2, [0, 0, 0, 0], 3000, [0, 0, 0, 0], 0, 4242),
      tcp4Row(5, [127, 0, 0, 1], 445, [127, 0, 0, 1], 51000, 4),
      tcp4Row(5, [127, 0, 0, 1], 51002, [127, 0, 0, 1], 5000, 0),
    ]);
    const empty = table([]);
    const started = Date.parse('2026-12-07T08:00:00Z');
    const scan = scanFromTables(
      { tcp4, tcp6: empty, udp4: empty, udp6: empty },
      // pid 4 is the System process: not to be opened by a user.
      (pid) =>
        processFromImage(
          pid,
          pid === 4242 ? { path: 'C:\\Program Files\\nodejs\\node.exe', startedMs: started } : null,
        ),
      12,
    );
    expect(scan.sockets.map((s) => [s.localPort, s.pid, s.processName])).toEqual([
      [3000, 4242, 'node.exe'],
      [445, 4, null],
      [51002, null, null],
    ]);
    expect(scan.processes).toEqual([
      {
        pid: 4242,
        ppid: null,
        name: 'node.exe',
        command: 'C:\\Program Files\\nodejs\\node.exe',
        user: null,
        uid: null,
        startedAt: '2026-12-07T08:00:00.000Z',
        cwd: null,
      },
    ]);
    expect(scan.stats).toEqual({
      unattributed: 1,
      malformedRows: 0,
      repairedRows: 0,
      hiddenProcesses: 1,
      scanMs: 12,
      engine: 'iphlpapi',
    });
  });

  it('reads a FILETIME (100 ns since 1601), also one past 2^53 given as a BigInt', () => {
    // 2026-12-07T08:00:00Z as Windows counts it.
    const fileTime = (BigInt(Date.parse('2026-12-07T08:00:00Z')) + 11_644_473_600_000n) * 10_000n;
    expect(fileTimeToMs(fileTime)).toBe(Date.parse('2026-12-07T08:00:00Z'));
    expect(fileTimeToMs(116_444_736_000_000_000n)).toBe(0);
  });
});

describe('closing one connection on Windows (SetTcpEntry, as TCPView does)', () => {
  const ends = {
    family: 4 as const,
    localAddress: '127.0.0.1',
    localPort: 3000,
    remoteAddress: '10.0.0.5',
    remotePort: 51000,
  };

  it('asks with a MIB_TCPROW in the DELETE_TCB state, addresses and ports in network order', () => {
    const row = deleteTcbRow(ends)!;
    expect([...row]).toEqual([12, 0, 0, 0, 127, 0, 0, 1, 0x0b, 0xb8, 0, 0, 10, 0, 0, 5, 0xc7, 0x38, 0, 0]);
    // An IPv4-mapped address is the IPv4 one; an IPv6 connection cannot be closed this way.
    expect(deleteTcbRow({ ...ends, localAddress: '::ffff:127.0.0.1' })).toEqual(row);
    expect(deleteTcbRow({ ...ends, family: 6, localAddress: '::1', remoteAddress: '::1' })).toBeNull();
  });

  it("tells Windows' answer in the user's words", () => {
    const name = 'tcp 127.0.0.1:3000 → 10.0.0.5:51000';
    const answer = (code: number) => closeWindowsConnection(ends, name, () => code);
    expect(answer(0)).toEqual({ ok: true, message: `Closed ${name}: Windows reset it` });
    expect(answer(5)).toEqual({
      ok: false,
      reason: 'not permitted (closing a connection needs Porthole run as administrator)',
    });
    expect(answer(317)).toEqual({ ok: false, reason: `${name} is gone already` });
    expect(answer(1)).toEqual({ ok: false, reason: 'Windows refused (error 1)' });
    let called = false;
    const v6 = closeWindowsConnection({ ...ends, family: 6, localAddress: '::1', remoteAddress: '::1' }, name, () => {
      called = true;
      return 0;
    });
    expect([v6, called]).toEqual([
      { ok: false, reason: 'Windows closes single IPv4 connections only (SetTcpEntry)' },
      false,
    ]);
  });
});
