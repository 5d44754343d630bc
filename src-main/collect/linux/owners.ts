// Finds the processes that hold each socket inode by reading /proc/<pid>/fd, incrementally:
// inode→pids is kept between polls and only the processes likely to hold new sockets are read.

import { readdirSync, readlinkSync, statSync, type Stats } from 'node:fs';

/** Where a scan looked this poll: the evidence for the benchmark and for tests. */
export interface OwnerScanStats {
  /** Processes whose fd table was read this poll. */
  scannedPids: number;
  /** Of those, read in the full fallback scan. */
  fullScanPids: number;
  /** Inodes still without an owner after this poll. */
  unresolved: number;
}

const RECENT_LIMIT = 16;
/** The owners of an unknown inode: one shared array, so "still unknown" is the same reference. */
const NO_OWNERS: readonly number[] = Object.freeze([]);

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Socket inode → the fd number that holds it, for one process. */
type SocketFds = Map<number, string>;

/** The socket inodes among a process's open fds; null when the fd table cannot be read. */
function readSocketInodes(procRoot: string, pid: number): { inodes: SocketFds; denied: boolean } | null {
  let fds: string[];
  try {
    fds = readdirSync(`${procRoot}/${pid}/fd`);
  } catch (error) {
    // Gone mid-scan is normal; not permitted is reported, never thrown.
    return errorCode(error) === 'EACCES' || errorCode(error) === 'EPERM' ? { inodes: new Map(), denied: true } : null;
  }
  const inodes: SocketFds = new Map();
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
    } catch {
      continue; // the fd was closed between readdir and readlink
    }
    if (target.startsWith('socket:[')) inodes.set(Number(target.slice(8, -1)), fd);
  }
  return { inodes, denied: false };
}

export class OwnerResolver {
  private readonly inodeOwners = new Map<number, readonly number[]>();
  private readonly pidInodes = new Map<number, SocketFds>();
  /** The size of /proc/<pid>/fd, which is the open-fd count on Linux ≥ 6.2 (0 before: then unused). */
  private readonly pidFdCount = new Map<number, number>();
  /** The inode of /proc/<pid>/fd when it was read: which process had the pid then. */
  private readonly pidFdIno = new Map<number, number>();
  /** Whether stat of /proc/<pid>/fd gives the open-fd count as its size (Linux 6.2+): some size was not 0. */
  private fdSizesCount = false;
  private readonly deniedPids = new Set<number>();
  /** Inodes that a full scan found no visible owner for; forgotten when the socket goes. */
  private readonly ownerless = new Set<number>();
  /** Inodes unknown at the end of the previous poll: they have survived a poll and earn a full scan. */
  private unknownLastPoll = new Set<number>();
  private recentlyActive: number[] = [];
  lastScan: OwnerScanStats = { scannedPids: 0, fullScanPids: 0, unresolved: 0 };
  /**
   * The inodes whose owners changed since takeChangedInodes() was last called: only these need
   * their owner looked at again (with processes coming and going somewhere on the host, some
   * inode's owners change every poll; the rest stay as they were). At most the inodes known.
   */
  private changedInodes = new Set<number>();

  /** The inodes whose owners changed since the last call, and a fresh start. */
  takeChangedInodes(): ReadonlySet<number> {
    const changed = this.changedInodes;
    this.changedInodes = new Set();
    return changed;
  }

  constructor(private readonly procRoot = '/proc') {}

  /** Every process holding this inode, sorted; empty when unknown. */
  ownersOf(inode: number): readonly number[] {
    return this.inodeOwners.get(inode) ?? NO_OWNERS;
  }

  /**
   * Whether a process still holds this socket open, checked on the one fd known to hold it. The
   * kernel's table readers may skip a row when the table changes between two reads of one file:
   * an fd still open proves the socket still exists.
   */
  stillHeld(inode: number): boolean {
    for (const pid of this.ownersOf(inode)) {
      const fd = this.pidInodes.get(pid)?.get(inode);
      try {
        if (fd !== undefined && readlinkSync(`${this.procRoot}/${pid}/fd/${fd}`) === `socket:[${inode}]`) return true;
      } catch {
        // closed, or the process is gone
      }
    }
    return false;
  }

  /** Processes whose fd table could not be read (not permitted). */
  get hiddenProcessCount(): number {
    return this.deniedPids.size;
  }

  private pids: number[] = [];
  private scannedThisPoll = new Set<number>();
  /**
   * `[pid]`, one array a process for all the sockets it alone holds (most sockets): owner arrays
   * are never changed, only replaced, so they can be shared; one a socket was 50,000 arrays.
   */
  private readonly soleOwners = new Map<number, readonly number[]>();

  private soleOwner(pid: number): readonly number[] {
    let owners = this.soleOwners.get(pid);
    if (!owners) this.soleOwners.set(pid, (owners = Object.freeze([pid])));
    return owners;
  }

  /** Processes refresh() left for resolve() to read (the first poll; see refresh()). */
  private readonly deferred = new Set<number>();
  /** Whether the poll under way reads its owners after its table (resolve() is then the long part). */
  get ownersAfterTable(): boolean {
    return this.deferred.size > 0;
  }

