// Builds Socket values for table-driven tests of the pure domain code.
import type { Socket } from '../../src-main/shared/contract';

export function tcp(local: string, remote: string | null, over: Partial<Socket> = {}): Socket {
  const split = (endpoint: string): [string, number] => {
    const colon = endpoint.lastIndexOf(':');
    return [endpoint.slice(0, colon).replace(/^\[|\]$/g, ''), Number(endpoint.slice(colon + 1))];
  };
  const [localAddress, localPort] = split(local);
  const [remoteAddress, remotePort] = remote === null ? [null, null] : split(remote);
  return {
    protocol: 'tcp',
    family: localAddress.includes(':') ? 6 : 4,
    localAddress,
    localPort,
    remoteAddress,
    remotePort,
    state: remote === null ? 'LISTEN' : 'ESTABLISHED',
    pid: 100,
    processName: 'node',
    uid: 1000,
    inode: 5000,
    pids: [100],
    lastPid: null,
    ...over,
  };
}
