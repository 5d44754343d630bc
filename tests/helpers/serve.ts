// Starts the real `porthole serve` as a child process and reads the URL it prints. Every server
// started here is ended: by stop(), and, if a test run dies first, when this process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CLI, PROJECT_ROOT } from './cli';
import { interruptThenKill } from './workload';

export interface Served {
  url: string;
  port: number;
  token: string;
  child: ChildProcess;
  stderr: string[];
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function stopChild(child: ChildProcess): Promise<void> {
  await interruptThenKill(child);
  running.delete(child);
}

/**
 * @param nodeArgs options for Node itself (e.g. --cpu-prof when the soak benchmark profiles the server)
 * @param prefix a command that runs it (asNobody(): the server unprivileged)
 */
export async function startServe(args: string[] = [], nodeArgs: string[] = [], prefix: string[] = []): Promise<Served> {
  const [command, ...rest] = [...prefix, process.execPath, ...nodeArgs, CLI, 'serve', '--port', '0', ...args];
  const child = spawn(command, rest, {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', (line) => {
        const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(line);
        if (match) resolve(match[1]);
        else reject(new Error(`unexpected serve output: ${line}`));
      });
      child.once('exit', (code) => reject(new Error(`porthole serve exited ${code}: ${stderr.join('\n')}`)));
    });
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  const parsed = new URL(url);
  return {
    url,
    port: Number(parsed.port),
    token: parsed.searchParams.get('token')!,
    child,
    stderr,
    stop: () => stopChild(child),
  };
}

/** The pid of the privileged helper a Porthole (`parent`) started. */
export function helperPid(parent: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('helper.js')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error('no privileged helper is running');
}
