// Naming containers and namespaces from their evidence (issue 11): cgroup paths, the runtimes'
// state files and API answers (tests/fixtures/containers says where those come from), and the
// runtime API client's bounds against a daemon that hangs, floods or lies.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerFromCgroup, publishedFromProxyCommand } from '../../src-main/collect/containers/cgroup';
import { namespaceName } from '../../src-main/collect/containers/naming';
import {
  ContainerDirectory,
  getJson,
  parseContainerList,
  runtimeSockets,
} from '../../src-main/collect/containers/runtime-api';
import { namesFromOciConfig, runtimeStatePaths } from '../../src-main/collect/containers/runtime-state';
import { namespaceInodeOf, parseFibTrieLocal, parseIfInet6 } from '../../src-main/collect/linux/namespaces';
import { parseSnapshot } from '../../src-main/export/import-snapshot';
import { describePublished } from '../../src-main/track/namespaces';

const FIXTURES = join(__dirname, '..', 'fixtures', 'containers');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as unknown;
const ID = 'ab'.repeat(32);

describe('container identity from cgroup paths', () => {
  it('reads Kubernetes containers under each engine, with the engine whose state names the pod', () => {
    const besteffort = 'kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b6f1c1e_6f1a.slice';
    expect(containerFromCgroup(`0::/${besteffort}/cri-containerd-${ID}.scope\n`)).toEqual({
      runtime: 'kubernetes',
      id: ID.slice(0, 12),
      fullId: ID,
      engine: 'containerd',
    });
    expect(containerFromCgroup(`0::/${besteffort}/crio-${ID}.scope\n`)).toMatchObject({ engine: 'cri-o' });
    expect(containerFromCgroup(`11:pids:/kubepods/burstable/pod0b6f1c1e-6f1a/${ID}\n`)).toMatchObject({
      runtime: 'kubernetes',
      fullId: ID,
    });
  });

  it('reads nspawn machines and lxc containers by name, unescaping systemd units', () => {
    expect(containerFromCgroup('0::/machine.slice/systemd-nspawn@build\\x2dbox.service/payload\n')).toMatchObject({
      runtime: 'nspawn',
      id: 'build-box',
    });
    expect(containerFromCgroup('0::/machine.slice/machine-web.scope\n')).toMatchObject({
      runtime: 'nspawn',
      id: 'web',
    });
    expect(containerFromCgroup('0::/lxc/web1\n')).toMatchObject({ runtime: 'lxc', id: 'web1' });
  });

  it('reads a published port from docker-proxy arguments, and refuses ports that are not ports', () => {
    expect(
      publishedFromProxyCommand(
        '/usr/bin/docker-proxy -proto udp -host-ip 0.0.0.0 -host-port 5353 -container-ip 172.17.0.3 -container-port 53 -use-listen-fd',
      ),
    ).toEqual({
      protocol: 'udp',
      hostAddress: '0.0.0.0',
      hostPort: 5353,
      netns: null,
      address: '172.17.0.3',
      port: 53,
      container: null,
      via: 'docker-proxy',
    });
    expect(publishedFromProxyCommand('docker-proxy -proto tcp -host-port 99999 -container-port 80')).toBeNull();
    expect(publishedFromProxyCommand('/usr/bin/not-docker-proxy -host-port 80 -container-port 80')).toBeNull();
  });
});

