// What the engine asks of an OS: the socket table, and the capabilities that only some OSes have
// (re-checking a process's identity before a signal, aborting one connection, the kernel's TCP
// events). Each is asked for through collect/index.ts; nothing outside collect/ knows the OS.

import type { ProcessInfo, Scan } from '../shared/contract';
import type { KernelTcpEvent } from '../track/connection-chains';
import type { CloseOutcome } from '../shared/ipc';

export type { Scan, KernelTcpEvent, CloseOutcome };

export interface CollectOptions {
  /**
   * Given the table as soon as its sockets are read, before their owners are looked up, when that
   * look-up is the long part of the scan (the first one, which reads every process's open files):
   * a viewer shows the table at once, owners "resolving…" (`stats.ownersPending`), and the scan's
   * result fills them in. Not called when owners come as fast as the sockets.
   */
  early?: (scan: Scan) => void;
}

export interface Collector {
  /** Reads the table now. Never rejects for a process that vanished or a row that did not parse. */
  collect(options?: CollectOptions): Promise<Scan>;
}

/**
 * Who a pid is now, to be compared with who it was when the user saw it (a pid alone is no
 * identity: the kernel gives it to another process once its owner exits).
 */
export interface ProcessIdentity {
  /** The process behind `pid` now, or null when there is none (gone, or a zombie: it has exited). */
  current(pid: number): ProcessInfo | null;
}

/** Both ends of one TCP connection as the kernel keys it. */
export interface TcpConnectionEnds {
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** The kernel's TCP state changes as they happen, read by whoever holds it. */
export interface TcpEventSource {
  /** Every event since the last drain (bounded by the kernel's buffer). */
  drain(): KernelTcpEvent[];
  /** Events the kernel could not keep (its buffer was full), since the source opened. */
  readonly lost: number;
  /** Where the OS records them for this source (Linux: its tracefs instance), if anywhere. */
  readonly instance?: string;
  close(): void;
}

export type TcpEventOpening = { ok: true; source: TcpEventSource } | { ok: false; reason: string };
