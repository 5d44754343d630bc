// The Linux collector: /proc/net tables + incremental owner resolution + process details.

import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { decodeName } from './utf8';
import { endianness } from 'node:os';
import type { NetNamespace, ProcessInfo, ScanStats, Socket } from '../../shared/contract';
import type { CollectOptions, Collector, Scan } from '../collector';
import { NamespaceNamer } from '../containers/naming';
import type { ByteOrder } from '../addresses';
import {
  MAX_ENTERED_PER_POLL,
  NamespaceSurveyor,
  parseFibTrieLocal,
  parseIfInet6,
  readTablesEntered,
  type NamespaceEntry,
  type TableFile,
} from './namespaces';
import { OwnerResolver } from './owners';
import { InetTableParser, type InetRow, type RowNamespace } from './proc-net';
import { parseUnixCandidates, resolveUnixCandidates, type UnixCandidate, type UnixRow } from './proc-net-unix';
import { ProcessReader } from './processes';
import { RowReconciler } from './row-reconciler';
import { KernelRefusal, SockDiagReader, type DiagDump } from './sock-diag';
import { parseTcpCounters, tcpTablesNeeded, type TcpCounters } from './tcp-counters';

/** A namespace's own addresses are read again after this long (they change when a container restarts). */
const ADDRESSES_KEPT_MS = 10_000;
/** Names of unreadable namespaces listed in stats; the count covers the rest. */
const UNREADABLE_NAMES_LISTED = 8;
/**
 * A namespace's TCP rows are kept while its counters, its processes' fds and its listeners stay
 * the same (the listeners are read alone each poll: the one change the counters cannot see is a
 * listener closed and another opened within one poll, with no packet). They are read in full at
 * least every this many polls regardless (each namespace in its own poll): a safety net.
 */
export const TCP_REREAD_EVERY_POLLS = 300;
/** A namespace that only a bind mount holds and that was empty is entered again every this many polls. */
export const EMPTY_ENTERED_EVERY_POLLS = 5;

const INET_TABLES = [
  { file: 'tcp', protocol: 'tcp', family: 4 },
  { file: 'tcp6', protocol: 'tcp', family: 6 },
  { file: 'udp', protocol: 'udp', family: 4 },
  { file: 'udp6', protocol: 'udp', family: 6 },
] as const;

/**
 * Reads a /proc table into one buffer kept across polls (grown when a table outgrows it): faster
 * than readFileSync, which allocates and copies every poll. The view is valid until the next read.
 */
class TableReader {
  private buffer = Buffer.allocUnsafe(1 << 20);

  /**
   * The header and the leading rows of a table for which `wanted` holds, read a few rows at a time:
   * the kernel formats only what is asked for, so the read stops where those rows end. null when
   * the file cannot be opened.
   */
  readLeading(path: string, wanted: (line: string) => boolean): Buffer | null {
    return this.withFile(path, (fd) => {
      let length = 0;
      let lineStart = 0;
      let header = true;
      for (;;) {
        this.room(length, LEADING_READ);
        const n = readSync(fd, this.buffer, length, LEADING_READ, null);
        if (n === 0) return this.buffer.subarray(0, lineStart);
        length += n;
        for (
          let end = this.buffer.indexOf(10, lineStart);
          end >= 0 && end < length;
          end = this.buffer.indexOf(10, lineStart)
        ) {
          if (!header && !wanted(this.buffer.toString('latin1', lineStart, end)))
            return this.buffer.subarray(0, lineStart);
          header = false;
          lineStart = end + 1;
        }
      }
    });
  }

  /** The file's bytes, or null when it cannot be opened (absent, or its process is gone). */
  read(path: string): Buffer | null {
    return this.withFile(path, (fd) => {
      let length = 0;
      for (;;) {
        this.room(length, 1);
        const n = readSync(fd, this.buffer, length, this.buffer.length - length, null);
        if (n === 0) return this.buffer.subarray(0, length);
        length += n;
      }
    });
  }

