// Kubernetes names (pod, its namespace, container, image) from the runtime's own state on disk:
// the OCI config.json that containerd and CRI-O keep for every running container, whose
// annotations the kubelet's CRI call filled in. Read-only, small files, cached by the caller.

import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import type { ContainerInfo } from '../../shared/contract';
import type { CgroupContainer } from './cgroup';

/** A config.json is a few kB; one larger than this is not read. */
const MAX_CONFIG_BYTES = 1 << 20;

/** Where each engine keeps a running container's OCI config. */
export function runtimeStatePaths(container: CgroupContainer, runRoot = '/run'): string[] {
  const id = container.fullId;
  if (!/^[0-9a-f]{64}$/.test(id)) return [];
  if (container.engine === 'cri-o')
    return [`${runRoot}/containers/storage/overlay-containers/${id}/userdata/config.json`];
  if (container.engine === 'containerd' || container.runtime === 'containerd')
    return [
      `${runRoot}/containerd/io.containerd.runtime.v2.task/k8s.io/${id}/config.json`,
      `${runRoot}/containerd/io.containerd.runtime.v2.task/default/${id}/config.json`,
    ];
  return [];
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 && value.length <= 253 ? value : undefined;

/** The names in an OCI config's annotations (containerd's CRI or CRI-O's keys); {} when none. */
export function namesFromOciConfig(json: unknown): Pick<ContainerInfo, 'name' | 'image' | 'pod' | 'podNamespace'> {
  const annotations = (json as { annotations?: unknown } | null)?.annotations;
  if (!annotations || typeof annotations !== 'object') return {};
  const a = annotations as Record<string, unknown>;
  const names: Pick<ContainerInfo, 'name' | 'image' | 'pod' | 'podNamespace'> = {};
  const pod = text(a['io.kubernetes.cri.sandbox-name']) ?? text(a['io.kubernetes.pod.name']);
  const podNamespace = text(a['io.kubernetes.cri.sandbox-namespace']) ?? text(a['io.kubernetes.pod.namespace']);
  const name = text(a['io.kubernetes.cri.container-name']) ?? text(a['io.kubernetes.container.name']);
  const image = text(a['io.kubernetes.cri.image-name']) ?? text(a['io.kubernetes.cri-o.ImageName']);
  if (pod) names.pod = pod;
  if (podNamespace) names.podNamespace = podNamespace;
  if (name) names.name = name;
  if (image) names.image = image;
  return names;
}

/** Reads a regular file of at most `max` bytes without following a FIFO into a hang; null otherwise. */
export function readSmallFile(path: string, max = MAX_CONFIG_BYTES): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > max) return null;
    const buffer = Buffer.alloc(Math.min(max, stat.size + 1));
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === buffer.length) return null; // grew past what stat said: refuse, never truncate
    }
    return buffer.subarray(0, length).toString('utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The names the runtime's state gives a container; {} when it keeps none here or they cannot be read. */
export function namesFromRuntimeState(
  container: CgroupContainer,
  runRoot = '/run',
): Pick<ContainerInfo, 'name' | 'image' | 'pod' | 'podNamespace'> {
  for (const path of runtimeStatePaths(container, runRoot)) {
    const content = readSmallFile(path);
    if (content === null) continue;
    try {
      return namesFromOciConfig(JSON.parse(content));
    } catch {
      return {};
    }
  }
  return {};
}
