// The Linux collector against a real workload of loopback sockets held by several child processes,
// checked socket by socket and then against `ss -tuanp` taken at the same moment.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxCollector } from '../../src-main/collect/linux/linux-collector';
import type { Scan, Socket } from '../../src-main/shared/contract';
import { formatEndpoint } from '../../src-main/track/identity';
import { readSs } from '../helpers/ss';
import { eventually, Workload, type ChildInfo } from '../helpers/workload';

const workload = new Workload();
const dir = mkdtempSync(join(tmpdir(), 'porthole-sys-'));
const unixPath = join(dir, 'app.sock');

let v4: ChildInfo, v6: ChildInfo, wildcard: ChildInfo, dualStack: ChildInfo, dualClient: ChildInfo;
let fanServer: ChildInfo, fanClients: ChildInfo;
let backlog: ChildInfo, pending: ChildInfo;
let halfServer: ChildInfo, halfClient: ChildInfo;
let twServer: ChildInfo, twClient: ChildInfo;
let udpBound: ChildInfo, udpPeer: ChildInfo, udpConnected: ChildInfo, unixServer: ChildInfo;
let scan: Scan;

function find(predicate: (s: Socket) => boolean): Socket[] {
  return scan.sockets.filter(predicate);
}
const isPort = (port: number | undefined) => (s: Socket) => s.localPort === port;

beforeAll(async () => {
  [v4, v6, wildcard, dualStack, fanServer, backlog, halfServer, twServer, udpPeer, unixServer] = await Promise.all([
    workload.start({ role: 'listen', host: '127.0.0.1' }),
    workload.start({ role: 'listen', host: '::1' }),
    workload.start({ role: 'listen', host: '0.0.0.0' }),
    workload.start({ role: 'listen', host: '::', ipv6Only: false }),
    workload.start({ role: 'listen', host: '127.0.0.1' }),
    workload.neverAccepting('127.0.0.1'),
    workload.start({ role: 'halfCloseServer', host: '127.0.0.1' }),
    workload.start({ role: 'listen', host: '127.0.0.1' }),
    workload.start({ role: 'udp', host: '127.0.0.1' }),
    workload.start({ role: 'unixListen', path: unixPath }),
  ]);
  [dualClient, fanClients, pending, halfClient, twClient, udpBound, udpConnected] = await Promise.all([
    workload.start({ role: 'connect', host: '127.0.0.1', port: dualStack.port, count: 1 }),
    workload.start({ role: 'connect', host: '127.0.0.1', port: fanServer.port, count: 12 }),
    // Backlog 0 queues one connection; the ones after it wait in SYN_SENT.
    workload.start({ role: 'connectPending', host: '127.0.0.1', port: backlog.port, count: 4 }),
    workload.start({ role: 'connect', host: '127.0.0.1', port: halfServer.port, count: 1, halfOpen: true }),
    workload.start({ role: 'timeWait', host: '127.0.0.1', port: twServer.port }),
    workload.start({ role: 'udp', host: '127.0.0.1' }),
    workload.start({ role: 'udp', host: '127.0.0.1', connectTo: udpPeer.port }),
  ]);
  const collector = new LinuxCollector();
  // Wait until the slow transitions (SYN retries, FIN handshakes) have settled in the kernel.
  scan = await eventually(() => {
    const s = collector.collectSync();
    const synSent = s.sockets.filter((x) => x.remotePort === backlog.port && x.state === 'SYN_SENT');
    const fin2 = s.sockets.filter((x) => x.localPort === halfServer.port && x.state === 'FIN_WAIT2');
    return synSent.length > 0 && fin2.length > 0 ? s : undefined;
  });
}, 60_000);

