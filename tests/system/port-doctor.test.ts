// `porthole who`: the EADDRINUSE doctor against real sockets held by child processes, one case
// each: a plain listener, wildcard vs a specific address, dual-stack, TIME_WAIT only, UDP, and a
// privileged port asked about as nobody. The kernel's answer comes from a real bind.
import { afterAll, describe, expect, it } from 'vitest';
import type { Diagnosis } from '../../src-main/track/port-doctor';
import { LinuxCollector } from '../../src-main/collect/linux/linux-collector';
import { asNobody, runPorthole } from '../helpers/cli';
import { at, socketsAt } from '../helpers/identity';
import { eventually, Workload } from '../helpers/workload';
import { tmpdir } from 'node:os';

const workload = new Workload();
const LO = '127.0.0.1';
afterAll(() => workload.stop());

/** The finding for the listener on exactly this endpoint (other sockets of a busy host may share the port). */
function listenerAt(diagnosis: Diagnosis, endpoint: string) {
  const found = diagnosis.listeners.filter((l) => l.endpoint === endpoint);
  expect(found, `listeners: ${diagnosis.listeners.map((l) => l.endpoint).join(', ')}`).toHaveLength(1);
  return found[0];
}

function who(args: string[], prefix: string[] = []): { status: number | null; diagnosis: Diagnosis; stderr: string } {
  const run = runPorthole(['who', ...args, '--json'], { cwd: tmpdir() }, prefix);
  expect(run.stderr).toBe('');
  return { status: run.status, diagnosis: JSON.parse(run.stdout) as Diagnosis, stderr: run.stderr };
}

