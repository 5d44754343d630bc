// The macOS collector's reading of `lsof -F` (NUL-terminated fields): on output recorded from a
// real lsof (4.95, on this Linux machine: the format is lsof's own on every OS; no Mac was at hand),
// and lines as macOS's lsof spells its states (tcp_fsm.h: SYN_RCVD, FIN_WAIT_1, CLOSED).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLsof, parseLsofEndpoint } from '../../src-main/collect/macos/lsof';

const recorded = readFileSync(join(__dirname, '..', 'fixtures', 'lsof', 'linux-4.95.lsof'), 'utf8');
const line = (...fields: string[]) => fields.map((f) => `${f}\0`).join('') + '\n';

describe('lsof -F', () => {
  it('reads a recorded run: TCP listeners and a pair, a bound and a connected UDP socket, their owner', () => {
    const parsed = parseLsof(recorded);
    expect(parsed.malformed).toBe(0);
    expect(
      parsed.sockets.map((s) => [
        s.protocol,
        s.family,
        s.localAddress,
        s.localPort,
        s.remoteAddress,
        s.remotePort,
        s.state,
        s.pid,
      ]),
    ).toEqual([
      ['tcp', 4, '127.0.0.1', 4567, null, null, 'LISTEN', 8693],
      ['tcp', 6, '::1', 4568, null, null, 'LISTEN', 8693],
      ['udp', 4, '127.0.0.1', 4569, null, null, 'UNCONN', 8693],
      ['udp', 6, '::1', 59819, '::1', 4570, 'ESTABLISHED', 8693],
      ['tcp', 4, '127.0.0.1', 59078, '127.0.0.1', 4567, 'ESTABLISHED', 8693],
      ['tcp', 4, '127.0.0.1', 4567, '127.0.0.1', 59078, 'ESTABLISHED', 8693],
    ]);
    expect(parsed.processes).toEqual([
      { pid: 8693, ppid: null, name: 'node', command: 'node', user: 'root', uid: 0, startedAt: null, cwd: null },
    ]);
    expect(parsed.sockets[0]).toMatchObject({ processName: 'node', pids: [8693], inode: 0 });
  });

  it("reads macOS's spellings of the states; a socket shared by two processes is one, with both pids", () => {
    const output =
      line('p501', 'cnginx', 'u0', 'Lroot') +
      line('f6', 'PTCP', 'n*:8080', 'TST=LISTEN', 'TQR=0', 'TQS=0') +
      line('f7', 'tIPv6', 'PTCP', 'n*:8080', 'TST=LISTEN') +
      line('p502', 'cnginx', 'u501', 'Lwww') +
      line('f6', 'PTCP', 'n*:8080', 'TST=LISTEN') +
      line('f9', 'PTCP', 'n192.168.1.5:8080->192.168.1.9:50000', 'TST=SYN_RCVD') +
      line('f10', 'PTCP', 'n192.168.1.5:50001->192.168.1.9:443', 'TST=FIN_WAIT_1') +
      line('f11', 'PTCP', 'n[fe80::1%en0]:50002->[fe80::2%en0]:22', 'TST=CLOSED') +
      line('f12', 'PUDP', 'n*:5353');
    const parsed = parseLsof(output);
    expect(parsed.sockets.map((s) => [s.localAddress, s.localPort, s.remoteAddress, s.state, s.pids])).toEqual([
      ['0.0.0.0', 8080, null, 'LISTEN', [501, 502]],
      ['::', 8080, null, 'LISTEN', [501]],
      ['192.168.1.5', 8080, '192.168.1.9', 'SYN_RECV', [502]],
      ['192.168.1.5', 50001, '192.168.1.9', 'FIN_WAIT1', [502]],
      ['fe80::1%en0', 50002, 'fe80::2%en0', 'CLOSE', [502]],
      ['0.0.0.0', 5353, null, 'UNCONN', [502]],
    ]);
    expect(parsed.processes.map((p) => [p.pid, p.user, p.uid])).toEqual([
      [501, 'root', 0],
      [502, 'www', 501],
    ]);
  });

  it('skips and counts a file line it cannot read, keeping the rest', () => {
    const output =
      line('p7', 'cx') +
      line('f1', 'PTCP', 'nnot-an-endpoint', 'TST=LISTEN') +
      line('f2', 'PTCP', 'n127.0.0.1:99999', 'TST=LISTEN') +
      line('f3', 'PTCP', 'n127.0.0.1:80', 'TST=DANCING') +
      line('f4', 'PSCTP', 'n127.0.0.1:80') +
      line('f5', 'PTCP', 'n127.0.0.1:80', 'TST=LISTEN');
    const parsed = parseLsof(output);
    expect(parsed.malformed).toBe(4);
    expect(parsed.sockets.map((s) => s.localPort)).toEqual([80]);
    expect(parseLsofEndpoint('[::1]:443')).toEqual({ address: '::1', port: 443 });
    expect(parseLsofEndpoint('*:53')).toEqual({ address: '0.0.0.0', port: 53 });
    expect(parseLsofEndpoint('*:53', true)).toEqual({ address: '::', port: 53 });
    expect(parseLsofEndpoint('localhost')).toBeNull();
  });
});
