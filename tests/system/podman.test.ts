// A real container (issue 11), where Podman can run one (root; CI installs podman, runc and
// busybox-static): a listener inside it and a port published to the host. Porthole reads the
// container's namespace, names it from Podman's own API (GET /containers/json on its socket) and
// from /proc/<pid>/cgroup, and shows where the host port leads.
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NamespaceNamer } from '../../src-main/collect/containers/naming';
import { ContainerDirectory } from '../../src-main/collect/containers/runtime-api';
import { LinuxCollector } from '../../src-main/collect/linux/linux-collector';
import { gatherPortEvidence } from '../../src-main/collect/port-evidence';
import type { Scan } from '../../src-main/shared/contract';
import { diagnosePort } from '../../src-main/track/port-doctor';
import { ensureImage, IMAGE, podman, podmanUnavailable, runContainer, startApi } from '../helpers/podman';
import { eventually } from '../helpers/workload';

const unavailable = podmanUnavailable();
if (unavailable) console.log(`podman container test skipped: ${unavailable}`);
const name = `pt${process.pid}db`;
const socketPath = `/tmp/porthole-podman-${process.pid}.sock`;
let api: ReturnType<typeof startApi> | null = null;
let id = '';
let hostPort = 0;
let scan: Scan;

beforeAll(async () => {
  if (unavailable) return;
  ensureImage();
  id = runContainer(name, ['-p', '127.0.0.1::5432'], 'while true; do nc -l -p 5432; done');
  hostPort = Number(/:(\d+)\s*$/.exec(podman('port', name, '5432/tcp').trim())![1]);
  api = startApi(socketPath);
  await eventually(() => (statSync(socketPath, { throwIfNoEntry: false })?.isSocket() ? true : undefined), 10_000);
  const namer = new NamespaceNamer('/proc', new ContainerDirectory(() => [{ path: socketPath, runtime: 'podman' }]));
  const collector = new LinuxCollector({ namer });
  // The first scan waits for the API's answer; the listener may take a moment to start.
  scan = await eventually(async () => {
    const s = await collector.collect();
    return s.sockets.some((x) => x.netnsName === name && x.localPort === 5432 && x.state === 'LISTEN') ? s : undefined;
  }, 15_000);
}, 120_000);

afterAll(() => {
  if (unavailable) return;
  api?.stop();
  try {
    podman('rm', '-f', '-t', '0', name);
  } catch {
    // never started
  }
});

describe.skipIf(unavailable !== null)('a real Podman container', () => {
  it('shows the listener inside it, in its namespace named after the container, owned by its process', () => {
    const listener = scan.sockets.find((s) => s.netnsName === name && s.localPort === 5432 && s.state === 'LISTEN')!;
    expect(listener).toMatchObject({ protocol: 'tcp', processName: 'nc' });
    expect(listener.netns).toBeGreaterThan(0);
    const owner = scan.processes.find((p) => p.pid === listener.pid)!;
    expect(owner.container).toMatchObject({ runtime: 'podman', id: id.slice(0, 12), name, image: IMAGE });
    expect(scan.namespaces!.find((n) => n.inode === listener.netns)).toMatchObject({
      name,
      own: false,
      unreadable: null,
    });
  });

  it('shows where the published host port leads, and the doctor names the container', async () => {
    const published = scan.publishedPorts!.find((p) => p.hostPort === hostPort)!;
    expect(published).toMatchObject({ protocol: 'tcp', hostAddress: '127.0.0.1', port: 5432, via: 'podman' });
    expect(published.container).toMatchObject({ name, image: IMAGE });
    const listener = scan.sockets.find((s) => s.netnsName === name && s.localPort === 5432 && s.state === 'LISTEN')!;
    expect(published.netns).toBe(listener.netns);
    const diagnosis = diagnosePort(await gatherPortEvidence({ port: hostPort, protocol: 'tcp', address: null }, scan));
    expect(diagnosis.verdict).not.toBe('free');
    expect(diagnosis.summary).toContain(`${name}`);
    expect(diagnosis.summary).toContain(':5432');
  });
});
