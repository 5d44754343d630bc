// Several "machines" on one test host, for `serve --source`: each a network namespace of its own
// with a real `porthole serve` inside, reached from the host's loopback through a tunnel as a
// developer reaches another machine with `ssh -L PORT:127.0.0.1:PORT` (the same port at both ends,
// as docs/fleet.md says). Machines can be linked by a veth pair, so one's client reaches another's
// server and both ends of that connection are in the merged table.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELPERS, type Workload } from './workload';
import type { TestNamespaces } from './netns';
import { startServe, type Served } from './serve';

export interface Machine {
  name: string;
  netns: string;
  /** The tunnel's near end: where the merging serve reaches this machine's serve. */
  port: number;
  token: string;
  /** The URL to give `--source`, token included. */
  url: string;
  served: Served;
  /** Ends this machine's serve (SIGKILL: mid-stream, no goodbye). */
  kill(): void;
  /** Starts its serve again, on the same port with the same token. */
  restart(): Promise<void>;
}

export class Machines {
  private readonly folder = mkdtempSync(join(tmpdir(), 'porthole-machines-'));
  private readonly tunnels: Server[] = [];
  private readonly piped = new Set<Socket>();
  readonly all: Machine[] = [];
  private links = 0;

  constructor(
    private readonly namespaces: TestNamespaces,
    private readonly workload: Workload,
  ) {}

  /** A namespace with `porthole serve` inside, and the tunnel to it. */
  async add(name: string): Promise<Machine> {
    const netns = this.namespaces.add(name);
    const socketPath = join(this.folder, `${name}.sock`);
    // The near end: a port free on the host's loopback, which the far serve then takes in its own namespace.
    const tunnel = createServer((incoming) => {
      const outgoing = connect(socketPath);
      this.piped.add(incoming).add(outgoing);
      incoming.pipe(outgoing).pipe(incoming);
      const end = () => {
        incoming.destroy();
        outgoing.destroy();
        this.piped.delete(incoming);
        this.piped.delete(outgoing);
      };
      incoming.on('error', end).on('close', end);
      outgoing.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => tunnel.listen(0, '127.0.0.1', resolve));
    this.tunnels.push(tunnel);
    const port = (tunnel.address() as { port: number }).port;
    await this.workload.run('ip', [
      'netns',
      'exec',
      netns,
      process.execPath,
      join(HELPERS, 'tunnel-end.cjs'),
      socketPath,
      '127.0.0.1',
      String(port),
    ]);
    // Each machine its own token, from a file (serve --token-file), as a remote one keeps it.
    const token = randomBytes(18).toString('base64url');
    const tokenFile = join(this.folder, `${name}.token`);
    writeFileSync(tokenFile, token, { mode: 0o600 });
    const start = () =>
      startServe(['--port', String(port), '--token-file', tokenFile], [], ['ip', 'netns', 'exec', netns]);
    const machine: Machine = {
      name,
      netns,
      port,
      token,
      url: `http://127.0.0.1:${port}/?token=${token}`,
      served: await start(),
      kill: () => machine.served.child.kill('SIGKILL'),
      restart: async () => {
        await machine.served.stop();
        machine.served = await start();
      },
    };
    this.all.push(machine);
    return machine;
  }

  /** A veth pair between two machines' namespaces: each end's address. */
  link(a: Machine, b: Machine): { a: string; b: string } {
    return this.namespaces.link(a.netns, b.netns, this.links++);
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((m) => m.served.stop()));
    for (const socket of this.piped) socket.destroy();
    await Promise.all(this.tunnels.map((t) => new Promise((resolve) => t.close(resolve))));
    rmSync(this.folder, { recursive: true, force: true });
  }
}
