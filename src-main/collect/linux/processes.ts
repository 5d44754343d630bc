// Reads what a developer wants to know about a socket's owner from /proc/<pid>: name, command
// line, user, start time, working directory, parent. A process may exit at any point: never throw.

import { readFileSync, readlinkSync } from 'node:fs';
import { MAX_PARENTS, type ProcessInfo, type ProcessParent } from '../../shared/contract';

/** USER_HZ: the unit of /proc/<pid>/stat times, fixed at 100 by the kernel's user ABI. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  name: string;
  /** R, S, D, Z (exited, not yet reaped), … */
  state: string;
  ppid: number;
  /** Clock ticks after boot: with the pid, it identifies a process across pid reuse. */
  startTicks: number;
  /**
   * Where the command line lies in the process's memory (arg_start, arg_end; 0 when the kernel
   * hides them from us or the process has no memory of its own). Every exec builds a new one, so
   * these change where the pid, the start time and often the name do not.
   */
  argStart: number;
  argEnd: number;
}

/** Parses /proc/<pid>/stat; the name sits in parentheses and may itself hold spaces and ')'. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, starttime field 22.
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (!Number.isInteger(ppid) || !Number.isInteger(startTicks)) return null;
  // Fields 48 and 49 (Linux 3.5 and later; absent before, read as 0).
  const argStart = Number(rest[45] ?? 0);
  const argEnd = Number(rest[46] ?? 0);
  return {
    name: text.slice(open + 1, close),
    state: rest[0],
    ppid,
    startTicks,
    argStart: Number.isSafeInteger(argStart) ? argStart : 0,
    argEnd: Number.isSafeInteger(argEnd) ? argEnd : 0,
  };
}

/** uid → user name from an /etc/passwd text. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid && /^\d+$/.test(uid)) users.set(Number(uid), name);
  }
  return users;
}

/** /proc/<pid>/cmdline's NUL-separated arguments as one line. */
const commandLine = (cmdline: string) => cmdline.replace(/\0+$/, '').split('\0').join(' ');

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** What a cached process's details are kept by: the same process running the same program. */
type ExecIdentity = Pick<ProcStat, 'startTicks' | 'name' | 'argStart' | 'argEnd'>;

const sameProgram = (a: ExecIdentity, b: ExecIdentity) =>
  a.startTicks === b.startTicks && a.name === b.name && a.argStart === b.argStart && a.argEnd === b.argEnd;

export class ProcessReader {
  private readonly cache = new Map<number, { identity: ExecIdentity; info: ProcessInfo }>();
  private users: Map<number, string> | null = null;
  private bootTimeMs: number | null = null;

  constructor(private readonly procRoot = '/proc') {}

  /** The process's stat line, or null when it is gone. */
  stat(pid: number): ProcStat | null {
    const text = readOrNull(`${this.procRoot}/${pid}/stat`);
    return text ? parseProcStat(text) : null;
  }

  /**
   * Details of a process, cached per (pid, start time) so a reused pid is read afresh, and per
   * program: an exec keeps the pid, the start time and the open sockets, and often the name too
   * (a child spawned by node is node, with the parent's command line, until it execs node with its
   * own). Its command line's place in memory is new with every exec; where the kernel hides that
   * place (a process that is not dumpable), the command line itself is compared.
   */
  read(pid: number): ProcessInfo | null {
    const statText = readOrNull(`${this.procRoot}/${pid}/stat`);
    const stat = statText ? parseProcStat(statText) : null;
    if (!stat) return null;
    const cached = this.cache.get(pid);
    const same = cached !== undefined && sameProgram(cached.identity, stat);
    if (same && stat.argStart !== 0) return cached.info;
    const command = commandLine(readOrNull(`${this.procRoot}/${pid}/cmdline`) ?? '');
    if (same && cached.info.command === command) return cached.info;
    const uidLine = /^Uid:\s+(\d+)/m.exec(readOrNull(`${this.procRoot}/${pid}/status`) ?? '');
    const uid = uidLine ? Number(uidLine[1]) : null;
    let cwd: string | null = null;
    try {
      cwd = readlinkSync(`${this.procRoot}/${pid}/cwd`);
    } catch {
      cwd = null; // not permitted, or gone
    }
    const bootMs = this.bootTime();
    const info: ProcessInfo = {
      pid,
      ppid: stat.ppid,
      name: stat.name,
      command,
      user: uid === null ? null : this.userName(uid),
      uid,
      startedAt:
        bootMs === null ? null : new Date(bootMs + (stat.startTicks * 1000) / CLOCK_TICKS_PER_SECOND).toISOString(),
      cwd,
      parents: this.parentsOf(stat.ppid),
    };
    const { startTicks, name, argStart, argEnd } = stat;
    this.cache.set(pid, { identity: { startTicks, name, argStart, argEnd }, info });
    return info;
  }

  /** The chain of parents from `ppid` up, nearest first, stopping before pid 1 (or at a vanished one). */
  private parentsOf(ppid: number): ProcessParent[] {
    const parents: ProcessParent[] = [];
    for (let pid = ppid; pid > 1 && parents.length < MAX_PARENTS;) {
      const stat = this.stat(pid);
      if (!stat) break;
      parents.push({ pid, name: stat.name });
      pid = stat.ppid;
    }
    return parents;
  }

  /** Drops cached details of processes no longer asked about. */
  retain(pids: ReadonlySet<number>): void {
    for (const pid of this.cache.keys()) if (!pids.has(pid)) this.cache.delete(pid);
  }

  userName(uid: number): string | null {
    if (!this.users || !this.users.has(uid)) {
      this.users = parsePasswd(readOrNull('/etc/passwd') ?? '');
    }
    return this.users.get(uid) ?? null;
  }

  private bootTime(): number | null {
    if (this.bootTimeMs === null) {
      const match = /^btime (\d+)$/m.exec(readOrNull(`${this.procRoot}/stat`) ?? '');
      this.bootTimeMs = match ? Number(match[1]) * 1000 : null;
    }
    return this.bootTimeMs;
  }
}
