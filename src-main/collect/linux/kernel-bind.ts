// The port doctor's binds made directly through libc: socket(), bind(), listen(), close(), the
// calls a server makes, answered synchronously with the kernel's errno. Node's own listen() would
// do (and does, on other systems), but it goes through the event loop and dns.lookup, whose first
// IPv6 literal costs `who` several milliseconds of regular-expression compilation; and only here
// can a TCP bind be made without SO_REUSEADDR, which Node always sets.

import { constants } from 'node:os';
import { AF_INET, AF_INET6, loadLibc, SOCK_CLOEXEC, SOL_SOCKET, type Libc } from './libc';

const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SO_REUSEADDR = 2;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
const SOCKADDR_IN = 16;
const SOCKADDR_IN6 = 28;

let errnoNames: Map<number, string> | undefined;
function errnoName(errno: number): string {
  errnoNames ??= new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** The socket address for an IP literal (IPv6 with an optional %zone), or null when it is not one. */
function socketAddress(lib: Libc, address: string, port: number): Buffer | null {
  const v6 = address.includes(':');
  const [host, zone] = v6 ? address.split('%', 2) : [address, undefined];
  const sockaddr = Buffer.alloc(v6 ? SOCKADDR_IN6 : SOCKADDR_IN);
  sockaddr.writeUInt16LE(v6 ? AF_INET6 : AF_INET, 0); // sa_family: host order (little-endian here)
  sockaddr.writeUInt16BE(port, 2); // the port: network order
  const raw = Buffer.alloc(v6 ? 16 : 4);
  if (lib.inetPton(v6 ? AF_INET6 : AF_INET, host, raw) !== 1) return null;
  raw.copy(sockaddr, v6 ? 8 : 4);
  if (zone !== undefined) {
    const index = lib.interfaceIndex(zone);
    if (index === 0) return null;
    sockaddr.writeUInt32LE(index, 24);
  }
  return sockaddr;
}

export interface KernelBind {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
  /** SO_REUSEADDR, as Node and most servers set it on a TCP listener. */
  reuseAddress: boolean;
}

/**
 * 'free' when the bind (and, for TCP, the listen) succeeded and was released, else the errno's
 * name (EADDRINUSE, EADDRNOTAVAIL, EACCES …); null when libc cannot be called here.
 */
export function bindInKernel({ protocol, address, port, reuseAddress }: KernelBind): string | null {
  const load = loadLibc();
  if (!load.ok) return null;
  const lib = load.libc;
  const sockaddr = socketAddress(lib, address, port);
  if (!sockaddr) return 'EINVAL';
  const v6 = sockaddr.length === SOCKADDR_IN6;
  const fd = lib.socket(v6 ? AF_INET6 : AF_INET, (protocol === 'tcp' ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return errnoName(lib.errno());
  try {
    const option = Buffer.alloc(4);
    // `::` is bound dual-stack, as Node's listen(port) and most servers bind it.
    if (v6 && lib.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, option, 4) !== 0) return errnoName(lib.errno());
    if (reuseAddress) {
      option.writeInt32LE(1, 0);
      if (lib.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, option, 4) !== 0) return errnoName(lib.errno());
    }
    if (lib.bind(fd, sockaddr, sockaddr.length) !== 0) return errnoName(lib.errno());
    // A TCP listener is checked once more when it starts listening (another SO_REUSEADDR socket
    // may hold the port bound without listening).
    if (protocol === 'tcp' && lib.listen(fd, 1) !== 0) return errnoName(lib.errno());
    return 'free';
  } finally {
    lib.close(fd);
  }
}
