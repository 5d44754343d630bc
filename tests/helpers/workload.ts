// Spawns real child processes that hold loopback sockets (socket-child.cjs), for system tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const HELPERS = __dirname;

export interface ChildInfo {
  pid: number;
  port?: number;
  ports?: number[];
  localPort?: number;
  localPorts?: number[];
}

export class Workload {
  private readonly children: ChildProcess[] = [];

  /** @param helpers where socket-child.cjs and the Python helpers are (the benchmark is bundled elsewhere) */
  constructor(private readonly helpers = HELPERS) {}

  /** Starts one socket-child with a plan; resolves with its ready line. */
  start(plan: Record<string, unknown>): Promise<ChildInfo> {
    return this.run(process.execPath, [join(this.helpers, 'socket-child.cjs'), JSON.stringify(plan)]);
  }

  /** A TCP listener with backlog 0 that never accepts (Python: libuv would accept). */
  neverAccepting(host: string): Promise<ChildInfo> {
    return this.run('python3', [join(this.helpers, 'backlog0.py'), host]);
  }

  /** Spawns a child in its own process group, so stop() also ends anything it forked. */
  spawn(command: string, args: string[]): ChildProcess {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.children.push(child);
    return child;
  }

  run(command: string, args: string[]): Promise<ChildInfo> {
    const child = this.spawn(command, args);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => resolve(JSON.parse(line) as ChildInfo));
      child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`)));
    });
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              // the group is already gone
            }
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
          }),
      ),
    );
    this.children.length = 0;
  }
}

/**
 * Ends a Porthole child: SIGINT first (a watcher or server then removes its tracefs instance),
 * SIGKILL if it has not ended within 3 s.
 */
export function interruptThenKill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGINT');
  });
}

/** Polls `check` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