describe('porthole who', () => {
  it('names the process of a plain listener, with the kernel refusing the bind, and nearby free ports', async () => {
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const { status, diagnosis } = who([String(server.port)]);
    expect(status).toBe(1);
    expect(diagnosis.verdict).toBe('in-use');
    expect(diagnosis.listeners).toHaveLength(1);
    const listener = listenerAt(diagnosis, `127.0.0.1:${server.port}`);
    expect(listener).toMatchObject({ scope: 'loopback IPv4', process: { pid: server.pid, name: 'node' } });
    expect(listener.process!.command).toMatch(/socket-child\.cjs/);
    expect(listener.process!.cwd).toBeTruthy();
    expect(diagnosis.binds.map((b) => b.outcome)).toContain('EADDRINUSE');
    expect(diagnosis.advice[0]).toMatch(new RegExp(`pid ${server.pid}.*porthole kill ${server.port}`));
    expect(diagnosis.freePorts.length).toBeGreaterThan(0);
    for (const port of diagnosis.freePorts) expect(Math.abs(port - server.port!)).toBeLessThanOrEqual(40);

    // The human form says the same in words.
    const text = runPorthole(['who', `${server.port}/tcp`]);
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`tcp port ${server.port} is in use: node \\(pid ${server.pid}`));
    expect(text.stdout).toMatch(/failed with EADDRINUSE/);
  });

  it('explains that a wildcard listener blocks a specific address, and not the other way round', async () => {
    const wildcard = await workload.start({ role: 'listen', host: '0.0.0.0' });
    const blocked = who([String(wildcard.port), '--address', '127.0.0.1']);
    expect(blocked.status).toBe(1);
    expect(listenerAt(blocked.diagnosis, `0.0.0.0:${wildcard.port}`).blocks).toMatch(
      /every IPv4 address, which includes 127\.0\.0\.1/,
    );
    expect(blocked.diagnosis.binds).toEqual([{ address: '127.0.0.1', reuseAddress: true, outcome: 'EADDRINUSE' }]);

    const specific = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const other = who([String(specific.port), '--address', '127.0.0.2']);
    expect(other.status).toBe(0);
    expect(other.diagnosis.verdict).toBe('free');
    expect(listenerAt(other.diagnosis, `127.0.0.1:${specific.port}`).blocks).toBeNull();
    expect(other.diagnosis.summary).toMatch(/free to bind: the listeners on this port are on other addresses/);
    const wild = who([String(specific.port), '--address', '0.0.0.0']);
    expect(wild.status).toBe(1);
    expect(listenerAt(wild.diagnosis, `127.0.0.1:${specific.port}`).blocks).toMatch(
      /wildcard bind to 0\.0\.0\.0 conflicts with the specific listener/,
    );
  });

  it('explains that a dual-stack [::] listener blocks IPv4 binds too', async () => {
    const dual = await workload.start({ role: 'listen', host: '::', ipv6Only: false });
    const { status, diagnosis } = who([String(dual.port), '--address', '127.0.0.1']);
    expect(status).toBe(1);
    const listener = listenerAt(diagnosis, `[::]:${dual.port}`);
    expect(listener).toMatchObject({ scope: 'wildcard dual-stack', process: { pid: dual.pid } });
    expect(listener.blocks).toMatch(/dual-stack: it takes IPv4 too/);
    expect(diagnosis.binds[0].outcome).toBe('EADDRINUSE');
  });

  it('says TIME_WAIT leftovers have no owner, block a bind without SO_REUSEADDR, and when they clear', async () => {
    // The server closes first, so its side of each connection lingers in TIME_WAIT on its port.
    const servers = new Workload();
    const server = await servers.start({ role: 'halfCloseServer', host: '127.0.0.1' });
    const clients = await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 2 });
    // Kill the server only once its ends are in TIME_WAIT: killed before it accepted and closed
    // them (a busy machine), the kernel would reset the connections instead. Its ends by their
    // 4-tuple: a busy host may have other TIME_WAIT sockets on this very port.
    const serverEnds = clients.localPorts!.map((port) => [at(LO, server.port), at(LO, port)] as const);
    const inTimeWait = () => {
      const sockets = new LinuxCollector().collectSync().sockets;
      return serverEnds.every(([local, remote]) => socketsAt(sockets, 'tcp', local, remote)[0]?.state === 'TIME_WAIT')
        ? true
        : undefined;
    };
    await eventually(inTimeWait);
    await servers.stop();
    expect(inTimeWait()).toBe(true);
    const { status, diagnosis } = await eventually(() => {
      const result = who([String(server.port)]);
      return result.diagnosis.timeWait.count >= 2 && result.diagnosis.listeners.length === 0 ? result : undefined;
    });
    expect(diagnosis.listeners).toEqual([]);
    expect(diagnosis.timeWait.clearsInMs).toBeGreaterThan(0);
    expect(diagnosis.timeWait.clearsInMs).toBeLessThanOrEqual(60_000);
    // The kernel's answer both ways: with SO_REUSEADDR (Node's) the bind works, without it fails.
    expect(diagnosis.binds.every((b) => b.outcome === 'free' || b.outcome === 'EADDRNOTAVAIL')).toBe(true);
    expect(diagnosis.strictBinds.map((b) => b.outcome)).toContain('EADDRINUSE');
    expect(status).toBe(0);
    expect(diagnosis.summary).toMatch(
      /free to bind with SO_REUSEADDR; without it the TIME_WAIT leftovers still block it/,
    );
    expect(diagnosis.advice.join(' ')).toMatch(/set SO_REUSEADDR/);
    expect(diagnosis.advice.join(' ')).not.toMatch(/porthole kill/);
    const text = runPorthole(['who', String(server.port)]).stdout;
    expect(text).toMatch(/TIME_WAIT: \d+ socket\(s\) left by closed connections; no process owns them/);
    expect(text).toMatch(/clear by themselves within \d+ s/);
    // The sentence follows the kernel's answer printed beside it.
    expect(diagnosis.timeWait.effect).toMatch(/block a bind without SO_REUSEADDR .*with it, the bind works/);
  });

  it('diagnoses a UDP port', async () => {
    const udp = await workload.start({ role: 'udp', host: '127.0.0.1' });
    const { status, diagnosis } = who([`${udp.port}/udp`]);
    expect(status).toBe(1);
    expect(diagnosis.request).toEqual({ port: udp.port, protocol: 'udp', address: null });
    expect(listenerAt(diagnosis, `127.0.0.1:${udp.port}`)).toMatchObject({ process: { pid: udp.pid } });
    expect(diagnosis.binds.find((b) => b.address === '0.0.0.0')).toEqual({
      address: '0.0.0.0',
      reuseAddress: false,
      outcome: 'EADDRINUSE',
    });
    expect(diagnosis.advice[0]).toMatch(new RegExp(`porthole kill ${udp.port}/udp`));
  });

  it('reports EACCES for a privileged port when run as nobody, and what to do about it', () => {
    // A low port nothing listens on here: the only obstacle is privilege.
    const port = [81, 82, 83, 84, 85].find((p) => runPorthole(['who', String(p), '--json']).status === 0)!;
    expect(port).toBeDefined();
    const { status, diagnosis } = who([String(port)], asNobody());
    expect(status).toBe(1);
    expect(diagnosis.verdict).toBe('denied');
    expect(diagnosis.binds.map((b) => b.outcome)).toContain('EACCES');
    expect(diagnosis.summary).toMatch(/privileged/);
    expect(diagnosis.advice.join(' ')).toMatch(/CAP_NET_BIND_SERVICE/);
  });

  it('refuses bad ports with exit 2 and a clear message', () => {
    for (const [arg, reason] of [
      ['0', /port 0 means "any free port"/],
      ['70000', /port 70000 is out of range/],
      ['abc', /"abc" is not a port/],
      ['80/sctp', /"80\/sctp" is not a port/],
    ] as const) {
      const run = runPorthole(['who', arg]);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(reason);
      expect(run.stdout).toBe('');
    }
    expect(runPorthole(['who']).stderr).toMatch(/Which port\?/);
    for (const address of ['localhost:1', '999.1.1.1', 'example.com', 'fe80::1%lo', '1.2.3'])
      expect(runPorthole(['who', '3000', '--address', address])).toMatchObject({
        status: 2,
        stderr: expect.stringMatching(/--address takes an IPv4 or IPv6 address \(no host names\)/),
      });
  });
});
