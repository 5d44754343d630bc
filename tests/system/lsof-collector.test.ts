// The macOS collector's engine for real: the same lsof program and -F format run on this Linux
// machine (no Mac is at hand), against a listener and an established pair the test opened.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { LsofCollector } from '../../src-main/collect/macos/lsof';
import { Workload } from '../helpers/workload';

const lsof = (() => {
  try {
    execFileSync('lsof', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!lsof) console.log('lsof collector: skipped, lsof is not installed (apt-get install lsof)');
const workload = new Workload();
afterEach(() => workload.stop());

describe.skipIf(!lsof)('the lsof collector (macOS engine), run on this machine', () => {
  it('finds a listener and both ends of a connection, each with its owner', async () => {
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const client = await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 1 });
    const scan = await new LsofCollector().collect();
    expect(scan.stats).toMatchObject({ engine: 'lsof', malformedRows: 0 });
    const on = (local: number, remote: number | null) =>
      scan.sockets.filter((s) => s.protocol === 'tcp' && s.localPort === local && s.remotePort === remote);
    const clientPort = client.localPorts![0];
    expect(on(server.port!, null).map((s) => [s.state, s.pid, s.localAddress])).toEqual([
      ['LISTEN', server.pid, '127.0.0.1'],
    ]);
    expect(on(clientPort, server.port!).map((s) => [s.state, s.pid])).toEqual([['ESTABLISHED', client.pid]]);
    expect(on(server.port!, clientPort).map((s) => [s.state, s.pid])).toEqual([['ESTABLISHED', server.pid]]);
    expect(scan.processes.find((p) => p.pid === server.pid)).toMatchObject({ name: 'node', user: 'root' });
  });
});
