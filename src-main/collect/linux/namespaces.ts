// Which network namespaces exist, and one way into each. A namespace is known by the inode of
// /proc/<pid>/ns/net, so processes are grouped by it; bind mounts (`ip netns add`, Docker's
// sandboxes) name namespaces and may hold one that no process is in. A namespace's socket tables
// are read through one of its processes (/proc/<pid>/net/*: no entering needed); one that only a
// bind mount holds is entered with nsenter for that read.

import { spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { formatIPv6 } from '../addresses';

/** At most this many namespaces are read per poll; the rest are counted as skipped, never silently. */
export const MAX_NAMESPACES = 512;
/** Namespaces held only by a bind mount cost a process each (nsenter): at most this many per poll. */
export const MAX_ENTERED_PER_POLL = 32;
const ENTER_TIMEOUT_MS = 2_000;
/** A namespace's five tables as nsenter prints them: bounded like any child's output. */
const MAX_ENTERED_BYTES = 64 << 20;
export const NAMESPACE_MOUNT_DIRS = ['/run/netns', '/var/run/docker/netns'];

export const TABLE_FILES = ['tcp', 'tcp6', 'udp', 'udp6', 'unix'] as const;
export type TableFile = (typeof TABLE_FILES)[number];

export interface NamespaceMount {
  /** The file's name (an `ip netns` name, a Docker sandbox id). */
  name: string;
  path: string;
  /** Which directory it is in: /run/netns names are the user's own. */
  dir: string;
}

export interface NamespaceEntry {
  inode: number;
  own: boolean;
  /** Visible processes in it, ascending (the lowest are the longest-lived: the best way in). */
  pids: number[];
  mounts: NamespaceMount[];
}

export interface NamespaceSurvey {
  /** Porthole's own namespace; null when even that cannot be read (no /proc/self/ns). */
  own: number | null;
  /** Ordered: Porthole's own first, then by inode. */
  namespaces: NamespaceEntry[];
  /** Processes whose namespace could not be read (not permitted). */
  hiddenPids: number;
  /** Namespaces beyond MAX_NAMESPACES, not read. */
  skipped: number;
}

/** `net:[4026531840]` → 4026531840. */
export function namespaceInodeOf(link: string): number | null {
  const match = /^net:\[(\d+)\]$/.exec(link);
  return match ? Number(match[1]) : null;
}

type PidNamespace = number | 'denied';

export class NamespaceSurveyor {
  /** pid → its namespace, read when the pid is new or its fds changed (unshare opens one). */
  private readonly pidNamespace = new Map<number, PidNamespace>();

  constructor(
    private readonly procRoot = '/proc',
    private readonly mountDirs = NAMESPACE_MOUNT_DIRS,
  ) {}

  /**
   * @param pids every process now
   * @param stale whether a pid's namespace may have changed since last read (new fds); kernels
   * that do not report fd counts say yes for all
   */
  survey(pids: readonly number[], stale: (pid: number) => boolean): NamespaceSurvey {
    const own = this.readLink('self');
    const byInode = new Map<number, NamespaceEntry>();
    const entry = (inode: number): NamespaceEntry => {
      let e = byInode.get(inode);
      if (!e) byInode.set(inode, (e = { inode, own: inode === own, pids: [], mounts: [] }));
      return e;
    };
    if (typeof own === 'number') entry(own);
    const alive = new Set<number>();
    let hiddenPids = 0;
    for (const pid of pids) {
      alive.add(pid);
      let ns = this.pidNamespace.get(pid);
      if (ns === undefined || (ns !== 'denied' && stale(pid))) {
        const read = this.readLink(pid);
        if (read === null) continue; // gone mid-survey
        ns = read;
        this.pidNamespace.set(pid, ns);
      }
      if (ns === 'denied') hiddenPids++;
      else entry(ns).pids.push(pid);
    }
    for (const pid of this.pidNamespace.keys()) if (!alive.has(pid)) this.pidNamespace.delete(pid);
    for (const mount of this.listMounts()) {
      try {
        entry(statSync(mount.path).ino).mounts.push(mount);
      } catch {
        // removed meanwhile, or a stale mount point whose namespace is gone
      }
    }
    const ordered = [...byInode.values()].sort((a, b) => Number(b.own) - Number(a.own) || a.inode - b.inode);
    for (const e of ordered) e.pids.sort((a, b) => a - b);
    return {
      own: typeof own === 'number' ? own : null,
      namespaces: ordered.slice(0, MAX_NAMESPACES),
      hiddenPids,
      skipped: Math.max(0, ordered.length - MAX_NAMESPACES),
    };
  }

  /** The namespace a pid is in now (for checking a way in after reading through it). */
  namespaceOf(pid: number): number | null {
    const ns = this.readLink(pid);
    return typeof ns === 'number' ? ns : null;
  }

  private readLink(pid: number | 'self'): PidNamespace | null {
    try {
      return namespaceInodeOf(readlinkSync(`${this.procRoot}/${pid}/ns/net`));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'EACCES' || code === 'EPERM' ? 'denied' : null;
    }
  }

  private listMounts(): NamespaceMount[] {
    const mounts: NamespaceMount[] = [];
    for (const dir of this.mountDirs) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue; // no such runtime here
      }
      for (const name of names.slice(0, MAX_NAMESPACES)) mounts.push({ name, path: `${dir}/${name}`, dir });
    }
    return mounts;
  }
}

