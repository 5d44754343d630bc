// Closing one TCP connection without stopping its process, as TCPView's "Close connection" and
// `ss -K` do: the kernel aborts that socket (netlink SOCK_DESTROY, tcp_abort): its owner's next
// call fails with ECONNABORTED and the peer receives a reset. Only a connection in the table now,
// in Porthole's own namespace (the netlink socket's), and never a listener: the rest of the
// process keeps running.

import type { Socket } from '../shared/contract';
import type { CloseOutcome } from '../shared/ipc';
import { SockDiagReader } from '../collect/linux/sock-diag';
import { formatEndpoint } from '../track/identity';

export type { CloseOutcome };

/** A connection as the user names it: TCP and both ends. */
export interface CloseTarget {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

const ENOENT = 2;
const EPERM = 1;
const EOPNOTSUPP = 95;

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

/** Asks the kernel to abort the connection; says what happened in the user's words. */
export function closeConnection(socket: Socket, reader?: SockDiagReader): CloseOutcome {
  const name = `tcp ${formatEndpoint(socket.localAddress, socket.localPort)} → ${formatEndpoint(socket.remoteAddress ?? '', socket.remotePort)}`;
  if (process.getuid?.() !== 0) return { ok: false, reason: 'closing a connection needs root (CAP_NET_ADMIN)' };
  let diag = reader;
  if (!diag) {
    const opening = SockDiagReader.shared();
    if (!opening.ok) return { ok: false, reason: `netlink is not available here: ${opening.reason}` };
    diag = opening.reader;
  }
  const errno = diag.destroy({
    family: socket.family === 6 ? 6 : 4,
    localAddress: socket.localAddress,
    localPort: socket.localPort!,
    remoteAddress: socket.remoteAddress!,
    remotePort: socket.remotePort!,
  });
  if (errno === null) return { ok: true, message: `Closed ${name}: its owner gets ECONNABORTED, the peer a reset` };
  if (errno === EOPNOTSUPP)
    return { ok: false, reason: 'this kernel cannot close single connections (it lacks CONFIG_INET_DIAG_DESTROY)' };
  if (errno === ENOENT) return { ok: false, reason: `${name} is gone already` };
  if (errno === EPERM) return { ok: false, reason: 'not permitted (closing a connection needs CAP_NET_ADMIN)' };
  return { ok: false, reason: `the kernel refused (errno ${errno})` };
}
