// The benchmarks' synthetic table: connection i to one of 20 local servers (ports 3000-3019,
// pids 1000-1019), each from its own remote address, so every i is a socket of its own.
import type { Socket } from '../src-main/shared/contract';

export function syntheticConnection(i: number): Socket {
  return {
    protocol: 'tcp',
    family: 4,
    localAddress: '127.0.0.1',
    localPort: 3000 + (i % 20),
    remoteAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    remotePort: 30000 + (i % 30000),
    state: 'ESTABLISHED',
    pid: 1000 + (i % 20),
    processName: `server-${i % 20}`,
    uid: 1000,
    inode: 100000 + i,
    pids: [1000 + (i % 20)],
    lastPid: null,
  };
}