describe("names from the runtime's state and API", () => {
  it("reads the pod, its namespace, container and image from containerd's and CRI-O's config.json", () => {
    expect(namesFromOciConfig(fixture('containerd-cri-config.json'))).toEqual({
      pod: 'coredns-5dd5756b68-x2x7d',
      podNamespace: 'kube-system',
      name: 'coredns',
      image: 'registry.k8s.io/coredns/coredns:v1.11.1',
    });
    expect(namesFromOciConfig(fixture('crio-config.json'))).toEqual({
      pod: 'web-7c5ddbdf54-8xq2k',
      podNamespace: 'shop',
      name: 'web',
      image: 'docker.io/library/nginx:1.27',
    });
    expect(namesFromOciConfig({ annotations: { 'io.kubernetes.pod.name': 42 } })).toEqual({});
    expect(namesFromOciConfig(null)).toEqual({});
  });

  it('looks for state only where each engine keeps it, and only for well-formed ids', () => {
    expect(runtimeStatePaths({ runtime: 'kubernetes', id: '', fullId: ID, engine: 'cri-o' })).toEqual([
      `/run/containers/storage/overlay-containers/${ID}/userdata/config.json`,
    ]);
    expect(runtimeStatePaths({ runtime: 'kubernetes', id: '', fullId: '../../etc', engine: 'containerd' })).toEqual([]);
  });

  it('reads the answer Podman really gave (recorded): name, image, address and the published port', () => {
    const [db, ...rest] = parseContainerList(fixture('podman-containers.json'), 'podman');
    expect(rest).toEqual([]);
    expect(db).toMatchObject({
      id: 'e45c32bc6261e3cca87b2786270711c50fccc8b4ae16acebaf9f238a55cc6df0',
      name: 'db',
      image: 'localhost/porthole-test-busybox:1',
      addresses: ['10.88.0.9'],
    });
    expect(db.ports.map(describePublished)).toEqual([
      'tcp 127.0.0.1:15432 → db (localhost/porthole-test-busybox:1) 10.88.0.9:5432',
    ]);
    expect(db.ports[0].via).toBe('podman');
  });

  it('takes names, images, pods and published ports from a /containers/json answer, skipping what is not a container', () => {
    const containers = parseContainerList(fixture('docker-containers.json'), 'docker');
    // CONTAINER_ID is not an id until a test puts one in: that entry is skipped, like the junk ones.
    expect(containers.map((c) => c.pod)).toEqual(['coredns-5dd5756b68-x2x7d']);
    const answer = JSON.parse(
      readFileSync(join(FIXTURES, 'docker-containers.json'), 'utf8').replace('CONTAINER_ID', ID),
    );
    const [db, dns, ...rest] = parseContainerList(answer, 'docker');
    expect(rest).toEqual([]);
    expect(db).toMatchObject({ id: ID, name: 'db', image: 'postgres:16', addresses: ['172.18.0.2'] });
    // Exposed-only ports are not published; both host addresses of a published one are.
    expect(db.ports.map(describePublished)).toEqual([
      'tcp 127.0.0.1:15432 → db (postgres:16) 172.18.0.2:5432',
      'tcp [::1]:15432 → db (postgres:16) 172.18.0.2:5432',
    ]);
    expect(dns).toMatchObject({ pod: 'coredns-5dd5756b68-x2x7d', podNamespace: 'kube-system', ports: [] });
  });
});