afterAll(async () => {
  await workload.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Linux collector on a real workload', () => {
  it('sees listeners on 127.0.0.1, ::1, 0.0.0.0 and dual-stack :: with their owners', () => {
    const cases = [
      { child: v4, family: 4, address: '127.0.0.1' },
      { child: v6, family: 6, address: '::1' },
      { child: wildcard, family: 4, address: '0.0.0.0' },
      { child: dualStack, family: 6, address: '::' },
    ];
    for (const { child, family, address } of cases) {
      const [listener] = find((s) => isPort(child.port)(s) && s.state === 'LISTEN');
      expect(listener).toMatchObject({
        protocol: 'tcp',
        family,
        localAddress: address,
        localPort: child.port,
        remoteAddress: null,
        remotePort: null,
        pid: child.pid,
        processName: 'node',
        uid: 0,
      });
      expect(listener.inode).toBeGreaterThan(0);
    }
  });

  it('keeps an IPv4 client of a dual-stack listener as the kernel has it: ::ffff:127.0.0.1, family 6', () => {
    const [server] = find((s) => isPort(dualStack.port)(s) && s.state === 'ESTABLISHED');
    expect(server).toMatchObject({
      family: 6,
      localAddress: '::ffff:127.0.0.1',
      remoteAddress: '::ffff:127.0.0.1',
      remotePort: dualClient.localPorts![0],
      pid: dualStack.pid,
    });
    const [client] = find((s) => s.localPort === dualClient.localPorts![0] && s.protocol === 'tcp');
    expect(client).toMatchObject({
      family: 4,
      localAddress: '127.0.0.1',
      remotePort: dualStack.port,
      pid: dualClient.pid,
    });
  });

  it('shows the fan-out: one listener, twelve connected sockets told apart by their remote end', () => {
    const accepted = find((s) => isPort(fanServer.port)(s) && s.state === 'ESTABLISHED');
    expect(accepted).toHaveLength(12);
    expect(new Set(accepted.map((s) => s.remotePort))).toEqual(new Set(fanClients.localPorts));
    expect(accepted.every((s) => s.pid === fanServer.pid && s.remoteAddress === '127.0.0.1')).toBe(true);
    const outgoing = find((s) => s.remotePort === fanServer.port && s.state === 'ESTABLISHED');
    expect(outgoing.map((s) => s.pid)).toEqual(Array(12).fill(fanClients.pid));
  });

  it('sees connections waiting in SYN_SENT behind a full accept queue', () => {
    const synSent = find((s) => s.remotePort === backlog.port && s.state === 'SYN_SENT');
    expect(synSent.length).toBeGreaterThanOrEqual(1);
    for (const s of synSent)
      expect(s).toMatchObject({ protocol: 'tcp', family: 4, localAddress: '127.0.0.1', pid: pending.pid });
    expect(find((s) => isPort(backlog.port)(s) && s.state === 'LISTEN')[0].pid).toBe(backlog.pid);
  });

  it('sees a half-closed connection: FIN_WAIT2 on the closing side, CLOSE_WAIT on the other', () => {
    const clientPort = halfClient.localPorts![0];
    const [server] = find((s) => isPort(halfServer.port)(s) && s.remotePort === clientPort);
    const [client] = find((s) => s.localPort === clientPort && s.remotePort === halfServer.port);
    expect(server).toMatchObject({ state: 'FIN_WAIT2', pid: halfServer.pid, remoteAddress: '127.0.0.1' });
    expect(client).toMatchObject({ state: 'CLOSE_WAIT', pid: halfClient.pid, remoteAddress: '127.0.0.1' });
  });

  it('sees TIME_WAIT on the side that closed first, with no owner and no inode', () => {
    const [tw] = find((s) => s.localPort === twClient.localPort && s.remotePort === twServer.port);
    expect(tw).toMatchObject({ protocol: 'tcp', state: 'TIME_WAIT', pid: null, processName: null, inode: 0, pids: [] });
  });

  it('sees UDP sockets bound (UNCONN) and connected (ESTABLISHED)', () => {
    const [bound] = find((s) => s.protocol === 'udp' && isPort(udpBound.port)(s));
    expect(bound).toMatchObject({
      family: 4,
      localAddress: '127.0.0.1',
      remoteAddress: null,
      remotePort: null,
      state: 'UNCONN',
      pid: udpBound.pid,
    });
    const [connected] = find((s) => s.protocol === 'udp' && isPort(udpConnected.port)(s));
    expect(connected).toMatchObject({
      remoteAddress: '127.0.0.1',
      remotePort: udpPeer.port,
      state: 'ESTABLISHED',
      pid: udpConnected.pid,
    });
  });

  it('sees a Unix listener by its path with its owner', () => {
    const [listener] = find((s) => s.protocol === 'unix' && s.localAddress === unixPath);
    expect(listener).toMatchObject({
      family: null,
      localPort: null,
      remoteAddress: null,
      state: 'LISTEN',
      pid: unixServer.pid,
      uid: 0,
    });
  });

  it('reports a clean scan: no malformed rows, every socket with a file behind it attributed', () => {
    expect(scan.stats.malformedRows).toBe(0);
    expect(scan.stats.hiddenProcesses).toBe(0);
    const ours = new Set(
      [v4, v6, wildcard, dualStack, fanServer, fanClients, halfServer, halfClient, udpBound].map((c) => c.pid),
    );
    expect(scan.sockets.filter((s) => s.pid !== null && ours.has(s.pid)).length).toBeGreaterThan(30);
    expect(scan.processes.find((p) => p.pid === fanServer.pid)).toMatchObject({
      name: 'node',
      user: 'root',
      uid: 0,
      ppid: process.pid,
      cwd: process.cwd(),
    });
    expect(scan.processes.find((p) => p.pid === fanServer.pid)!.command).toContain('socket-child.cjs');
  });

  it('agrees with ss -tuanp taken at the same moment on (protocol, local, remote, state, pids)', () => {
    const ports = new Set(
      [v4, v6, wildcard, dualStack, fanServer, backlog, halfServer, twServer, udpPeer, udpBound, udpConnected].map(
        (c) => c.port,
      ),
    );
    const collector = new LinuxCollector();
    const ours = collector.collectSync().sockets;
    const theirs = readSs();
    const mine = (s: Socket) => ports.has(s.localPort ?? -1) || ports.has(s.remotePort ?? -1);
    const asKey = (r: { protocol: string; local: string; remote: string | null; state: string; pids: number[] }) =>
      `${r.protocol} ${r.local} ${r.remote ?? '*'} ${r.state} ${r.pids.join(',')}`;
    const porthole = ours
      .filter((s) => s.protocol !== 'unix' && mine(s))
      .map((s) =>
        asKey({
          protocol: s.protocol,
          local: formatEndpoint(s.localAddress, s.localPort),
          remote: s.remoteAddress === null ? null : formatEndpoint(s.remoteAddress, s.remotePort),
          state: s.state,
          pids: s.pids,
        }),
      );
    const portOf = (endpoint: string | null) =>
      endpoint === null ? -1 : Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
    const ss = theirs.filter((r) => ports.has(portOf(r.local)) || ports.has(portOf(r.remote))).map(asKey);
    expect(porthole.length).toBeGreaterThan(40);
    expect(porthole.sort()).toEqual(ss.sort());
  });
});
