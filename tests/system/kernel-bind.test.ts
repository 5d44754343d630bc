// The port doctor's libc binds (linux/kernel-bind.ts) against the kernel, case by case, and
// against what Node's own listen()/bind() answer for the same address: the two must agree wherever
// both can ask (Node cannot bind TCP without SO_REUSEADDR).
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { bindInKernel } from '../../src-main/collect/linux/kernel-bind';

const opened: { close: () => void }[] = [];
afterAll(() => opened.forEach((s) => s.close()));

const listen = (host: string, port = 0) =>
  new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: false }, () => resolve(server));
    opened.push(server);
  });

const portOf = (server: Server) => (server.address() as { port: number }).port;

/** What Node's listen() says of the same TCP bind: 'free' or its error code. */
const nodeTcp = (host: string, port: number) =>
  new Promise<string>((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ host, port, ipv6Only: false, exclusive: true }, () => server.close(() => resolve('free')));
  });

describe('binds made through libc', () => {
  it('answer as Node does for TCP with SO_REUSEADDR: held, wildcard, another loopback, dual-stack', async () => {
    const held = await listen('127.0.0.1');
    const port = portOf(held);
    const cases = ['127.0.0.1', '0.0.0.0', '::', '127.0.0.2', '::1'];
    const kernel = cases.map((address) => bindInKernel({ protocol: 'tcp', address, port, reuseAddress: true }));
    const node = [];
    for (const address of cases) node.push(await nodeTcp(address, port));
    expect(kernel).toEqual(node);
    // A listener on 127.0.0.1 blocks itself and both wildcards (`::` is dual-stack), not 127.0.0.2 or ::1.
    expect(kernel).toEqual(['EADDRINUSE', 'EADDRINUSE', 'EADDRINUSE', 'free', 'free']);
  });

  it('leave nothing bound: the same port binds again at once', async () => {
    const free = portOf(await listen('127.0.0.1'));
    opened.pop()!.close();
    for (let i = 0; i < 3; i++)
      expect(bindInKernel({ protocol: 'tcp', address: '::', port: free, reuseAddress: false })).toBe('free');
  });

  it('say EADDRNOTAVAIL for an address this host does not have, and refuse what is not an address', () => {
    expect(bindInKernel({ protocol: 'tcp', address: '192.0.2.1', port: 40000, reuseAddress: true })).toBe(
      'EADDRNOTAVAIL',
    );
    expect(bindInKernel({ protocol: 'tcp', address: 'localhost', port: 40000, reuseAddress: true })).toBe('EINVAL');
    expect(
      bindInKernel({ protocol: 'tcp', address: 'fe80::1%no-such-interface', port: 40000, reuseAddress: true }),
    ).toBe('EINVAL');
  });

  it('bind UDP without SO_REUSEADDR: a held UDP port is in use, as Node says', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind({ address: '127.0.0.1', port: 0 }, resolve));
    opened.push(socket);
    const port = socket.address().port;
    expect(bindInKernel({ protocol: 'udp', address: '127.0.0.1', port, reuseAddress: false })).toBe('EADDRINUSE');
    const nodeSays = await new Promise<string>((resolve) => {
      const again = createSocket({ type: 'udp4', reuseAddr: false });
      again.once('error', (error: NodeJS.ErrnoException) => (again.close(), resolve(error.code ?? '')));
      again.bind({ address: '127.0.0.1', port, exclusive: true }, () => again.close(() => resolve('free')));
    });
    expect(nodeSays).toBe('EADDRINUSE');
  });
});
