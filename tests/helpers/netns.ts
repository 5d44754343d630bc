// Real network namespaces for system tests (root): `ip netns add`, veth pairs, processes inside.
// Names carry the test runner's pid, so parallel files and leftovers of a killed run never clash.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HELPERS, type Workload, type ChildInfo } from './workload';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * A forwarder with docker-proxy's command line (tests/helpers/docker-proxy) from 127.0.0.1 on a
 * host port free right now to `to`: a port published into a namespace, as Docker does it.
 */
export async function startForwarder(
  workload: Workload,
  to: { address: string; port: number },
): Promise<{ proxy: ChildInfo; hostPort: number }> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const hostPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const proxy = await workload.run(process.execPath, [
    join(HELPERS, 'docker-proxy'),
    ...['-proto', 'tcp', '-host-ip', '127.0.0.1', '-host-port', String(hostPort)],
    ...['-container-ip', to.address, '-container-port', String(to.port)],
  ]);
  return { proxy, hostPort };
}

export class TestNamespaces {
  private readonly names: string[] = [];
  private readonly links: string[] = [];
  private static count = 0;

  /** A new namespace with its loopback up; returns its name. */
  add(tag: string): string {
    const name = `pt${process.pid}${tag}`;
    ip('netns', 'add', name);
    this.names.push(name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
    return name;
  }

  /** The namespace's inode, as Porthole reports it. */
  inode(name: string): number {
    return statSync(`/run/netns/${name}`).ino;
  }

  /** A veth pair from the host into `name`, a /30 of 10.233.0.0/16 of its own: both ends' addresses. */
  veth(name: string): { host: string; inside: string } {
    const n = (process.pid % 60) * 4 + TestNamespaces.count++;
    const hostLink = `ph${process.pid % 100000}x${n % 100}`;
    const insideLink = `pn${process.pid % 100000}x${n % 100}`;
    const subnet = `10.233.${n % 250}`;
    ip('link', 'add', hostLink, 'type', 'veth', 'peer', 'name', insideLink);
    this.links.push(hostLink);
    ip('link', 'set', insideLink, 'netns', name);
    ip('addr', 'add', `${subnet}.1/30`, 'dev', hostLink);
    ip('link', 'set', hostLink, 'up');
    ip('-n', name, 'addr', 'add', `${subnet}.2/30`, 'dev', insideLink);
    ip('-n', name, 'link', 'set', insideLink, 'up');
    return { host: `${subnet}.1`, inside: `${subnet}.2` };
  }

  /** A veth pair between two namespaces, in a /30 of 10.234.0.0/16 of its own: each end's address. */
  link(a: string, b: string, index: number): { a: string; b: string } {
    const n = ((process.pid % 60) * 4 + index) % 250;
    const aLink = `pa${process.pid % 100000}x${index}`;
    const bLink = `pb${process.pid % 100000}x${index}`;
    ip('link', 'add', aLink, 'netns', a, 'type', 'veth', 'peer', 'name', bLink, 'netns', b);
    ip('-n', a, 'addr', 'add', `10.234.${n}.1/30`, 'dev', aLink);
    ip('-n', b, 'addr', 'add', `10.234.${n}.2/30`, 'dev', bLink);
    ip('-n', a, 'link', 'set', aLink, 'up');
    ip('-n', b, 'link', 'set', bLink, 'up');
    return { a: `10.234.${n}.1`, b: `10.234.${n}.2` };
  }

  /** Starts a socket-child inside the namespace (same plans as Workload.start). */
  start(workload: Workload, name: string, plan: Record<string, unknown>): Promise<ChildInfo> {
    return workload.run('ip', [
      'netns',
      'exec',
      name,
      process.execPath,
      join(HELPERS, 'socket-child.cjs'),
      JSON.stringify(plan),
    ]);
  }

  /** `ss -tan` inside the namespace: the kernel's own word on its TCP sockets, one per line. */
  ssTcp(name: string): string {
    return execFileSync('ss', ['-N', name, '-tanH'], { encoding: 'utf8' });
  }

  delete(name: string): void {
    try {
      ip('netns', 'delete', name);
    } catch {
      // already gone
    }
    const i = this.names.indexOf(name);
    if (i >= 0) this.names.splice(i, 1);
  }

  cleanup(): void {
    for (const link of this.links.splice(0))
      try {
        ip('link', 'delete', link);
      } catch {
        // went with its namespace
      }
    for (const name of [...this.names]) this.delete(name);
  }
}
