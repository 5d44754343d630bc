// Aborting one TCP connection, as `ss -K` does: netlink SOCK_DESTROY makes the kernel's tcp_abort
// end that socket (its owner's next call fails with ECONNABORTED, the peer receives a reset). The
// kernel's answer is told in the user's words.

import type { CloseOutcome, TcpConnectionEnds } from '../collector';
import { SockDiagReader } from './sock-diag';

const ENOENT = 2;
const EPERM = 1;
const EOPNOTSUPP = 95;

/** `name` is how the user knows the connection ("tcp 127.0.0.1:5000 → 127.0.0.1:41000"). */
export function abortTcpConnection(ends: TcpConnectionEnds, name: string, reader?: SockDiagReader): CloseOutcome {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'closing a connection needs root (CAP_NET_ADMIN)' };
  let diag = reader;
  if (!diag) {
    const opening = SockDiagReader.shared();
    if (!opening.ok) return { ok: false, reason: `netlink is not available here: ${opening.reason}` };
    diag = opening.reader;
  }
  const errno = diag.destroy(ends);
  if (errno === null) return { ok: true, message: `Closed ${name}: its owner gets ECONNABORTED, the peer a reset` };
  if (errno === EOPNOTSUPP)
    return { ok: false, reason: 'this kernel cannot close single connections (it lacks CONFIG_INET_DIAG_DESTROY)' };
  if (errno === ENOENT) return { ok: false, reason: `${name} is gone already` };
  if (errno === EPERM) return { ok: false, reason: 'not permitted (closing a connection needs CAP_NET_ADMIN)' };
  return { ok: false, reason: `the kernel refused (errno ${errno})` };
}
