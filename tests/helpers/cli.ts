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

const SETPRIV_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
let nobodyCanRead: boolean | undefined;

/**
 * setpriv to `nobody`: the collector as a user who may not see other users' processes. Throws one
 * line saying why when `nobody` cannot read the checkout (a clone inside a private folder, e.g.
 * /root), where Node would otherwise fail inside its module loader.
 */
export function asNobody(): string[] {
  nobodyCanRead ??= spawnSync(SETPRIV_NOBODY[0], [...SETPRIV_NOBODY.slice(1), 'test', '-r', CLI]).status === 0;
  if (!nobodyCanRead)
    throw new Error(
      `the user nobody cannot read ${CLI} (a folder above the checkout is private, e.g. 0700): tests that run Porthole unprivileged need it readable; clone under a folder others may enter, or chmod o+x the folders above it`,
    );
  return SETPRIV_NOBODY;
}