  /** Every process of this poll (after refresh()). */
  get listedPids(): readonly number[] {
    return this.pids;
  }

  /**
   * Whether a process is new this poll or its fds changed, so what else is known about it may be
   * stale (its network namespace, say); always true where the kernel gives no fd counts.
   */
  fdsChanged(pid: number): boolean {
    if (this.scannedThisPoll.has(pid) || this.deferred.has(pid)) return true;
    const count = this.pidFdCount.get(pid);
    // 0 is a count (a kernel thread has no fds) only where the kernel gives counts at all.
    return count === undefined || (count === 0 && !this.fdSizesCount);
  }

  /**
   * Step 1 of a poll, before the socket table is read: re-reads the processes that are new or
   * whose fd count changed. Reading fds first means every socket the table then shows either was
   * seen here or was opened since, which changes its owner's fd count for the next poll. (Read the
   * other way round, a socket opened in between was found here, absent from the table, and its
   * owner forgotten.) This also keeps owners honest when a process closes its copy of a shared
   * socket (a forked child exec'ing, say).
   */
  refresh(): void {
    this.scannedThisPoll = new Set<number>();
    // Nothing read yet (the first poll): every process would be read now, and the table would
    // wait for all of it. They are read in resolve() instead, after the table, which a viewer
    // can be shown meanwhile. Read after the table, a process holds every socket of the table it
    // still holds; one opened since is known before it is in a table.
    const deferAll = this.pidFdCount.size === 0 && this.pidInodes.size === 0;
    this.pids = this.listPids();
    this.forgetVanished(this.pids);
    for (const pid of this.pids) {
      let fds: Stats;
      try {
        fds = statSync(`${this.procRoot}/${pid}/fd`);
      } catch {
        continue;
      }
      // A pid the kernel gave to another process since it was read: what was read of it was the
      // other's (a reused pid with as many open files would otherwise keep its sockets). procfs
      // makes a new inode for a new process's entry; the same process keeps its own.
      const knownIno = this.pidFdIno.get(pid);
      if (knownIno !== undefined && knownIno !== fds.ino) this.forgetPid(pid);
      this.pidFdIno.set(pid, fds.ino);
      if (this.deniedPids.has(pid)) continue;
      const fdCount = fds.size;
      if (fdCount > 0) this.fdSizesCount = true;
      const known = this.pidFdCount.get(pid);
      if (known === undefined || (fdCount > 0 && known !== fdCount)) {
        if (deferAll) this.deferred.add(pid);
        else this.scan(pid, this.scannedThisPoll);
      }
      this.pidFdCount.set(pid, fdCount);
    }
  }

  /**
   * Step 2, after the table is read: finds owners of the inodes still unknown, and forgets sockets
   * that left the table, so memory follows the table's size. Only what changed is looked at: in a
   * steady state this does nothing.
   * @param table the inodes new (or changed) since last poll, those gone, and a test for the rest
   * @param likelyOwners where a new inode most likely is (e.g. the owner of the listener on its port)
   */
  resolve(
    table: { fresh: Iterable<number>; gone: Iterable<number>; has(inode: number): boolean },
    likelyOwners: (inode: number) => readonly number[] = () => [],
  ): void {
    const scanned = this.scannedThisPoll;
    const phaseOneScans = [...scanned];
    const pids = this.pids;
    this.forget(table.gone);
    // The first poll's reading, deferred by refresh(): after the table, so nothing to read again.
    for (const pid of this.deferred) this.scan(pid, scanned);
    this.deferred.clear();

    const unknown = new Set<number>();
    const isUnknown = (inode: number) => inode !== 0 && !this.inodeOwners.has(inode) && !this.ownerless.has(inode);
    for (const inode of table.fresh) if (isUnknown(inode)) unknown.add(inode);
    for (const inode of this.unknownLastPoll) if (table.has(inode) && isUnknown(inode)) unknown.add(inode);

    // Phase 2: where new sockets usually are: the listener's owner, recently busy processes, and
    // the processes just re-read (a socket opened since is most likely theirs).
    const candidates = new Set<number>();
    for (const inode of unknown) for (const pid of likelyOwners(inode)) candidates.add(pid);
    for (const pid of this.recentlyActive) candidates.add(pid);
    for (const pid of phaseOneScans) this.rescan(pid, unknown);
    this.scanUntilFound(candidates, unknown, scanned);
    // Processes started after step 1 listed them, before the table was read: a new socket is most
    // likely theirs (a client just started), and without this it would wait a poll for phase 3.
    if (unknown.size > 0) {
      const listed = new Set(pids);
      this.scanUntilFound(
        this.listPids().filter((pid) => !listed.has(pid)),
        unknown,
        scanned,
      );
    }

    // Phase 3: a full scan, only for inodes that survived a poll (short-lived sockets would
    // otherwise force one every time), stopping as soon as all are found. When every process was
    // read this poll already (the first poll), what is unknown is ownerless.
    const everyPidScanned = pids.every((pid) => scanned.has(pid) || this.deniedPids.has(pid));
    const survivors = new Set([...unknown].filter((inode) => everyPidScanned || this.unknownLastPoll.has(inode)));
    let fullScanPids = 0;
    if (survivors.size > 0) {
      const before = scanned.size;
      this.scanUntilFound(pids, survivors, scanned, unknown);
      fullScanPids = scanned.size - before;
      for (const inode of survivors) this.ownerless.add(inode);
    }
    for (const inode of unknown) if (this.inodeOwners.has(inode) || this.ownerless.has(inode)) unknown.delete(inode);

    this.unknownLastPoll = unknown;
    this.lastScan = { scannedPids: scanned.size, fullScanPids, unresolved: unknown.size };
  }

