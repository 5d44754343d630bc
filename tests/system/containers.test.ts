// Containers and published ports (issue 11), as close to real as this machine allows: real
// namespaces, a real cgroup of Docker's v1 layout, a real forwarder with docker-proxy's command
// line, and the runtime API's answer (tests/fixtures/containers: no Docker engine runs here).
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerDirectory } from '../../src-main/collect/containers/runtime-api';
import { NamespaceNamer } from '../../src-main/collect/containers/naming';
import { LinuxCollector } from '../../src-main/collect/linux/linux-collector';
import { gatherPortEvidence } from '../../src-main/collect/port-evidence';
import type { Snapshot } from '../../src-main/shared/contract';
import { diagnosePort, diagnosisText } from '../../src-main/track/port-doctor';
import { runPorthole } from '../helpers/cli';
import { at, theListener } from '../helpers/identity';
import { startForwarder, TestNamespaces } from '../helpers/netns';
import { eventually, HELPERS, Workload, type ChildInfo } from '../helpers/workload';

const FIXTURES = join(__dirname, '..', 'fixtures', 'containers');
const namespaces = new TestNamespaces();
const workload = new Workload();
const dir = mkdtempSync(join(tmpdir(), 'porthole-containers-'));

afterAll(async () => {
  await workload.stop();
  namespaces.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('a port published into a namespace by a forwarder (docker-proxy)', () => {
  let inside: { host: string; inside: string };
  let name: string;
  let server: ChildInfo;
  let proxy: ChildInfo;
  let hostPort: number;

  beforeAll(async () => {
    name = namespaces.add('p');
    inside = namespaces.veth(name);
    server = await namespaces.start(workload, name, { role: 'listen', host: '0.0.0.0' });
    ({ proxy, hostPort } = await startForwarder(workload, { address: inside.inside, port: server.port! }));
  });

  it('is listed with the namespace it leads into, in the JSON and the text snapshot', () => {
    const snapshot = JSON.parse(runPorthole(['snapshot', '--format', 'json']).stdout) as Snapshot;
    expect(snapshot.publishedPorts).toContainEqual({
      protocol: 'tcp',
      hostAddress: '127.0.0.1',
      hostPort,
      netns: namespaces.inode(name),
      address: inside.inside,
      port: server.port,
      container: null,
      via: 'docker-proxy',
    });
    const text = runPorthole(['snapshot', '--format', 'text']).stdout;
    expect(text).toContain(`Published ports:\n`);
    expect(text).toContain(`  tcp 127.0.0.1:${hostPort} → ${inside.inside}:${server.port}\n`);
  });

  it('who names the forwarder, where it forwards, and the listener inside', () => {
    const run = runPorthole(['who', String(hostPort)]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      `is in use: node (pid ${proxy.pid}, user root) listens on 127.0.0.1:${hostPort}, forwarding to`,
    );
    expect(run.stdout).toContain(`${inside.inside}:${server.port}.`);
    // The listener inside is on another port number's namespace: asked about that port, who finds it there.
    const inner = runPorthole(['who', String(server.port)]);
    expect(inner.stdout).toContain(`tcp 0.0.0.0:${server.port}  in ${name}: node (pid ${server.pid})`);
  });
});

describe('a container named by its cgroup and its runtime', () => {
  const id = 'c0ffee'.repeat(10) + 'abcd';
  const cgroup = `/sys/fs/cgroup/pids/docker/${id}`;
  let api: Server;
  let socketPath: string;
  let server: ChildInfo;

  beforeAll(async () => {
    // A process in a namespace of its own, as a container's is (unshare: no bind mount, no name).
    server = await workload.run('unshare', [
      '-n',
      'sh',
      '-c',
      `ip link set lo up && exec ${process.execPath} ${join(HELPERS, 'socket-child.cjs')} '{"role":"listen","host":"127.0.0.1"}'`,
    ]);
    // …and in the cgroup Docker makes for a container (cgroup v1 layout: /docker/<id>).
    mkdirSync(cgroup, { recursive: true });
    writeFileSync(`${cgroup}/cgroup.procs`, String(server.pid));
    const answer = readFileSync(join(FIXTURES, 'docker-containers.json'), 'utf8').replace('CONTAINER_ID', id);
    socketPath = join(dir, 'docker.sock');
    api = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/containers/json') return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    });
    await new Promise<void>((resolve) => api.listen(socketPath, resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => api.close(resolve));
    await workload.stop();
    await eventually(() => {
      try {
        rmdirSync(cgroup);
        rmdirSync('/sys/fs/cgroup/pids/docker');
        return true;
      } catch {
        return undefined; // the process is still leaving the cgroup, or another container remains
      }
    }).catch(() => undefined);
  });

  it('names the namespace, its sockets and its process after the container, and finds its published ports', async () => {
    const directory = new ContainerDirectory(() => [{ path: socketPath, runtime: 'docker' }]);
    const collector = new LinuxCollector({ namer: new NamespaceNamer('/proc', directory) });
    const scan = await collector.collect();
    const container = { runtime: 'docker', id: id.slice(0, 12), name: 'db', image: 'postgres:16' };
    const ns = scan.namespaces!.find((n) => n.containers.some((c) => c.id === container.id));
    expect(ns).toMatchObject({ name: 'db', own: false, mounts: [], containers: [container], unreadable: null });
    const listener = theListener(scan.sockets, 'tcp', at('127.0.0.1', server.port), ns!.inode);
    expect(listener).toMatchObject({ pid: server.pid, netnsName: 'db' });
    expect(scan.processes.find((p) => p.pid === server.pid)?.container).toEqual(container);
    expect(scan.publishedPorts).toContainEqual({
      protocol: 'tcp',
      hostAddress: '127.0.0.1',
      hostPort: 15432,
      netns: ns!.inode,
      address: '172.18.0.2',
      port: 5432,
      container,
      via: 'docker',
    });

    // The doctor: free on the host, held inside the container, and how it is published.
    const diagnosis = diagnosePort(
      await gatherPortEvidence({ port: server.port!, protocol: 'tcp', address: null }, scan),
    );
    expect(diagnosis.verdict).toBe('free');
    expect(diagnosis.summary).toContain(`but db (postgres:16) listens on 127.0.0.1:${server.port} inside its own`);
    expect(diagnosisText(diagnosis)).toContain(`in db (postgres:16): node (pid ${server.pid})`);
  });
});
