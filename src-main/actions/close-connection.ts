// Closing one TCP connection without stopping its process, as TCPView's "Close connection" and
// `ss -K` do (the OS aborts that socket: collect/'s closeTcpConnection). Only a connection in the
// table now, in Porthole's own namespace (the one the OS call reaches), and never a listener: the
// rest of the process keeps running.

import type { Socket } from '../shared/contract';
import type { CloseOutcome } from '../shared/ipc';
import { closeTcpConnection } from '../collect';
import { formatEndpoint } from '../track/identity';

export type { CloseOutcome };

/** A connection as the user names it: TCP and both ends. */
export interface CloseTarget {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** The connection in the table with exactly these ends (TCP, own namespace, not a listener), or why not. */
export function findConnection(sockets: readonly Socket[], target: CloseTarget): Socket | string {
  const name = `tcp ${formatEndpoint(target.localAddress, target.localPort)} → ${formatEndpoint(target.remoteAddress, target.remotePort)}`;
  const found = sockets.find(
    (s) =>
      s.protocol === 'tcp' &&
      s.netns === undefined &&
      s.localAddress === target.localAddress &&
      s.localPort === target.localPort &&
      s.remoteAddress === target.remoteAddress &&
      s.remotePort === target.remotePort,
  );
  if (!found) return `there is no connection ${name} in Porthole's own network namespace`;
  if (found.state === 'LISTEN') return `${name} is a listener, not a connection`;
  if (found.state === 'TIME_WAIT') return `${name} is already closed (TIME_WAIT)`;
  return found;
}

/** Asks the OS to abort the connection; says what happened in the user's words. */
export function closeConnection(socket: Socket): CloseOutcome {
  const name = `tcp ${formatEndpoint(socket.localAddress, socket.localPort)} → ${formatEndpoint(socket.remoteAddress ?? '', socket.remotePort)}`;
  return closeTcpConnection(
    {
      family: socket.family === 6 ? 6 : 4,
      localAddress: socket.localAddress,
      localPort: socket.localPort!,
      remoteAddress: socket.remoteAddress!,
      remotePort: socket.remotePort!,
    },
    name,
  );
}
