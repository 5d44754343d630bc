// Names network namespaces and the containers in them, and finds the host ports published into
// them. Evidence, best first: an `ip netns` name; the runtime's API (container name, image,
// ports); the runtime's state on disk (Kubernetes pod and namespace); the cgroup path (runtime
// and id); and failing all, the inode. Everything is cached: a steady poll reads nothing here.

import type { ContainerInfo, NetNamespace, ProcessInfo, PublishedPort } from '../../shared/contract';
import type { NamespaceEntry } from '../linux/namespaces';
import { containerFromCgroup, publishedFromProxyCommand, readCgroup, type CgroupContainer } from './cgroup';
import { ContainerDirectory } from './runtime-api';
import { namesFromRuntimeState } from './runtime-state';

/** Pids whose cgroup is read per namespace: a pod's containers show in the first few processes. */
const PIDS_LOOKED_AT = 64;
/** Containers listed per namespace (a pod has a handful; a host running everything in one is odd). */
const MAX_CONTAINERS_PER_NAMESPACE = 32;

export class NamespaceNamer {
  /** pid → its container (null: none), read once per pid: a process does not change container. */
  private readonly cgroupOf = new Map<number, CgroupContainer | null>();
  private readonly stateNames = new Map<string, ReturnType<typeof namesFromRuntimeState>>();
  /** The public ContainerInfo of each container, one object while its names stay the same. */
  private readonly infos = new Map<string, ContainerInfo>();
  private ownContainer: string | null | undefined;
  /** Container full id → the namespace it is in, as of the last namespacesOf(). */
  private readonly containerNamespace = new Map<string, number>();

  constructor(
    private readonly procRoot = '/proc',
    readonly directory = new ContainerDirectory(),
    private readonly runRoot = '/run',
  ) {}

  /** The container a process runs in, named as well as is known now; null on the host (or Porthole's own). */
  containerOf(pid: number): ContainerInfo | null {
    const found = this.cgroupContainer(pid);
    return found ? this.publicInfo(found) : null;
  }

  /** Full ids of the containers seen, for asking the runtime when one is new. */
  containerIds(): string[] {
    const ids: string[] = [];
    for (const c of this.cgroupOf.values()) if (c && /^[0-9a-f]{64}$/.test(c.fullId)) ids.push(c.fullId);
    return ids;
  }

  /** Drops what is cached about processes gone. */
  retain(alive: ReadonlySet<number>): void {
    for (const pid of this.cgroupOf.keys()) if (!alive.has(pid)) this.cgroupOf.delete(pid);
  }

  /** The namespaces named; `unreadable` is filled in once their tables were tried. */
  namespacesOf(entries: readonly NamespaceEntry[]): NetNamespace[] {
    this.containerNamespace.clear();
    return entries.map((entry) => {
      const containers = new Map<string, ContainerInfo>();
      for (const pid of entry.pids.slice(0, PIDS_LOOKED_AT)) {
        const found = this.cgroupContainer(pid);
        if (!found || containers.size >= MAX_CONTAINERS_PER_NAMESPACE) continue;
        containers.set(found.fullId, this.publicInfo(found));
        this.containerNamespace.set(found.fullId, entry.inode);
      }
      const list = [...containers.values()];
      return {
        inode: entry.inode,
        name: namespaceName(entry, list),
        own: entry.own,
        mounts: entry.mounts.map((m) => m.name),
        containers: list,
        processCount: entry.pids.length,
        unreadable: null,
      };
    });
  }

