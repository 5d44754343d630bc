// A real container for the system tests (root, Podman): a busybox image imported from the
// machine's busybox-static (no registry), run with runc and cgroupfs and ulimits no higher than
// the test's own (this machine's sandbox refuses raising them, and crun refuses its hybrid
// cgroups). `podmanUnavailable()` says why a container cannot run here, or null.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const IMAGE = 'localhost/porthole-test-busybox:1';
const GLOBAL = ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
const BUSYBOX = '/bin/busybox';

export const podman = (...args: string[]): string =>
  execFileSync('podman', [...GLOBAL, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });

/** Why no container can run here (missing tools, not root), or null. */
export function podmanUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['podman', 'runc'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  if (!existsSync(BUSYBOX)) return 'busybox-static is not installed';
  return null;
}

/** The test image, imported once from the machine's busybox. */
export function ensureImage(): void {
  if (spawnSync('podman', [...GLOBAL, 'image', 'exists', IMAGE]).status === 0) return;
  const root = mkdtempSync(join(tmpdir(), 'porthole-busybox-'));
  try {
    mkdirSync(join(root, 'bin'));
    copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
    for (const applet of ['sh', 'nc', 'sleep', 'cat']) symlinkSync('busybox', join(root, 'bin', applet));
    execFileSync('tar', ['-C', root, '-cf', join(root, 'image.tar'), 'bin']);
    podman('import', '-q', join(root, 'image.tar'), IMAGE);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Runs a container detached; returns its full id. */
export function runContainer(name: string, args: string[], command: string): string {
  const limits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
  return podman('run', '-d', '--name', name, ...limits, ...args, IMAGE, 'sh', '-c', command).trim();
}

/** Podman's API on a socket of the test's own; ended by `stop()`. */
export function startApi(socketPath: string): { process: ChildProcess; stop: () => void } {
  const child = spawn('podman', [...GLOBAL, 'system', 'service', '--time=0', `unix://${socketPath}`], {
    stdio: 'ignore',
  });
  return {
    process: child,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(socketPath, { force: true });
    },
  };
}
