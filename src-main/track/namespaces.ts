// How namespaces, containers and published ports read in words: one place for the CLI, the
// exports, the Port Doctor and the UI.

import type { ContainerInfo, PublishedPort, Socket } from '../shared/contract';
import { formatEndpoint } from './identity';

/** `db (postgres:16)`, `kube-system/coredns (coredns)`, `docker 1a2b3c4d5e6f`; null for none. */
export function describeContainer(container: ContainerInfo | null | undefined): string | null {
  if (!container) return null;
  if (container.runtime === 'docker-proxy') return `docker-proxy ${container.id}`;
  const name = container.pod
    ? `${container.podNamespace ? `${container.podNamespace}/` : ''}${container.pod}${container.name ? ` (${container.name})` : ''}`
    : (container.name ?? `${container.runtime} ${container.id}`);
  return container.image && !container.pod ? `${name} (${container.image})` : name;
}

/** `0.0.0.0:5432 → db (postgres:16) 172.17.0.2:5432` */
export function describePublished(port: PublishedPort): string {
  const target = describeContainer(port.container);
  const inside = port.address === null ? `port ${port.port}` : formatEndpoint(port.address, port.port);
  return `${port.protocol} ${formatEndpoint(port.hostAddress, port.hostPort)} → ${target ? `${target} ` : ''}${inside}`;
}

/** The namespace a socket is in, as a person calls it: 'host' for Porthole's own. */
export function namespaceOf(socket: Pick<Socket, 'netns' | 'netnsName'>): string {
  return socket.netns === undefined ? 'host' : (socket.netnsName ?? `net:[${socket.netns}]`);
}