  /** Reads a process again if some wanted inode is still unknown; found ones leave `wanted`. */
  private rescan(pid: number, wanted: Set<number>): void {
    if (wanted.size === 0) return;
    const result = readSocketInodes(this.procRoot, pid);
    if (result === null || result.denied) return;
    this.setInodes(pid, result.inodes);
    for (const inode of result.inodes.keys()) wanted.delete(inode);
  }

  private listPids(): number[] {
    const pids: number[] = [];
    for (const name of readdirSync(this.procRoot)) {
      const code = name.charCodeAt(0);
      if (code >= 48 && code <= 57) pids.push(Number(name));
    }
    return pids;
  }

  private forgetVanished(pids: number[]): void {
    const alive = new Set(pids);
    // Every pid refresh() stat'ed has its inode noted; a pid first read in resolve() (started
    // after the listing) has only its sockets kept.
    for (const pid of this.pidFdIno.keys()) if (!alive.has(pid)) this.forgetPid(pid);
    for (const pid of this.pidInodes.keys()) if (!alive.has(pid)) this.forgetPid(pid);
    this.recentlyActive = this.recentlyActive.filter((pid) => alive.has(pid));
  }

  /** Drops all that was read of a process (it is gone, or its pid is another's now). */
  private forgetPid(pid: number): void {
    this.setInodes(pid, new Map());
    this.soleOwners.delete(pid);
    this.pidFdCount.delete(pid);
    this.pidFdIno.delete(pid);
    this.deniedPids.delete(pid);
  }

  /** Reads processes in order until every inode of `wanted` has an owner; found ones leave `wanted`. */
  private scanUntilFound(
    pids: Iterable<number>,
    wanted: Set<number>,
    scanned: Set<number>,
    alsoClear?: Set<number>,
  ): void {
    for (const inode of [...wanted]) if (this.inodeOwners.has(inode)) wanted.delete(inode);
    for (const pid of pids) {
      if (wanted.size === 0) return;
      if (scanned.has(pid) || this.deniedPids.has(pid)) continue;
      this.scan(pid, scanned);
      for (const inode of this.pidInodes.get(pid)?.keys() ?? []) {
        wanted.delete(inode);
        alsoClear?.delete(inode);
      }
    }
  }

  private scan(pid: number, scanned: Set<number>): void {
    scanned.add(pid);
    const result = readSocketInodes(this.procRoot, pid);
    if (result === null) {
      this.setInodes(pid, new Map());
      return;
    }
    if (result.denied) this.deniedPids.add(pid);
    this.setInodes(pid, result.inodes);
  }

  private setInodes(pid: number, inodes: SocketFds): void {
    const previous = this.pidInodes.get(pid) ?? new Map<number, string>();
    let gained = false;
    // Owner arrays are replaced, never mutated: sockets handed out share them safely.
    for (const inode of previous.keys()) {
      if (inodes.has(inode)) continue;
      const owners = (this.inodeOwners.get(inode) ?? []).filter((p) => p !== pid);
      if (owners.length) this.inodeOwners.set(inode, owners.length === 1 ? this.soleOwner(owners[0]) : owners);
      else this.inodeOwners.delete(inode);
      this.changedInodes.add(inode);
    }
    for (const inode of inodes.keys()) {
      if (previous.has(inode)) continue;
      gained = true;
      this.ownerless.delete(inode);
      const owners = this.inodeOwners.get(inode) ?? [];
      if (owners.includes(pid)) continue;
      this.inodeOwners.set(inode, owners.length === 0 ? this.soleOwner(pid) : [...owners, pid].sort((a, b) => a - b));
      this.changedInodes.add(inode);
    }
    if (inodes.size) this.pidInodes.set(pid, inodes);
    else this.pidInodes.delete(pid);
    if (gained && previous.size > 0) {
      this.recentlyActive = [pid, ...this.recentlyActive.filter((p) => p !== pid)].slice(0, RECENT_LIMIT);
    }
  }

  /** Drops what is known about sockets that left the table. */
  forget(inodes: Iterable<number>): void {
    for (const inode of inodes) {
      this.ownerless.delete(inode);
      const owners = this.inodeOwners.get(inode);
      if (!owners) continue;
      this.inodeOwners.delete(inode);
      this.changedInodes.add(inode);
      for (const pid of owners) this.pidInodes.get(pid)?.delete(inode);
    }
  }
}