describe('the runtime API client', () => {
  it('asks the system-wide sockets and each user’s rootless Podman socket', () => {
    const runUser = mkdtempSync(join(tmpdir(), 'porthole-run-user-'));
    try {
      for (const name of ['1000', '1001', 'not-a-uid']) mkdirSync(join(runUser, name));
      expect(runtimeSockets(runUser)).toEqual([
        { path: '/var/run/docker.sock', runtime: 'docker' },
        { path: '/run/podman/podman.sock', runtime: 'podman' },
        { path: `${runUser}/1000/podman/podman.sock`, runtime: 'podman' },
        { path: `${runUser}/1001/podman/podman.sock`, runtime: 'podman' },
      ]);
      expect(runtimeSockets(join(runUser, 'absent'))).toHaveLength(2);
    } finally {
      rmSync(runUser, { recursive: true, force: true });
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'porthole-api-'));
  const servers: Server[] = [];
  afterAll(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });
  const serve = async (name: string, handler: RequestListener): Promise<string> => {
    const path = join(dir, name);
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return path;
  };

  it('gives up on a daemon that does not answer within its timeout, and says so', async () => {
    const path = await serve('hung.sock', () => {}); // accepts, never answers
    const started = performance.now();
    await expect(getJson(path, '/containers/json', 300)).rejects.toThrow(/did not answer within 300 ms/);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('refuses an answer that is too large, not JSON, or not 200, and keeps the last good names', async () => {
    const flood = await serve('flood.sock', (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(1 << 20, 0x20);
      for (let i = 0; i < 9; i++) res.write(chunk);
      res.end('[]');
    });
    await expect(getJson(flood, '/containers/json')).rejects.toThrow(/more than/);
    const garbage = await serve('garbage.sock', (_req, res) => res.writeHead(200).end('{"Id":'));
    await expect(getJson(garbage, '/containers/json')).rejects.toThrow(/not JSON/);
    const denied = await serve('denied.sock', (_req, res) => res.writeHead(403).end());
    await expect(getJson(denied, '/containers/json')).rejects.toThrow(/answered 403/);

    const directory = new ContainerDirectory(() => [{ path: garbage, runtime: 'podman' }]);
    await directory.refresh();
    expect([...directory.all()]).toEqual([]);
    expect(directory.lastErrors).toEqual([`${garbage}: /containers/json answered something that is not JSON`]);
  });

  it('asks again only when the cache is old or a container it does not know appears, never more than every 2 s', async () => {
    let asked = 0;
    const answer = readFileSync(join(FIXTURES, 'docker-containers.json'), 'utf8').replace('CONTAINER_ID', ID);
    const path = await serve('counting.sock', (_req, res) => {
      asked++;
      res.writeHead(200).end(answer);
    });
    let now = 0;
    const directory = new ContainerDirectory(
      () => [{ path, runtime: 'docker' }],
      () => now,
    );
    expect(directory.due([])).toBe(true);
    await directory.refresh();
    expect(directory.lookup(ID)?.name).toBe('db');
    now = 1_000;
    expect(directory.due(['f'.repeat(64)])).toBe(false); // unknown, but asked a second ago
    now = 3_000;
    expect(directory.due([ID])).toBe(false); // known and fresh
    expect(directory.due(['f'.repeat(64)])).toBe(true);
    now = 12_000;
    expect(directory.due([ID])).toBe(true); // old
    expect(asked).toBe(1);
  });
});

describe('naming namespaces', () => {
  const entry = { inode: 4026532300, own: false, mounts: [] as { name: string; path: string; dir: string }[] };
  const db = { runtime: 'docker', id: 'abababababab', name: 'db', image: 'postgres:16' };

  it("prefers an ip netns name, then a pod, then a container's name, then its runtime and id, then the inode", () => {
    expect(namespaceName({ ...entry, own: true }, [db])).toBe('host');
    expect(
      namespaceName({ ...entry, mounts: [{ name: 'blue', path: '/run/netns/blue', dir: '/run/netns' }] }, [db]),
    ).toBe('blue');
    expect(namespaceName(entry, [db, { runtime: 'kubernetes', id: 'x', pod: 'web-1', podNamespace: 'shop' }])).toBe(
      'shop/web-1',
    );
    expect(namespaceName(entry, [db])).toBe('db');
    // Podman's own bind mount in /run/netns is not a name the user gave: the container's wins.
    const podmanMount = {
      name: 'netns-828dabd7-e40f-aa69-d570-e6a2d743ae9d',
      path: '/run/netns/netns-828dabd7-e40f-aa69-d570-e6a2d743ae9d',
      dir: '/run/netns',
    };
    expect(namespaceName({ ...entry, mounts: [podmanMount] }, [db])).toBe('db');
    expect(namespaceName({ ...entry, mounts: [podmanMount] }, [])).toBe(podmanMount.name);
    expect(namespaceName(entry, [{ runtime: 'podman', id: '0123456789ab' }])).toBe('podman 0123456789ab');
    const sandbox = {
      name: '1f2e3d4c5b6a7988',
      path: '/var/run/docker/netns/1f2e3d4c5b6a7988',
      dir: '/var/run/docker/netns',
    };
    expect(namespaceName({ ...entry, mounts: [sandbox] }, [])).toBe('docker sandbox 1f2e3d4c5b6a');
    expect(namespaceName(entry, [])).toBe('net:[4026532300]');
  });

  it("reads a namespace's link, and its own addresses from fib_trie and if_inet6", () => {
    expect(namespaceInodeOf('net:[4026531840]')).toBe(4026531840);
    expect(namespaceInodeOf('mnt:[4026531840]')).toBeNull();
    const fib = [
      'Main:',
      '  +-- 0.0.0.0/0 3 0 5',
      '     |-- 172.17.0.0',
      '        /16 link UNICAST',
      '     |-- 172.17.0.2',
      '        /32 host LOCAL',
      '     |-- 172.17.255.255',
      '        /32 link BROADCAST',
      'Local:',
      '     |-- 127.0.0.1',
      '        /32 host LOCAL',
      '     |-- 172.17.0.2',
      '        /32 host LOCAL',
    ].join('\n');
    expect(parseFibTrieLocal(fib)).toEqual(['172.17.0.2', '127.0.0.1']);
    expect(
      parseIfInet6(
        '00000000000000000000000000000001 01 80 10 80       lo\nfe800000000000000042acfffe110002 02 40 20 80     eth0\n',
      ),
    ).toEqual(['::1', 'fe80::42:acff:fe11:2']);
  });
});

describe('snapshot import of the namespace fields', () => {
  const base = {
    format: 'porthole.snapshot',
    version: 1,
    takenAt: '2026-11-25T10:00:00.000Z',
    host: { hostname: 'h', platform: 'linux', release: '6' },
    processes: [],
  };
  const socket = {
    protocol: 'tcp',
    family: 4,
    localAddress: '127.0.0.1',
    localPort: 5432,
    remoteAddress: null,
    remotePort: null,
    state: 'LISTEN',
    pid: null,
    processName: null,
    uid: 0,
    inode: 7,
  };
  const parse = (doc: unknown) => parseSnapshot(Buffer.from(JSON.stringify(doc)));

  it('reads sockets, namespaces and published ports of another namespace back as they were written', () => {
    const namespaces = [
      {
        inode: 9,
        name: 'db',
        own: false,
        mounts: [],
        containers: [{ runtime: 'docker', id: 'ab', name: 'db' }],
        processCount: 1,
        unreadable: null,
      },
    ];
    const publishedPorts = [
      {
        protocol: 'tcp',
        hostAddress: '0.0.0.0',
        hostPort: 5432,
        netns: 9,
        address: '172.17.0.2',
        port: 5432,
        container: null,
        via: 'docker-proxy',
      },
    ];
    const stats = {
      unattributed: 0,
      malformedRows: 0,
      repairedRows: 0,
      hiddenProcesses: 0,
      scanMs: 1,
      namespaces: 2,
      unreadableNamespaces: 0,
      unreadableNamespaceNames: [],
      hiddenNamespaceProcesses: 0,
    };
    const snapshot = parse({
      ...base,
      sockets: [{ ...socket, netns: 9, netnsName: 'db' }],
      stats,
      namespaces,
      publishedPorts,
    });
    expect(snapshot.sockets[0]).toMatchObject({ netns: 9, netnsName: 'db' });
    expect(snapshot.namespaces).toEqual(namespaces);
    expect(snapshot.publishedPorts).toEqual(publishedPorts);
    expect(snapshot.stats).toEqual(stats);
  });

  it('refuses a namespace without its name, a container with unknown fields, and a made-up forwarder, with the reason', () => {
    expect(() => parse({ ...base, sockets: [{ ...socket, netns: 9 }] })).toThrow(
      /sockets\[0\] must have both netns and netnsName, or neither/,
    );
    const badContainer = { inode: 9, name: 'x', own: false, containers: [{ runtime: 'docker', id: 'a', evil: 1 }] };
    expect(() => parse({ ...base, sockets: [], namespaces: [badContainer] })).toThrow(
      /namespaces\[0\]\.containers\[0\] has a field that is not one of runtime, id, name, image, pod, podNamespace/,
    );
    const badPort = { protocol: 'tcp', hostAddress: '0.0.0.0', hostPort: 1, port: 1, via: 'iptables' };
    expect(() => parse({ ...base, sockets: [], publishedPorts: [badPort] })).toThrow(
      /publishedPorts\[0\]\.via must be one of docker-proxy, docker, podman/,
    );
  });
});
