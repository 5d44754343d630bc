// Finds sockets in a table by their whole identity: protocol and both endpoints (address and port).
// A port alone is not a socket: on a busy host the kernel reuses a local port for a new connection
// while an old one with another peer waits in TIME_WAIT (issue 16).
import type { Protocol, Socket } from '../../src-main/shared/contract';
import { formatEndpoint } from '../../src-main/track/identity';

export interface Endpoint {
  address: string;
  port: number;
}

export const at = (address: string, port: number | undefined): Endpoint => {
  if (port === undefined) throw new Error(`no port for ${address}: the helper did not report it`);
  return { address, port };
};

const sameEnd = (address: string | null, port: number | null, end: Endpoint | null) =>
  end === null ? address === null && port === null : address === end.address && port === end.port;

/**
 * Every socket with this protocol and these two endpoints (`null`: no remote end), in one network
 * namespace: Porthole's own unless `netns` names another (every namespace has its own 127.0.0.1).
 */
export function socketsAt(
  sockets: readonly Socket[],
  protocol: Protocol,
  local: Endpoint,
  remote: Endpoint | null,
  netns?: number,
) {
  return sockets.filter(
    (s) =>
      s.protocol === protocol &&
      s.netns === netns &&
      sameEnd(s.localAddress, s.localPort, local) &&
      sameEnd(s.remoteAddress, s.remotePort, remote),
  );
}

/** The one socket with this identity; throws, naming it and what was found, if there is not exactly one. */
export function theSocket(
  sockets: readonly Socket[],
  protocol: Protocol,
  local: Endpoint,
  remote: Endpoint | null,
  netns?: number,
) {
  const found = socketsAt(sockets, protocol, local, remote, netns);
  if (found.length !== 1) {
    const name = `${protocol} ${formatEndpoint(local.address, local.port)} → ${remote ? formatEndpoint(remote.address, remote.port) : '*'}`;
    throw new Error(`expected one socket ${name}, found ${found.length}: ${JSON.stringify(found)}`);
  }
  return found[0];
}

/** The listener on exactly this address and port (a LISTEN TCP socket, or an unconnected UDP one). */
export function theListener(sockets: readonly Socket[], protocol: 'tcp' | 'udp', local: Endpoint, netns?: number) {
  return theSocket(
    sockets.filter((s) => s.state === (protocol === 'tcp' ? 'LISTEN' : 'UNCONN')),
    protocol,
    local,
    null,
    netns,
  );
}
