// Runs the real, built `porthole` command in a child process.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { join } from 'node:path';

export const PROJECT_ROOT = join(__dirname, '..', '..');
export const CLI = join(PROJECT_ROOT, 'bin', 'porthole.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runPorthole(args: string[], options: SpawnSyncOptions = {}, prefix: string[] = []): CliRun {
  const [command, ...rest] = [...prefix, process.execPath, CLI, ...args];
  const result = spawnSync(command, rest, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** setpriv to `nobody`: the collector as a user who may not see other users' processes. */
export const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