  /**
   * The host ports forwarded into namespaces: the runtime's list, and docker-proxy processes.
   * @param localAddresses a namespace's own addresses (read on demand)
   */
  publishedPorts(
    processes: readonly ProcessInfo[],
    namespaces: readonly NetNamespace[],
    localAddresses: (inode: number) => readonly string[],
  ): PublishedPort[] {
    const containerNamespace = this.containerNamespace;
    const ports = new Map<string, PublishedPort>();
    const keyOf = (p: PublishedPort) => `${p.protocol}|${p.hostAddress}|${p.hostPort}`;
    const namespaceWith = (address: string | null): NetNamespace | undefined =>
      address === null ? undefined : namespaces.find((ns) => !ns.own && localAddresses(ns.inode).includes(address));
    // The runtime's own list first: it names the container.
    for (const c of this.directory.all()) {
      const inode = containerNamespace.get(c.id) ?? null;
      for (const port of c.ports)
        ports.set(keyOf(port), { ...port, netns: inode ?? namespaceWith(port.address)?.inode ?? null });
    }
    for (const process of processes) {
      const port = publishedFromProxyCommand(process.command);
      if (!port || ports.has(keyOf(port))) continue;
      const ns = namespaceWith(port.address);
      ports.set(keyOf(port), { ...port, netns: ns?.inode ?? null, container: ns?.containers[0] ?? null });
    }
    return [...ports.values()].sort((a, b) => a.hostPort - b.hostPort || a.protocol.localeCompare(b.protocol));
  }

  private cgroupContainer(pid: number): CgroupContainer | null {
    let found = this.cgroupOf.get(pid);
    if (found === undefined) {
      const text = readCgroup(pid, this.procRoot);
      found = text === null ? null : containerFromCgroup(text);
      if (found && found.fullId === this.ownContainerId()) found = null; // Porthole's own: the host to it
      if (text !== null) this.cgroupOf.set(pid, found);
    }
    return found;
  }

  private ownContainerId(): string | null {
    if (this.ownContainer === undefined)
      this.ownContainer = containerFromCgroup(readCgroup('self', this.procRoot) ?? '')?.fullId ?? null;
    return this.ownContainer;
  }

  private publicInfo(found: CgroupContainer): ContainerInfo {
    const api = this.directory.lookup(found.fullId);
    let state = this.stateNames.get(found.fullId);
    if (state === undefined && !api) {
      state = namesFromRuntimeState(found, this.runRoot);
      this.stateNames.set(found.fullId, state);
      if (this.stateNames.size > 4096) this.stateNames.delete(this.stateNames.keys().next().value!);
    }
    const info: ContainerInfo = { runtime: found.runtime, id: found.id };
    const name = api?.name ?? state?.name;
    const image = api?.image ?? state?.image;
    const pod = api?.pod ?? state?.pod;
    const podNamespace = api?.podNamespace ?? state?.podNamespace;
    if (name) info.name = name;
    if (image) info.image = image;
    if (pod) info.pod = pod;
    if (podNamespace) info.podNamespace = podNamespace;
    // One object per container while its names hold: processes and namespaces compare by it.
    const cached = this.infos.get(found.fullId);
    if (cached && JSON.stringify(cached) === JSON.stringify(info)) return cached;
    this.infos.set(found.fullId, info);
    if (this.infos.size > 4096) this.infos.delete(this.infos.keys().next().value!);
    return info;
  }
}

/** What a person calls a namespace: see NetNamespace.name. */
/** A name Podman (netns-<uuid>) or a CNI runtime (cni-<uuid>) gave its bind mount: not the user's own. */
const RUNTIME_MADE_NETNS = /^(netns|cni)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function namespaceName(
  entry: Pick<NamespaceEntry, 'inode' | 'own' | 'mounts'>,
  containers: ContainerInfo[],
): string {
  if (entry.own) return 'host';
  const netnsDir = entry.mounts.filter((m) => m.dir.endsWith('/netns') && !m.dir.includes('docker'));
  const ipNetns = netnsDir.find((m) => !RUNTIME_MADE_NETNS.test(m.name));
  if (ipNetns) return ipNetns.name;
  const pod = containers.find((c) => c.pod);
  if (pod) return pod.podNamespace ? `${pod.podNamespace}/${pod.pod}` : pod.pod!;
  const named = containers.find((c) => c.name);
  if (named) return named.name!;
  if (containers.length > 0) return `${containers[0].runtime} ${containers[0].id}`;
  if (netnsDir.length > 0) return netnsDir[0].name;
  const sandbox = entry.mounts[0];
  if (sandbox) return `docker sandbox ${sandbox.name.slice(0, 12)}`;
  return `net:[${entry.inode}]`;
}