  private withFile(path: string, read: (fd: number) => Buffer): Buffer | null {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return null;
    }
    try {
      return read(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Grows the buffer (keeping its first `length` bytes) until `more` bytes fit after them. */
  private room(length: number, more: number): void {
    while (length + more > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(this.buffer.length * 2);
      this.buffer.copy(bigger, 0, 0, length);
      this.buffer = bigger;
    }
  }
}

/** A few /proc/net/tcp rows (~150 bytes each) per read when only the leading ones are wanted. */
const LEADING_READ = 1024;
const NONE = Buffer.alloc(0);

/** A /proc/net/tcp row in state 0A (LISTEN): `sl local remote st …`. */
function isListenerRow(line: string): boolean {
  return line.trim().split(/\s+/, 4)[3] === '0A';
}

function isSocketFile(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

export interface LinuxCollectorOptions {
  procRoot?: string;
  byteOrder?: ByteOrder;
  /** Where bind-mounted namespaces are looked for; [] reads processes' namespaces only. */
  namespaceMountDirs?: string[];
  namer?: NamespaceNamer;
  /**
   * How to read Porthole's own namespace's TCP and UDP tables: `auto` tries netlink sock_diag
   * first and falls back to /proc/net (always so with another procRoot); `proc` reads /proc only.
   */
  engine?: 'auto' | 'proc';
  /**
   * Whether netlink dumps carry each TCP connection's tcp_info (bytes, segments, RTT): on by
   * default; the kernel fills ~230 more bytes per connection.
   */
  traffic?: boolean;
  /**
   * One port's sockets only (`who`, one shot): TCP and UDP sockets with that local or remote port
   * (netlink filters them in the kernel; /proc's rows are filtered here), and no Unix sockets.
   */
  port?: number;
}

/** One namespace's tables this poll, parsed, before they join the others. */
interface NamespaceRows {
  inet: InetRow[];
  unix: UnixCandidate[];
  malformed: number;
  where: RowNamespace | undefined;
}

/** Another namespace's TCP rows as last read, and what they were read under. */
interface KeptTcpRows {
  signature: string;
  /** The namespace's processes then (a process coming or going may bring or take a socket). */
  pids: string;
  name: string | undefined;
  rows: InetRow[];
}

/**
 * How the last scan came by each namespace's TCP rows: tables read (`read`: tcp and tcp6, or the
 * one of them that can hold rows), none needed (`empty`: its counters say it has no TCP socket),
 * `kept` from an earlier read (counters and fds unchanged), or `spared`: held only by a bind mount,
 * empty when last entered, not entered this poll.
 */
export type TcpRowsSource = 'read' | 'empty' | 'kept' | 'spared';

export interface NamespaceReadStats {
  /** tcp and tcp6 tables read (each walks the kernel's shared hash). */
  tcpTablesRead: number;
  /** Namespaces whose TCP rows were kept from an earlier read. */
  tcpKept: number;
  /** Namespaces entered with nsenter. */
  entered: number;
  byNamespace: Map<number, TcpRowsSource>;
}

export class LinuxCollector implements Collector {
  readonly owners: OwnerResolver;
  private readonly processes: ProcessReader;
  private readonly surveyor: NamespaceSurveyor;
  readonly namer: NamespaceNamer;
  /** Each namespace's own addresses, by inode, for telling where a forwarded port leads. */
  private readonly addresses = new Map<number, { at: number; list: string[] }>();
  /** Process details with their container, one object while neither changes. */
  private readonly decorated = new Map<number, { base: ProcessInfo; info: ProcessInfo }>();
  private collectedOnce = false;
  private readonly procRoot: string;
  private readonly byteOrder: ByteOrder;
  private readonly reader = new TableReader();
  private readonly inetParser: InetTableParser;
  // Keyed by inode: socket inodes are unique across every family.
  private readonly inetReconciler = new RowReconciler<InetRow>();
  private readonly unixReconciler = new RowReconciler<UnixRow>();
  /** Whether a scan has attributed its sockets: after it, only those whose owners changed are looked at again. */
  private attributedOnce = false;
  private scanning = false;
  private poll = 0;
  /** The netlink reader for Porthole's own namespace; null: /proc (see engineReason). */
  private diag: SockDiagReader | null = null;
  /** Why the own namespace is read from /proc, when it is; null while netlink serves. */
  engineReason: string | null = null;
  /** Tables whose netlink dump the kernel refused (e.g. no udp_diag module), and why: read from /proc. */
  private readonly diagRefused = new Map<string, string>();
  /** The kernel refused the TCP dump of both families at once: each family is dumped on its own. */
  private oneTcpWalkRefused = false;
  /** Whether this scan read every own-namespace table it needed through netlink. */
  private scanUsedProc = false;
  /** Tables of this scan the kernel changed during every try of their dump (see ScanStats). */
  private interruptedDumps = 0;
  /** When this scan's TCP traffic figures were read (the own namespace's dump); null when they were not. */
  private trafficReadAt: number | null = null;
  private readonly traffic: boolean;
  /** LinuxCollectorOptions.port: the one port scanned, or every socket. */
  private readonly port: number | undefined;
  private readonly keptTcp = new Map<number, KeptTcpRows>();
  /** Bind-mount-only namespaces whose last entry found no socket: inode → that poll. */
  private readonly emptyEntered = new Map<number, number>();
  lastNamespaceReads: NamespaceReadStats = { tcpTablesRead: 0, tcpKept: 0, entered: 0, byNamespace: new Map() };

  constructor(options: LinuxCollectorOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.byteOrder = options.byteOrder ?? endianness();
    this.inetParser = new InetTableParser(this.byteOrder);
    this.owners = new OwnerResolver(this.procRoot);
    this.processes = new ProcessReader(this.procRoot);
    this.surveyor = new NamespaceSurveyor(this.procRoot, options.namespaceMountDirs);
    this.namer = options.namer ?? new NamespaceNamer(this.procRoot);
    this.port = options.port;
    // One port's question (who) asks no traffic: no tcp_info to fill.
    this.traffic = options.port === undefined && (options.traffic ?? true);
    if (options.engine === 'proc') this.engineReason = 'asked to read /proc';
    else if (this.procRoot !== '/proc') this.engineReason = 'reading another /proc';
    else {
      const opening = SockDiagReader.shared();
      if (opening.ok) this.diag = opening.reader;
      else this.engineReason = opening.reason;
    }
  }

  /**
   * One scan, giving the event loop a turn between its phases (each table, the owner lookup): at
   * 100,000 sockets a table read alone takes hundreds of ms, and the poll worker's event drains
   * must keep publishing meanwhile. Each phase is still synchronous: in a worker thread, sync fs
   * calls are the fast path.
   */
  async collect(options: CollectOptions = {}): Promise<Scan> {
    // Container names come from the runtime's API, asked in the background of polls; only the
    // first scan waits for it (a one-shot `snapshot` should name what it shows).
    const directory = this.namer.directory;
    if (directory.due(this.namer.containerIds())) {
      const asked = directory.refresh();
      if (!this.collectedOnce) await asked;
    }
    this.collectedOnce = true;
    const scan = this.scan(options.early);
    for (;;) {
      const step = scan.next();
      if (step.done) return step.value;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The same scan in one go (tests, the CLI's one-shot commands). */
  collectSync(): Scan {
    const scan = this.scan();
    for (;;) {
      const step = scan.next();
      if (step.done) return step.value;
    }
  }

  /** The scan's phases; it yields where a caller may let other work run. One scan at a time. */
  private *scan(early?: CollectOptions['early']): Generator<void, Scan> {
    if (this.scanning) throw new Error('LinuxCollector: a scan is already under way');
    this.scanning = true;
    try {
      return yield* this.scanPhases(early);
    } finally {
      this.scanning = false;
    }
  }

  private *scanPhases(early: CollectOptions['early']): Generator<void, Scan> {
    // scanMs counts the scan's own time, not the turns it gave to others.
    let busyMs = 0;
    let since = performance.now();
    const pause = function* (): Generator<void, void> {
      busyMs += performance.now() - since;
      yield;
      since = performance.now();
    };
    this.poll++;
    this.interruptedDumps = 0;
    this.scanUsedProc = this.diag === null;
    this.trafficReadAt = null;
    this.lastNamespaceReads = { tcpTablesRead: 0, tcpKept: 0, entered: 0, byNamespace: new Map() };
    this.owners.refresh();
    const survey = this.surveyor.survey(this.owners.listedPids, (pid) => this.owners.fdsChanged(pid));
    const namespaces = this.namer.namespacesOf(survey.namespaces);
    const unreadable = new Map<number, string>();
    let malformed = 0;
    // Each namespace's rows as read (not copied into one array: see parseTables).
    const inetParts: InetRow[][] = [];
    const unixTables: { candidates: UnixCandidate[]; where: RowNamespace | undefined }[] = [];
    let entered = 0;
    for (let n = 0; n < survey.namespaces.length; n++) {
      const entry = survey.namespaces[n];
      const where = entry.own ? undefined : { netns: entry.inode, netnsName: namespaces[n].name };
      let read: NamespaceRows | string;
      if (entry.own || entry.pids.length > 0) read = yield* this.readThroughProcess(entry, where, pause);
      else if (this.spareEntry(entry)) {
        read = { inet: [], unix: [], malformed: 0, where };
        this.lastNamespaceReads.byNamespace.set(entry.inode, 'spared');
      } else if (entered++ < MAX_ENTERED_PER_POLL) read = this.readEntered(entry, where);
      else read = `not read: more than ${MAX_ENTERED_PER_POLL} namespaces without a process`;
      if (typeof read === 'string') {
        if (read !== GONE) unreadable.set(entry.inode, read);
        continue;
      }
      inetParts.push(read.inet);
      unixTables.push({ candidates: read.unix, where: read.where });
      malformed += read.malformed;
    }
    for (const ns of namespaces) ns.unreadable = unreadable.get(ns.inode) ?? null;
    const present = new Set(survey.namespaces.map((e) => e.inode));
    for (const inode of this.keptTcp.keys()) if (!present.has(inode)) this.keptTcp.delete(inode);
    for (const inode of this.emptyEntered.keys()) if (!present.has(inode)) this.emptyEntered.delete(inode);
    yield* pause();

    // Inet rows are reconciled before owners are refreshed: proving a skipped row still exists
    // needs last poll's owners. Unix rows are reconciled once their ambiguities are settled.
    const stillHeld = (inode: number) => this.owners.stillHeld(inode);
    const inet = this.inetReconciler.reconcileParts(inetParts, stillHeld);
    const inetRows = inet.rows;
    const previousUnix = this.unixReconciler.previousRows();
    const unixInodes = new Set<number>();
    const fresh = [...inet.fresh];
    const inetByInode = this.inetReconciler.previousRows(); // this poll's, once reconciled
    for (const table of unixTables)
      for (const c of table.candidates) {
        unixInodes.add(c.row.inode);
        if (!previousUnix.has(c.row.inode)) fresh.push(c.row.inode);
      }
    // The rows handed out early are the tracker's from then on: owners go on copies (below).
    const handedOut = early !== undefined && this.owners.ownersAfterTable;
    if (handedOut) {
      const scanMs = busyMs + performance.now() - since;
      const repaired = inet.duplicates + inet.restored;
      early(this.tableWithoutOwners(inetRows, unixTables, { malformed, repaired, scanMs, namespaces, survey }));
      yield* pause();
    }
    this.owners.resolve(
      { fresh, gone: inet.gone, has: (inode) => inetByInode.has(inode) || unixInodes.has(inode) },
      this.listenerOwnersLookup(inetRows),
    );
    yield* pause();

    const seesAllProcesses = this.owners.hiddenProcessCount === 0 && process.getuid?.() === 0;
    // Each namespace's table is its own text: a path never continues into another's rows.
    const resolvedUnixRows: UnixRow[] = [];
    for (const table of unixTables) {
      const { rows } = resolveUnixCandidates(table.candidates, {
        isOwned: (inode) => this.owners.ownersOf(inode).length > 0,
        isSocketFile,
        seesAllProcesses,
      });
      for (const row of rows) {
        if (table.where) {
          row.netns = table.where.netns;
          row.netnsName = table.where.netnsName;
        }
        resolvedUnixRows.push(row);
      }
    }
    const unixReconciled = this.unixReconciler.reconcile(resolvedUnixRows, stillHeld);
    this.owners.forget(unixReconciled.gone);
    // Whose owners to look at again: every new row's, and of last poll's rows those whose inode's
    // owners changed since (OwnerResolver tells them inode by inode).
    const ownersChanged = this.owners.takeChangedInodes();

    const processes = new Map<number, ProcessInfo | null>();
    const infoOf = (pid: number): ProcessInfo | null => {
      let info = processes.get(pid);
      if (info === undefined) {
        info = this.withContainer(this.processes.read(pid));
        processes.set(pid, info);
      }
      return info;
    };
    let unattributed = 0;
    // The reconciled rows' own array (this poll's, used by nothing else from here), Unix rows after.
    const sockets: Socket[] = inetRows;
    for (const row of unixReconciled.rows) sockets.push(unixSocket(row));
    for (let i = 0; i < sockets.length; i++) {
      const socket = sockets[i];
      if (socket.inode === 0) continue; // no fd behind it: TIME_WAIT, or closed by its owner
      const reused = socket.protocol !== 'unix' && !inet.fresh.has(socket.inode);
      if (reused && this.attributedOnce && !ownersChanged.has(socket.inode)) {
        // Last poll's row, attributed then, its owners unchanged since: only note its process, and
        // look again only if that process is gone or renamed (an exec keeps the pid and the fds).
        if (socket.pid === null) {
          unattributed++;
          continue;
        }
        if (infoOf(socket.pid)?.name === socket.processName) continue;
      }
      let pids = this.owners.ownersOf(socket.inode);
      // A pid that exited since its fds were read is dropped: the owner is unknown, not guessed.
      if (pids.length > 0 && pids.some((pid) => infoOf(pid) === null))
        pids = pids.filter((pid) => infoOf(pid) !== null);
      const owner = pids.length > 0 ? infoOf(pids[0]) : null;
      if (!owner) unattributed++;
      const pid = owner?.pid ?? null;
      const processName = owner?.name ?? null;
      if (socket.pid === pid && socket.processName === processName && socket.pids === pids) continue;
      // Last poll's row object (or one handed out early) may be held by the tracker: change a copy,
      // never the original, and keep the copy for the next poll (else a row read unchanged would
      // come back with the old owner).
      const copied = reused || (handedOut && socket.protocol !== 'unix');
      const target = copied ? (sockets[i] = { ...socket }) : socket;
      target.pid = pid;
      target.processName = processName;
      target.pids = pids as number[];
      if (target.protocol === 'unix') target.uid = owner?.uid ?? null;
      else if (copied) this.inetReconciler.replace(target as InetRow);
    }
    this.attributedOnce = true;

    const owners: ProcessInfo[] = [];
    for (const info of processes.values()) if (info) owners.push(info);
    const kept = new Set(processes.keys());
    this.processes.retain(kept);
    for (const pid of this.decorated.keys()) if (!kept.has(pid)) this.decorated.delete(pid);
    this.namer.retain(new Set(this.owners.listedPids));

    const publishedPorts = this.namer.publishedPorts(owners, namespaces, (inode) =>
      this.localAddresses(survey.namespaces.find((e) => e.inode === inode)),
    );
    return {
      sockets,
      processes: owners.sort((a, b) => a.pid - b.pid),
      stats: {
        unattributed,
        malformedRows: malformed,
        ...(this.interruptedDumps > 0 ? { interruptedDumps: this.interruptedDumps } : {}),
        repairedRows: inet.duplicates + inet.restored + unixReconciled.duplicates + unixReconciled.restored,
        hiddenProcesses: this.owners.hiddenProcessCount,
        scanMs: Math.round((busyMs + performance.now() - since) * 10) / 10,
        ...this.namespaceStats(namespaces, survey),
      },
      namespaces,
      publishedPorts,
      ...(this.trafficReadAt === null ? {} : { trafficAt: this.trafficReadAt }),
    };
  }

  /** What the stats say of the namespaces read (their `unreadable` set). */
  private namespaceStats(
    namespaces: NetNamespace[],
    survey: { skipped: number; hiddenPids: number },
  ): Pick<
    ScanStats,
    'namespaces' | 'unreadableNamespaces' | 'unreadableNamespaceNames' | 'hiddenNamespaceProcesses' | 'engine'
  > {
    const unreadableNames = namespaces.filter((ns) => ns.unreadable !== null).map((ns) => ns.name);
    return {
      namespaces: namespaces.length - unreadableNames.length,
      unreadableNamespaces: unreadableNames.length + survey.skipped,
      unreadableNamespaceNames: unreadableNames.slice(0, UNREADABLE_NAMES_LISTED),
      hiddenNamespaceProcesses: survey.hiddenPids,
      engine: this.scanUsedProc ? 'proc' : 'netlink',
    };
  }

  /**
   * The table as read, before owners are looked up (see CollectOptions.early): the inet rows, and
   * the Unix rows of every table that holds no row which might be the tail of a path (a Unix table
   * read from /proc text; those come with owners, once settled). Owners, their processes and the
   * ports they publish are left out, and `stats.ownersPending` says why.
   */
  private tableWithoutOwners(
    inetRows: InetRow[],
    unixTables: { candidates: UnixCandidate[]; where: RowNamespace | undefined }[],
    read: {
      malformed: number;
      repaired: number;
      scanMs: number;
      namespaces: NetNamespace[];
      survey: { skipped: number; hiddenPids: number };
    },
  ): Scan {
    const sockets: Socket[] = [...inetRows];
    for (const table of unixTables) {
      if (table.candidates.some((c) => c.ambiguous)) continue;
      for (const c of table.candidates) sockets.push(unixSocket(table.where ? { ...c.row, ...table.where } : c.row));
    }
    return {
      sockets,
      processes: [],
      stats: {
        unattributed: 0,
        ownersPending: true,
        malformedRows: read.malformed,
        repairedRows: read.repaired,
        ...(this.interruptedDumps > 0 ? { interruptedDumps: this.interruptedDumps } : {}),
        hiddenProcesses: 0,
        scanMs: Math.round(read.scanMs * 10) / 10,
        ...this.namespaceStats(read.namespaces, read.survey),
      },
      namespaces: read.namespaces,
      ...(this.trafficReadAt === null ? {} : { trafficAt: this.trafficReadAt }),
    };
  }

  /**
   * A namespace's tables through one of its processes (/proc/<pid>/net), trying the next when one
   * exits mid-read or has moved to another namespace since the survey: the rows are then not its.
   */
  private *readThroughProcess(
    entry: NamespaceEntry,
    where: RowNamespace | undefined,
    pause: Pause,
  ): Generator<void, NamespaceRows | string> {
    // Porthole's own namespace too keeps its TCP rows while nothing that moves one happened: at
    // 50,000 sockets the kernel's dump alone (its walk of the hash, tcp_info for each) is ~55–75 ms.
    if (entry.own) {
      const rows = yield* this.readWithCounters(entry, `${this.procRoot}/net`, where, pause, this.diag);
      return rows ?? GONE;
    }
    for (const pid of entry.pids.slice(0, 4)) {
      const rows = yield* this.readWithCounters(entry, `${this.procRoot}/${pid}/net`, where, pause, null);
      if (!rows || this.surveyor.namespaceOf(pid) !== entry.inode) continue;
      return rows;
    }
    return entry.mounts.length > 0 ? this.readEntered(entry, where) : GONE;
  }

  /**
   * A namespace's tables, its TCP rows kept from the last read when its counters say nothing that
   * moves a TCP row has happened since (see keptTcpRows); null when the tables could not be read.
   */
  private *readWithCounters(
    entry: NamespaceEntry,
    base: string,
    where: RowNamespace | undefined,
    pause: Pause,
    diag: SockDiagReader | null,
  ): Generator<void, NamespaceRows | null> {
    // Counters first: a table read after them holds every change they count.
    const counters = this.readTcpCounters(base);
    const needed = tcpTablesNeeded(counters);
    let keptTcp = this.keptTcpRows(entry, where, counters);
    if (keptTcp && !this.sameListeners(keptTcp, needed, base, diag)) keptTcp = null;
    const plan = { ...needed, keptTcp, diag };
    const rows = yield* this.readTables(base, where, entry.own, pause, plan);
    if (!rows) return null;
    this.noteTcpSource(entry.inode, plan);
    if (keptTcp) this.lastNamespaceReads.tcpKept++;
    else if (counters)
      this.keptTcp.set(entry.inode, {
        signature: counters.signature,
        pids: entry.pids.join(','),
        name: where?.netnsName,
        rows: rows.inet, // its UDP rows too: TCP ones are picked if the rows are ever kept (no copy a poll)
      });
    else this.keptTcp.delete(entry.inode);
    return rows;
  }

  private noteTcpSource(inode: number, plan: TablePlan): void {
    const source = plan.keptTcp ? 'kept' : plan.tcp || plan.tcp6 ? 'read' : 'empty';
    this.lastNamespaceReads.byNamespace.set(inode, source);
  }

  private readTcpCounters(base: string): TcpCounters | null {
    const text = (file: string) => this.reader.read(`${base}/${file}`)?.toString('latin1') ?? '';
    return parseTcpCounters(text('sockstat'), text('sockstat6'), text('snmp'));
  }

  /**
   * Last read's TCP rows of a namespace, when nothing that moves a TCP row (or its traffic
   * figures) can have happened there since: same counters, same processes, none of whose fds
   * changed, same name; and this is not the namespace's poll for reading anyway. null: read the tables.
   */
  private keptTcpRows(
    entry: NamespaceEntry,
    where: RowNamespace | undefined,
    counters: TcpCounters | null,
  ): InetRow[] | null {
    const kept = this.keptTcp.get(entry.inode);
    if (!kept || !counters || kept.signature !== counters.signature || kept.name !== where?.netnsName) return null;
    if ((this.poll + entry.inode) % TCP_REREAD_EVERY_POLLS === 0) return null;
    if (kept.pids !== entry.pids.join(',') || entry.pids.some((pid) => this.owners.fdsChanged(pid))) return null;
    // What a read would have given: last poll's object for a socket with an inode (unchanged, so
    // the parser would hand it back); a TIME_WAIT row as it was (nothing changes one).
    const previous = this.inetReconciler.previousRows();
    const rows: InetRow[] = [];
    for (const row of kept.rows)
      if (row.protocol === 'tcp') rows.push(row.inode === 0 ? row : (previous.get(row.inode) ?? row));
    return rows;
  }

  /**
   * Whether the listeners now are the kept rows' listeners (by inode). Closing a listener and
   * opening another within one poll sends no segment and keeps the socket count: the one change
   * the counters cannot see (a dev server re-listening in its own process). Listeners alone are
   * cheap to list: netlink asks the kernel for its listening hash only, and /proc/net/tcp prints
   * them first, so its read stops at the first row that is not one (the connections' hash, which
   * every namespace shares, is hardly walked).
   */
  private sameListeners(
    kept: InetRow[],
    needed: { tcp: boolean; tcp6: boolean },
    base: string,
    diag: SockDiagReader | null,
  ): boolean {
    const keptListeners = new Set<number>();
    for (const row of kept) if (row.state === 'LISTEN') keptListeners.add(row.inode);
    let count = 0;
    try {
      for (const family of [4, 6] as const) {
        if (!(family === 4 ? needed.tcp : needed.tcp6)) continue;
        const file = family === 4 ? 'tcp' : 'tcp6';
        const listeners = diag
          ? diag.dump('tcp', family, undefined, false, 'listening').rows
          : this.inetParser.parse(this.reader.readLeading(`${base}/${file}`, isListenerRow) ?? NONE, 'tcp', family)
              .rows;
        for (const row of listeners) {
          if (row.state !== 'LISTEN' || !keptListeners.has(row.inode)) return false;
          count++;
        }
      }
    } catch {
      return false; // the full read decides (and says why, if the kernel refuses it too)
    }
    return count === keptListeners.size;
  }

  /** A bind-mount-only namespace found empty is entered again only in its own poll of every few. */
  private spareEntry(entry: NamespaceEntry): boolean {
    return this.emptyEntered.has(entry.inode) && (this.poll + entry.inode) % EMPTY_ENTERED_EVERY_POLLS !== 0;
  }

  /** A namespace that only a bind mount holds: entered for this read. */
  private readEntered(entry: NamespaceEntry, where: RowNamespace | undefined): NamespaceRows | string {
    const mount = entry.mounts[0];
    if (!mount) return GONE;
    this.lastNamespaceReads.entered++;
    this.lastNamespaceReads.byNamespace.set(entry.inode, 'read');
    const result = readTablesEntered(mount.path);
    if ('error' in result) return result.error;
    const rows = this.collectSyncOf(
      this.parseTables((file) => result.tables.get(file) ?? Buffer.alloc(0), where, null, ALL_TABLES),
    );
    if (rows.inet.length === 0 && rows.unix.length === 0 && entry.pids.length === 0)
      this.emptyEntered.set(entry.inode, this.poll);
    else this.emptyEntered.delete(entry.inode);
    return rows;
  }

  private collectSyncOf<T>(phases: Generator<void, T>): T {
    for (;;) {
      const step = phases.next();
      if (step.done) return step.value;
    }
  }

  /** The five tables under one /proc net folder; null when one cannot be opened (its process left). */
  private *readTables(
    base: string,
    where: RowNamespace | undefined,
    own: boolean,
    pause: Pause,
    plan: TablePlan,
  ): Generator<void, NamespaceRows | null> {
    let lost = false;
    const rows = yield* this.parseTables(
      (file) => {
        const data = this.reader.read(`${base}/${file}`);
        // Porthole's own: an absent table is an empty one (no IPv6 in this kernel).
        if (data === null && !own) lost = true;
        return data ?? Buffer.alloc(0);
      },
      where,
      pause,
      plan,
    );
    return lost ? null : rows;
  }

  /** Parses one namespace's tables; a big table gives the event loop a turn after it (see collect()). */
  private *parseTables(
    read: (file: TableFile) => Buffer,
    where: RowNamespace | undefined,
    pause: Pause | null,
    plan: TablePlan,
  ): Generator<void, NamespaceRows> {
    const rows: NamespaceRows = { inet: [], unix: [], malformed: 0, where };
    if (plan.keptTcp) for (let i = 0; i < plan.keptTcp.length; i++) rows.inet.push(plan.keptTcp[i]);
    const bothTcp = plan.keptTcp ? null : yield* this.dumpBothTcpTables(plan, pause);
    if (bothTcp) {
      // The dump's own array, when it comes first: a poll's arrays of every row outlive the turns
      // it gives the event loop, and each copy is promoted to the old generation, a MB a 100,000 rows.
      if (rows.inet.length === 0) rows.inet = bothTcp.rows;
      else for (let i = 0; i < bothTcp.rows.length; i++) rows.inet.push(bothTcp.rows[i]);
      rows.malformed += bothTcp.malformed;
      if (pause && bothTcp.rows.length > YIELD_AFTER_ROWS) yield* pause();
    }
    for (const table of INET_TABLES) {
      if (table.protocol === 'tcp') {
        if (plan.keptTcp) continue;
        if (!plan[table.file]) continue;
        this.lastNamespaceReads.tcpTablesRead++;
        if (bothTcp) continue; // read above
      }
      const parsed = this.dumpOrParse(table, read, where, plan.diag);
      for (let i = 0; i < parsed.rows.length; i++) rows.inet.push(parsed.rows[i]);
      rows.malformed += parsed.malformed;
      if (pause && parsed.rows.length > YIELD_AFTER_ROWS) yield* pause();
    }
    const unix = this.unixDumpOrParse(read, where, plan.diag);
    rows.unix = unix.candidates;
    rows.malformed += unix.malformed;
    return rows;
  }

  /**
   * The Unix table: through netlink when given (each row is the kernel's own, never text that a
   * hostile path could shape like a row), else /proc/net/unix, whose rows are proven later.
   */
  private unixDumpOrParse(
    read: (file: TableFile) => Buffer,
    where: RowNamespace | undefined,
    diag: SockDiagReader | null,
  ): { candidates: UnixCandidate[]; malformed: number } {
    if (this.port !== undefined) return { candidates: [], malformed: 0 }; // a port has no Unix sockets
    if (diag && !this.diagRefused.has('unix')) {
      try {
        const dump = diag.dumpUnix();
        if (dump.interrupted) this.interruptedDumps++;
        return {
          candidates: dump.rows.map((row) => ({ row, slot: '', text: '', ambiguous: false })),
          malformed: dump.malformed,
        };
      } catch (error) {
        this.refuseDiag('unix', error as Error);
      }
    }
    if (!where) this.scanUsedProc = true;
    // UTF-8 (paths as the file system holds them), invalid bytes as \xNN: as the netlink engine reads them.
    return parseUnixCandidates(decodeName(read('unix')));
  }

  /** Notes that the kernel refused a table's dump: it is read from /proc from now on, and why is said. */
  private refuseDiag(table: string, error: Error): void {
    this.diagRefused.set(table, error.message);
    this.engineReason = `the kernel refused netlink dumps: ${[...this.diagRefused].map(([t, why]) => `${t} (${why})`).join(', ')}`;
  }

  /**
   * Both TCP tables in one walk of the kernel's table (SockDiagReader.dumpTcp), when netlink reads
   * them whole; null: each is read on its own (a port's dump, /proc, or a kernel without the
   * request, which is then not asked again).
   */
  private *dumpBothTcpTables(plan: TablePlan, pause: Pause | null): Generator<void, DiagDump | null> {
    const diag = plan.diag;
    if (!diag || this.port !== undefined || this.oneTcpWalkRefused) return null;
    if (!(plan.tcp || plan.tcp6) || this.diagRefused.has('tcp') || this.diagRefused.has('tcp6')) return null;
    try {
      // In steps: the event loop gets turns while a big table is read (see dumpTcpInSteps).
      const steps = diag.dumpTcpInSteps(this.inetReconciler.previousRows(), this.traffic);
      let dump: DiagDump;
      try {
        for (;;) {
          const step = steps.next();
          if (step.done) {
            dump = step.value;
            break;
          }
          if (pause) yield* pause();
        }
      } finally {
        steps.return(undefined as never); // a scan given up on mid-dump: the reader reads the rest
      }
      this.noteDump(dump, 'tcp');
      return dump;
    } catch (error) {
      // Refused: not asked again (each family's own dump says why, if it is refused too). Another
      // failure (a read timed out on a stalled host) costs this poll the second walk only.
      if (error instanceof KernelRefusal) this.oneTcpWalkRefused = true;
      return null;
    }
  }

  /** What a netlink dump tells the scan: whether the kernel interrupted it, when TCP traffic was read. */
  private noteDump(dump: DiagDump, protocol: 'tcp' | 'udp'): void {
    if (dump.interrupted) this.interruptedDumps++;
    // Rates are bytes over the time between two readings: the time of the reading itself, not
    // of the end of a scan whose other steps (owners, namespaces) take longer on a busy host.
    if (protocol === 'tcp' && this.traffic) this.trafficReadAt = Date.now();
  }

  /** One inet table: through netlink when given (and the kernel answers), else its /proc text. */
  private dumpOrParse(
    table: (typeof INET_TABLES)[number],
    read: (file: TableFile) => Buffer,
    where: RowNamespace | undefined,
    diag: SockDiagReader | null,
  ): { rows: InetRow[]; malformed: number } {
    const previous = this.inetReconciler.previousRows();
    if (diag && !this.diagRefused.has(table.file)) {
      try {
        const dump = diag.dump(table.protocol, table.family, previous, this.traffic, 'all', this.port);
        this.noteDump(dump, table.protocol);
        return dump;
      } catch (error) {
        this.refuseDiag(table.file, error as Error);
      }
    }
    if (!where) this.scanUsedProc = true; // Porthole's own namespace, read from /proc
    const parsed = this.inetParser.parse(read(table.file), table.protocol, table.family, previous, where);
    const port = this.port;
    if (port === undefined) return parsed;
    return { ...parsed, rows: parsed.rows.filter((row) => row.localPort === port || row.remotePort === port) };
  }

  /** A namespace's own addresses (cached): where a forwarder's target address lives. */
  private localAddresses(entry: NamespaceEntry | undefined): readonly string[] {
    if (!entry || entry.pids.length === 0) return [];
    const now = performance.now();
    const cached = this.addresses.get(entry.inode);
    if (cached && now - cached.at < ADDRESSES_KEPT_MS) return cached.list;
    const base = `${this.procRoot}/${entry.pids[0]}/net`;
    const list = [
      ...parseFibTrieLocal(this.reader.read(`${base}/fib_trie`)?.toString('latin1') ?? ''),
      ...parseIfInet6(this.reader.read(`${base}/if_inet6`)?.toString('latin1') ?? ''),
    ];
    if (this.addresses.size > 1024) this.addresses.clear();
    this.addresses.set(entry.inode, { at: now, list });
    return list;
  }

  /** Process details with the container they run in, one object while neither changes. */
  private withContainer(base: ProcessInfo | null): ProcessInfo | null {
    if (!base) return null;
    const container = this.namer.containerOf(base.pid);
    if (!container) return base;
    const known = this.decorated.get(base.pid);
    if (known && known.base === base && known.info.container === container) return known.info;
    const info = { ...base, container };
    this.decorated.set(base.pid, { base, info });
    return info;
  }

  /**
   * New connections on a listening port are most likely held by the listener's owner. Built on
   * first use: in a steady state no inode is unknown and this costs nothing.
   */
  private listenerOwnersLookup(rows: InetRow[]): (inode: number) => readonly number[] {
    let lookup: ((inode: number) => readonly number[]) | null = null;
    return (inode) => {
      if (!lookup) {
        const byPort = new Map<string, readonly number[]>();
        const portOf = new Map<number, string>();
        for (const row of rows) {
          const owners = row.state === 'LISTEN' ? this.owners.ownersOf(row.inode) : [];
          if (owners.length) byPort.set(`${row.protocol}:${row.localPort}`, owners);
          else if (row.state !== 'LISTEN') portOf.set(row.inode, `${row.protocol}:${row.localPort}`);
        }
        lookup = (i) => byPort.get(portOf.get(i) ?? '') ?? [];
      }
      return lookup(inode);
    };
  }
}

/** Gives the event loop a turn, keeping the scan's own time apart from the turns it gave. */
type Pause = () => Generator<void, void>;
/** A table this long takes milliseconds to parse: a turn is given to other work after it. */
const YIELD_AFTER_ROWS = 2_000;

/** Which of a namespace's TCP tables to read, or the rows kept in their place; and how to read them. */
interface TablePlan {
  tcp: boolean;
  tcp6: boolean;
  keptTcp: InetRow[] | null;
  /** Netlink for Porthole's own namespace; null: its /proc text. */
  diag: SockDiagReader | null;
}
const ALL_TABLES: TablePlan = { tcp: true, tcp6: true, keptTcp: null, diag: null };

/** A namespace that was there at the survey and is gone now: normal, not a loss. */
const GONE = 'gone';

function unixSocket(row: UnixRow): Socket {
  const socket: Socket = {
    protocol: 'unix',
    family: null,
    localAddress: row.path ?? '',
    localPort: null,
    remoteAddress: null,
    remotePort: null,
    state: row.state,
    pid: null,
    processName: null,
    uid: null,
    inode: row.inode,
    pids: [],
    lastPid: null,
  };
  if (row.netns !== undefined) {
    socket.netns = row.netns;
    socket.netnsName = row.netnsName;
  }
  if (row.type) socket.unixType = row.type;
  if (row.peer !== undefined) socket.peerInode = row.peer;
  return socket;
}
