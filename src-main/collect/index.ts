// The OS behind one door (as psutil's _psplatform): the platform is read here, once, and the rest
// of the code asks for a collector or a capability. A capability this OS lacks is null, or an
// answer that says why, never a call that fails somewhere deeper.

import { hostname, release } from 'node:os';
import type { Collector, CloseOutcome, ProcessIdentity, TcpConnectionEnds, TcpEventOpening } from './collector';
import { LinuxCollector } from './linux/linux-collector';
import { ProcessReader } from './linux/processes';
import { abortTcpConnection } from './linux/abort-connection';
import { fixMallocThresholds } from './linux/allocator';
import { TcpStateTracer } from './linux/tcp-state-events';
import { SystemInformationCollector } from './systeminformation';
import { WindowsCollector } from './windows/windows-collector';
import { LsofCollector } from './macos/lsof';

export type {
  CollectOptions,
  Collector,
  CloseOutcome,
  ProcessIdentity,
  Scan,
  TcpConnectionEnds,
  TcpEventOpening,
  TcpEventSource,
} from './collector';

const PLATFORM: NodeJS.Platform = process.platform;
const LINUX = PLATFORM === 'linux';

/**
 * The collector of this OS. `scope.port`: one port's sockets only, where the OS can choose them
 * (Linux: the kernel filters its dump), for a one-shot question about that port (who).
 * `scope.traffic`: false leaves out each connection's byte counters (Linux's tcp_info).
 */
export function createCollector(
  platform: NodeJS.Platform = PLATFORM,
  scope: { port?: number; traffic?: boolean } = {},
): Collector {
  if (platform === 'linux') return new LinuxCollector({ port: scope.port, traffic: scope.traffic });
  if (platform === 'win32') {
    const windows = windowsCollector();
    if (!('reason' in windows)) return windows;
  }
  if (platform === 'darwin') return new LsofCollector();
  // The fallback of last resort: netstat's output, parsed by systeminformation (its snapshot says so).
  return new SystemInformationCollector();
}

/** The one Windows collector of this process (its FFI bound once), or why there is none. */
let windows: WindowsCollector | { reason: string } | null = null;
function windowsCollector(): WindowsCollector | { reason: string } {
  return (windows ??= WindowsCollector.open());
}

/** This machine as a snapshot names it. */
export function hostInfo(): { hostname: string; platform: string; release: string } {
  return { hostname: hostname(), platform: PLATFORM, release: release() };
}

/**
 * Who a pid is now, for stopping a process safely; null where its start time cannot be re-read
 * (only Linux's /proc gives it cheaply and exactly), and so no process is stopped there.
 */
export function processIdentity(): ProcessIdentity | null {
  if (PLATFORM === 'win32') {
    const collector = windowsCollector();
    // GetProcessTimes gives the start of the process behind a pid, as /proc does.
    return 'reason' in collector ? null : { current: (pid) => collector.current(pid) };
  }
  if (!LINUX) return null;
  const reader = new ProcessReader();
  return {
    current: (pid) => {
      const stat = reader.stat(pid);
      // A zombie has exited: only its parent's wait() is left to do.
      if (!stat || stat.state === 'Z') return null;
      return reader.read(pid);
    },
  };
}

/** Aborts one TCP connection (its owner gets ECONNABORTED, the peer a reset), where the OS can. */
export function closeTcpConnection(ends: TcpConnectionEnds, name: string): CloseOutcome {
  if (PLATFORM === 'win32') {
    const collector = windowsCollector();
    return 'reason' in collector
      ? { ok: false, reason: `the Windows collector cannot run here: ${collector.reason}` }
      : collector.close(ends, name);
  }
  if (!LINUX) return { ok: false, reason: 'closing a single connection is supported on Linux and Windows only' };
  return abortTcpConnection(ends, name);
}

/**
 * Has the C allocator give freed memory back to the OS (linux/allocator.ts): a host that passes
 * big messages between threads for days would otherwise keep tens of MB it no longer uses.
 * Call once, at the start of a long-running process; where the OS needs nothing, nothing.
 */
export function returnFreedMemory(): void {
  if (LINUX) fixMallocThresholds();
}

export { TCP_EVENT_BUFFER_KB } from './event-buffer';

/** The kernel's TCP state changes, as they happen; where the OS has no such events, why not. */
export function openTcpEvents(bufferKbPerCpu?: number, tag?: string): TcpEventOpening {
  if (!LINUX) return { ok: false, reason: 'kernel TCP events are read on Linux only' };
  const opening = TcpStateTracer.open(undefined, bufferKbPerCpu, tag);
  return opening.ok ? { ok: true, source: opening.tracer } : opening;
}

/**
 * How often, and how many times, a dead reader's instance is tried again: tracefs refuses to
 * remove it (EBUSY) while its files are open, and the dead thread's are closed as it is torn
 * down, which may be after its end is heard.
 */
const RELEASE_RETRY_MS = 250;
const RELEASE_TRIES = 40;

/** Removes what an event source of this process that ended without closing left recording. */
export function releaseTcpEvents(instance: string): void {
  if (LINUX) untilGone(() => TcpStateTracer.release(instance));
}

/** Removes every instance named with `tag` (a dead poll worker's readers'; see PollWorkerOptions). */
export function releaseTaggedTcpEvents(tag: string): void {
  if (LINUX) untilGone(() => TcpStateTracer.releaseTagged(tag));
}

function untilGone(release: () => boolean): void {
  let tries = 0;
  const attempt = () => {
    if (release() || ++tries >= RELEASE_TRIES) return;
    setTimeout(attempt, RELEASE_RETRY_MS).unref();
  };
  attempt();
}

/**
 * Where a helper started through the OS's consent prompt connects back to the app: a named pipe
 * on Windows, else a Unix socket in the app's own 0700 folder (whose mode and owner are checked).
 */
export const localRendezvous = {
  path: (folder: string, id: string): string =>
    PLATFORM === 'win32' ? `\\\\.\\pipe\\porthole-helper-${id}` : `${folder}/helper.sock`,
  /** Whether the folder's owner and mode protect the rendezvous (POSIX), or the pipe's own ACL does. */
  folderGuards: PLATFORM !== 'win32',
};

export { ReverseNames, reverseDnsModeFrom } from './reverse-dns';