/** A namespace's tables, read by entering it: one nsenter per namespace per poll. */
export function readTablesEntered(mountPath: string): { tables: Map<TableFile, Buffer> } | { error: string } {
  const script = TABLE_FILES.map((f) => `echo '#porthole:${f}'; cat /proc/self/net/${f} 2>/dev/null`).join('; ');
  const result = spawnSync('nsenter', [`--net=${mountPath}`, '--', 'sh', '-c', script], {
    timeout: ENTER_TIMEOUT_MS,
    maxBuffer: MAX_ENTERED_BYTES,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error)
    return { error: `nsenter: ${(result.error as NodeJS.ErrnoException).code ?? result.error.message}` };
  if (result.status !== 0) {
    const said = result.stderr.toString('utf8').trim().split('\n').pop() ?? '';
    return {
      error: /not permitted/i.test(said) ? 'not permitted to enter it' : `nsenter failed: ${said.slice(0, 200)}`,
    };
  }
  const tables = new Map<TableFile, Buffer>();
  const out = result.stdout;
  let at = 0;
  for (const file of TABLE_FILES) {
    const marker = Buffer.from(`#porthole:${file}\n`);
    const start = out.indexOf(marker, at);
    if (start < 0) return { error: 'nsenter gave an incomplete answer' };
    const next = file === 'unix' ? out.length : out.indexOf('#porthole:', start + marker.length);
    tables.set(file, out.subarray(start + marker.length, next < 0 ? out.length : next));
    at = start + marker.length;
  }
  return { tables };
}

/** The IPv4 addresses local to a namespace, from its fib_trie (`/32 host LOCAL` entries). */
export function parseFibTrieLocal(text: string): string[] {
  const addresses = new Set<string>();
  let last: string | null = null;
  for (const line of text.split('\n')) {
    const leaf = /\|--\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leaf) last = leaf[1];
    else if (last && /\/32 host LOCAL/.test(line)) addresses.add(last);
  }
  return [...addresses];
}

/** The IPv6 addresses of a namespace's interfaces, from if_inet6 (32 hex digits, network order). */
export function parseIfInet6(text: string): string[] {
  const addresses: string[] = [];
  for (const line of text.split('\n')) {
    const hex = /^([0-9a-f]{32})\s/i.exec(line)?.[1];
    if (!hex) continue;
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    addresses.push(formatIPv6(bytes));
  }
  return addresses;
}
