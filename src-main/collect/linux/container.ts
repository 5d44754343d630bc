// Which container a process runs in, from /proc/<pid>/cgroup, and which container Docker's port
// forwarder (docker-proxy) stands for, from its command line. Used by the port doctor: "stop the
// container", not "kill pid 1234", is the useful advice there.

import { readFileSync } from 'node:fs';
import type { ContainerInfo } from '../../track/port-doctor';

const RUNTIMES: [RegExp, string][] = [
  [/kubepods.*?(?:cri-containerd-|crio-|docker-)?([0-9a-f]{64})/, 'kubernetes'],
  [/libpod-(?:conmon-)?([0-9a-f]{64})/, 'podman'],
  [/docker[-/]([0-9a-f]{64})/, 'docker'],
  [/cri-containerd-([0-9a-f]{64})/, 'containerd'],
  [/lxc\.payload\.([^/\s]+)/, 'lxc'],
];

/** The container a cgroup file names, or null for a process on the host. */
export function containerFromCgroup(text: string): ContainerInfo | null {
  for (const line of text.split('\n')) {
    const path = line.split(':').slice(2).join(':');
    for (const [pattern, runtime] of RUNTIMES) {
      const match = pattern.exec(path);
      if (match) return { runtime, id: match[1].length === 64 ? match[1].slice(0, 12) : match[1] };
    }
  }
  return null;
}

/** docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80 */
export function containerFromProxyCommand(command: string): ContainerInfo | null {
  if (!/(^|\/)docker-proxy(\s|$)/.test(command)) return null;
  const ip = /-container-ip\s+(\S+)/.exec(command)?.[1];
  const port = /-container-port\s+(\d+)/.exec(command)?.[1];
  return {
    runtime: 'docker-proxy',
    id: ip ? `for the container at ${ip}${port ? `:${port}` : ''}` : 'for a container',
  };
}

function readCgroup(pid: number | 'self', procRoot: string): string | null {
  try {
    return readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8');
  } catch {
    return null;
  }
}

/** The container of a pid when it is not Porthole's own (inside a container, everything is). */
export function containerOf(pid: number, command: string, procRoot = '/proc'): ContainerInfo | null {
  const proxy = containerFromProxyCommand(command);
  if (proxy) return proxy;
  const theirs = readCgroup(pid, procRoot);
  if (theirs === null) return null;
  const container = containerFromCgroup(theirs);
  const ours = containerFromCgroup(readCgroup('self', procRoot) ?? '');
  return container && container.id !== ours?.id ? container : null;
}
