// Stopping a socket's owner, safely: never pid ≤ 1, Porthole or its parent; and right before each
// signal the pid must still have the start time the user saw, so a pid the kernel has since given
// to another process is never hit. (Node has no pidfd_send_signal; the re-check leaves a window of
// microseconds between the read and kill(2), against the seconds a confirmation takes.)

import type { ProcessInfo } from '../shared/contract';
import type { KillOutcome } from '../shared/ipc';
import { processIdentity, type ProcessIdentity } from '../collect';

/** A process as the user saw it: the pid alone is not an identity. */
export interface KillTarget {
  pid: number;
  startedAt: string | null;
}

export interface KillOptions {
  /** SIGKILL when SIGTERM has not ended it within `timeoutMs`. */
  force: boolean;
  timeoutMs?: number;
  /** Who a pid is now (collect/'s, unless a test gives its own). */
  identity?: ProcessIdentity;
}

export type { KillOutcome };

const POLL_MS = 25;

/** Why this pid must not be signalled at all, or null. */
export function refusalFor(pid: number): string | null {
  if (!Number.isSafeInteger(pid) || pid <= 1) return `pid ${pid} is not a process Porthole will signal`;
  if (pid === process.pid) return `pid ${pid} is Porthole itself`;
  if (pid === process.ppid) return `pid ${pid} is Porthole's parent`;
  return null;
}

type Liveness = { state: 'same'; info: ProcessInfo } | { state: 'gone' } | { state: 'other'; startedAt: string | null };

function check(target: KillTarget, reader: ProcessIdentity): Liveness {
  const info = reader.current(target.pid);
  if (!info) return { state: 'gone' };
  return info.startedAt === target.startedAt && info.startedAt !== null
    ? { state: 'same', info }
    : { state: 'other', startedAt: info.startedAt };
}

async function waitGone(target: KillTarget, reader: ProcessIdentity, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check(target, reader).state !== 'same') return true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return check(target, reader).state !== 'same';
}

/** Signals the pid if it is still the target: 'sent', 'gone', or the refusal. */
function signal(
  target: KillTarget,
  reader: ProcessIdentity,
  name: 'SIGTERM' | 'SIGKILL',
): 'sent' | 'gone' | KillOutcome {
  const now = check(target, reader);
  if (now.state === 'gone') return 'gone';
  if (now.state === 'other')
    return {
      ok: false,
      pid: target.pid,
      reason: `pid ${target.pid} is now another process (started ${now.startedAt ?? 'at an unknown time'}, not ${target.startedAt ?? 'unknown'}): the pid was reused, nothing was signalled`,
    };
  try {
    process.kill(target.pid, name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      pid: target.pid,
      reason:
        code === 'EPERM'
          ? `not permitted to signal pid ${target.pid} (it belongs to another user)`
          : `kill(${target.pid}) failed: ${code}`,
    };
  }
  return 'sent';
}

export async function killProcess(target: KillTarget, options: KillOptions): Promise<KillOutcome> {
  const refusal = refusalFor(target.pid);
  if (refusal) return { ok: false, pid: target.pid, reason: refusal };
  const reader = options.identity ?? processIdentity();
  if (!reader)
    return {
      ok: false,
      pid: target.pid,
      reason: 'stopping a process is supported on Linux and Windows, where its start time can be re-checked',
    };
  if (target.startedAt === null)
    return {
      ok: false,
      pid: target.pid,
      reason: `the start time of pid ${target.pid} is unknown, so its identity cannot be checked`,
    };
  const timeoutMs = options.timeoutMs ?? 3000;

  const term = signal(target, reader, 'SIGTERM');
  if (term === 'gone') return { ok: false, pid: target.pid, reason: `pid ${target.pid} has already exited` };
  if (term !== 'sent') return term;
  if (await waitGone(target, reader, timeoutMs))
    return { ok: true, pid: target.pid, signal: 'SIGTERM', message: `pid ${target.pid} ended after SIGTERM` };
  if (!options.force)
    return {
      ok: false,
      pid: target.pid,
      reason: `pid ${target.pid} is still running ${timeoutMs / 1000} s after SIGTERM (ask again with --force for SIGKILL)`,
    };
  // It may have ended between the last check and now: SIGTERM did it.
  const kill = signal(target, reader, 'SIGKILL');
  if (kill === 'gone')
    return { ok: true, pid: target.pid, signal: 'SIGTERM', message: `pid ${target.pid} ended after SIGTERM` };
  if (kill !== 'sent') return kill;
  return (await waitGone(target, reader, timeoutMs))
    ? { ok: true, pid: target.pid, signal: 'SIGKILL', message: `pid ${target.pid} ended after SIGKILL` }
    : { ok: false, pid: target.pid, reason: `pid ${target.pid} survived SIGKILL (uninterruptible sleep?)` };
}
