// The port doctor's ground truth: really bind the address and port, report the kernel's answer,
// release it at once. On Linux through libc (linux/kernel-bind.ts); elsewhere through Node, which
// sets SO_REUSEADDR on every TCP listener (libuv does), as most servers do, so a bind without it is
// tried there through python3's plain socket API, where that is installed.

import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { BindAttempt, DoctorProtocol } from '../track/port-doctor';
import { bindInKernel } from './linux/kernel-bind';

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

function bindTcp(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error) => resolve(errorCode(error)));
    // ipv6Only false: `::` is bound dual-stack, as Node's own listen(port) does.
    server.listen({ host: address, port, ipv6Only: false, exclusive: true, backlog: 1 }, () =>
      server.close(() => resolve('free')),
    );
  });
}

function bindUdp(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', ipv6Only: false, reuseAddr: false });
    socket.once('error', (error) => {
      socket.close();
      resolve(errorCode(error));
    });
    socket.bind({ address, port, exclusive: true }, () => socket.close(() => resolve('free')));
  });
}

export async function probeBind(protocol: DoctorProtocol, address: string, port: number): Promise<BindAttempt> {
  const reuseAddress = protocol === 'tcp';
  const outcome =
    bindInKernel({ protocol, address, port, reuseAddress }) ??
    (protocol === 'tcp' ? await bindTcp(address, port) : await bindUdp(address, port));
  return { address, reuseAddress, outcome };
}

// bind() + listen() with no socket options, printing the errno's name: the strict TCP bind.
const STRICT_BIND = `
import errno, socket, sys
address, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ':' in address else socket.AF_INET, socket.SOCK_STREAM)
try:
    if ':' in address: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((address, port)); s.listen(1); print('free')
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
`;

function python(): string | null {
  for (const candidate of ['/usr/bin/python3', '/usr/local/bin/python3']) if (existsSync(candidate)) return candidate;
  return null;
}

/** A TCP bind without SO_REUSEADDR; null when neither libc nor python3 can make it here. */
export function probeStrictTcpBind(address: string, port: number): BindAttempt | null {
  const inKernel = bindInKernel({ protocol: 'tcp', address, port, reuseAddress: false });
  if (inKernel !== null) return { address, reuseAddress: false, outcome: inKernel };
  const interpreter = python();
  if (!interpreter) return null;
  const result = spawnSync(interpreter, ['-c', STRICT_BIND, address, String(port)], {
    encoding: 'utf8',
    timeout: 5000,
  });
  const outcome = result.stdout?.trim();
  return outcome ? { address, reuseAddress: false, outcome } : null;
}
