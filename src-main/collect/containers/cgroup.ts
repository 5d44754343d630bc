// Which container a process runs in, from /proc/<pid>/cgroup, and what Docker's port forwarder
// (docker-proxy) forwards, from its command line. Paths as the runtimes write them, for cgroup v1
// (`/docker/<id>`) and v2 with systemd (`docker-<id>.scope`).

import { readFileSync } from 'node:fs';
import type { ContainerInfo, PublishedPort } from '../../shared/contract';

/** A container found in a cgroup path, with what is needed to ask its runtime about it. */
export interface CgroupContainer extends ContainerInfo {
  /** The full 64-digit id (the runtime's state and API use it); the name for lxc and nspawn. */
  fullId: string;
  /** Kubernetes: the engine that runs the pod's containers, whose state names the pod. */
  engine?: 'containerd' | 'cri-o' | 'docker';
}

const HEX64 = '([0-9a-f]{64})';
const PATTERNS: { pattern: RegExp; runtime: string; engine?: CgroupContainer['engine'] }[] = [
  { pattern: new RegExp(`kubepods.*?cri-containerd-${HEX64}`), runtime: 'kubernetes', engine: 'containerd' },
  { pattern: new RegExp(`kubepods.*?crio-${HEX64}`), runtime: 'kubernetes', engine: 'cri-o' },
  { pattern: new RegExp(`kubepods.*?docker-${HEX64}`), runtime: 'kubernetes', engine: 'docker' },
  // cgroup v1 without systemd: /kubepods/burstable/pod<uid>/<id>, engine unknown: containerd's state is tried
  { pattern: new RegExp(`kubepods.*?/pod[0-9a-f_-]+/${HEX64}`), runtime: 'kubernetes', engine: 'containerd' },
  { pattern: new RegExp(`libpod-(?:conmon-)?${HEX64}`), runtime: 'podman' },
  { pattern: new RegExp(`docker[-/]${HEX64}`), runtime: 'docker' },
  { pattern: new RegExp(`cri-containerd-${HEX64}`), runtime: 'containerd' },
  { pattern: new RegExp(`nerdctl-${HEX64}`), runtime: 'containerd' },
  { pattern: /lxc\.payload\.([^/\s]+)/, runtime: 'lxc' },
  { pattern: /\/lxc\/([^/\s]+)/, runtime: 'lxc' },
  { pattern: /systemd-nspawn@([^/\s]+)\.service/, runtime: 'nspawn' },
  { pattern: /machine\.slice\/machine-([^/\s]+)\.scope/, runtime: 'nspawn' },
];

/** systemd escapes unit names: `\x2d` is '-'. */
function unescapeUnit(name: string): string {
  return name.replace(/\\x([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The container a cgroup file names, or null for a process on the host. */
export function containerFromCgroup(text: string): CgroupContainer | null {
  for (const line of text.split('\n')) {
    const path = line.split(':').slice(2).join(':');
    for (const { pattern, runtime, engine } of PATTERNS) {
      const match = pattern.exec(path);
      if (!match) continue;
      const fullId = match[1].length === 64 ? match[1] : unescapeUnit(match[1]);
      const container: CgroupContainer = { runtime, id: fullId.length === 64 ? fullId.slice(0, 12) : fullId, fullId };
      if (engine) container.engine = engine;
      return container;
    }
  }
  return null;
}

const proxyArg = (command: string, name: string): string | undefined =>
  new RegExp(`-${name}\\s+(\\S+)`).exec(command)?.[1];

const isDockerProxy = (command: string): boolean => /(^|\/)docker-proxy(\s|$)/.test(command);

/** docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80 */
export function containerFromProxyCommand(command: string): ContainerInfo | null {
  if (!isDockerProxy(command)) return null;
  const ip = proxyArg(command, 'container-ip');
  const port = proxyArg(command, 'container-port');
  return {
    runtime: 'docker-proxy',
    id: ip ? `for the container at ${ip}${port ? `:${port}` : ''}` : 'for a container',
  };
}

/** The port a docker-proxy forwards, from its command line; the namespace is found later by address. */
export function publishedFromProxyCommand(command: string): PublishedPort | null {
  if (!isDockerProxy(command)) return null;
  const protocol = proxyArg(command, 'proto') ?? 'tcp';
  const hostPort = Number(proxyArg(command, 'host-port'));
  const port = Number(proxyArg(command, 'container-port'));
  if ((protocol !== 'tcp' && protocol !== 'udp') || !isPort(hostPort) || !isPort(port)) return null;
  return {
    protocol,
    hostAddress: proxyArg(command, 'host-ip') ?? '0.0.0.0',
    hostPort,
    netns: null,
    address: proxyArg(command, 'container-ip') ?? null,
    port,
    container: null,
    via: 'docker-proxy',
  };
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 65535;
}

export function readCgroup(pid: number | 'self', procRoot = '/proc'): string | null {
  try {
    return readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8');
  } catch {
    return null;
  }
}
