// The macOS / Windows collector's mapping, fed with systeminformation outputs from those platforms
// (tests/fixtures/systeminformation/SOURCE.md says where each entry comes from).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanFromSi, socketFromSi, type SiConnection, type SiProcess } from '../../src-main/collect/systeminformation';

const fixture = (platform: string) =>
  JSON.parse(
    readFileSync(join(__dirname, '../fixtures/systeminformation', `${platform}-networkConnections.json`), 'utf8'),
  ) as {
    connections: SiConnection[];
    processes: SiProcess[];
  };

describe('systeminformation collector mapping', () => {
  it('macOS: tcp4/tcp46/udp46, wildcard *, names from the process list, bogus pids kept unnamed', () => {
    const { connections, processes } = fixture('darwin');
    const scan = scanFromSi(connections, processes, 12);
    expect(scan.stats.malformedRows).toBe(0);
    expect(scan.sockets).toHaveLength(connections.length);
    expect(scan.sockets[0]).toMatchObject({
      protocol: 'tcp',
      family: 4,
      localPort: 59385,
      remoteAddress: '**.**.**.**',
      remotePort: 443,
      state: 'ESTABLISHED',
      pid: 131072,
      processName: null,
      inode: 0,
    });
    expect(scan.sockets[3]).toMatchObject({
      protocol: 'tcp',
      family: 6,
      localAddress: '::',
      localPort: 7000,
      remoteAddress: null,
      state: 'LISTEN',
      pid: 866,
      processName: 'ControlCenter',
    });
    expect(scan.sockets[4]).toMatchObject({ state: 'CLOSE_WAIT', pid: 9811 });
    expect(scan.sockets[5]).toMatchObject({
      protocol: 'udp',
      family: 6,
      localPort: 5353,
      state: 'UNCONN',
      processName: 'rapportd',
    });
    expect(scan.sockets[6]).toMatchObject({
      protocol: 'udp',
      family: 4,
      localAddress: '0.0.0.0',
      localPort: 0,
      state: 'UNCONN',
    });
    expect(scan.processes.find((p) => p.pid === 22712)).toEqual({
      pid: 22712,
      ppid: 1,
      name: 'Autodesk Fusion',
      command: '/Applications/Autodesk Fusion.app/Contents/MacOS/Autodesk Fusion',
      user: 'dev',
      uid: null,
      startedAt: new Date('2025-09-19T08:00:00').toISOString(),
      cwd: null,
    });
  });

  it('Windows: LISTEN on :: and 0.0.0.0, UDP without state, TIME_WAIT with pid 0 as unknown, FIN_WAIT_2 spelling', () => {
    const { connections, processes } = fixture('win32');
    const scan = scanFromSi(connections, processes, 30);
    const byPort = (port: number) => scan.sockets.find((s) => s.localPort === port)!;
    expect(byPort(137)).toMatchObject({ protocol: 'udp', family: 4, state: 'UNCONN', pid: 4124 });
    expect(byPort(138)).toMatchObject({ protocol: 'udp', state: 'UNCONN', pid: null });
    expect(byPort(49156)).toMatchObject({
      family: 6,
      localAddress: '::',
      remoteAddress: null,
      remotePort: null,
      state: 'LISTEN',
      pid: 484,
      processName: 'lsass.exe',
    });
    expect(byPort(49712)).toMatchObject({ state: 'TIME_WAIT', pid: null, processName: null });
    expect(byPort(49713)).toMatchObject({ state: 'FIN_WAIT2', pid: 5588, processName: 'chrome.exe' });
    expect(scan.processes.find((p) => p.pid === 5588)!.command).toBe(
      'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe --type=utility',
    );
    expect(scan.stats.unattributed).toBe(1);
  });

  it('Linux shapes: bracketed [::], null pids', () => {
    const scan = scanFromSi(fixture('linux').connections, [], 5);
    expect(scan.sockets[1]).toMatchObject({
      family: 6,
      localAddress: '::',
      localPort: 5355,
      state: 'LISTEN',
      pid: null,
    });
    expect(scan.sockets[0]).toMatchObject({ pid: null, processName: null });
  });

  it.each([{ protocol: 'sctp' }, { protocol: 'tcp', state: 'WEIRD' }])(
    'skips and counts an entry it cannot read: %j',
    (override) => {
      const entry = { ...fixture('win32').connections[1], ...override } as SiConnection;
      expect(socketFromSi(entry)).toBeNull();
      expect(scanFromSi([entry], [], 1).stats.malformedRows).toBe(1);
    },
  );
});
