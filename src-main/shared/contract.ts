// The one contract shared by the engine, the hosts, the export format and the renderer.
// Pure types and constants: no Node, no DOM, no Electron (importable everywhere).

/** TCP states by their netstat / RFC 793 names, indexed by the kernel's numeric state (1-based). */
export const TCP_STATES = [
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
] as const;
export type TcpState = (typeof TCP_STATES)[number];

/**
 * A UDP or Unix datagram socket has no connection: it is either bound (`UNCONN`) or has a default
 * peer, which the kernel (and `ss`) reports as `ESTABLISHED`.
 */
export type SocketState = TcpState | 'UNCONN';
export const SOCKET_STATES: readonly SocketState[] = [...TCP_STATES, 'UNCONN'];

export type Protocol = 'tcp' | 'udp' | 'unix';
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'unix'];

/** 4 or 6 for inet sockets; null for Unix sockets. IPv4-mapped IPv6 addresses keep family 6. */
export type Family = 4 | 6 | null;

/** One endpoint instance in the kernel's socket table. */
export interface Socket {
  protocol: Protocol;
  family: Family;
  /** As the kernel has it; for Unix sockets the bound path, `@name` for abstract ones, '' if unbound. */
  localAddress: string;
  localPort: number | null;
  /** null for listeners, unconnected UDP and Unix sockets. */
  remoteAddress: string | null;
  remotePort: number | null;
  state: SocketState;
  /** The owning process (the lowest pid when several share the socket); null when unknown, never a guess. */
  pid: number | null;
  processName: string | null;
  /** The socket's owner uid as the kernel reports it (inet), or the owning process's uid (Unix). */
  uid: number | null;
  /** 0 once the socket has no file behind it (TIME_WAIT, or closed by its owner). */
  inode: number;
  /** Every process holding the socket (fork, inherited fd), sorted; empty when unknown. */
  pids: number[];
  /** The last process seen owning it, kept once the owner is gone (TIME_WAIT); null otherwise. */
  lastPid: number | null;
  /**
   * The inode of the network namespace the socket lives in, when that is not Porthole's own (a
   * container, an `ip netns`): the same 4-tuple can exist once in each namespace. Absent for
   * Porthole's own namespace, and where the OS has only one.
   */
  netns?: number;
  /** That namespace's name (see NetNamespace.name); present exactly when `netns` is. */
  netnsName?: string;
  /** A Unix socket's type (absent for inet sockets). */
  unixType?: UnixType;
  /** The inode of a connected Unix socket's other end, where the kernel says it (netlink). */
  peerInode?: number;
  /**
   * What a TCP connection has carried (Linux, read through netlink): absent where it cannot be
   * read (/proc engine, other namespaces, TIME_WAIT, other OSes). A change of it alone is not a
   * change of the socket: the stream carries it apart, in `Delta.traffic`.
   */
  traffic?: TcpTraffic;
  /**
   * The other Porthole it was read on (`serve --source NAME=URL`), by that source's name; absent
   * for the machine the viewer's own host runs on. Set by the host that merges sources, never
   * taken from a source (nor from a file).
   */
  host?: string;
}

export type UnixType = 'stream' | 'dgram' | 'seqpacket';
export const UNIX_TYPES: readonly UnixType[] = ['stream', 'dgram', 'seqpacket'];

/** A TCP connection's counters as the kernel keeps them (tcp_info), and the rates between two readings. */
export interface TcpTraffic {
  /**
   * Bytes sent and acknowledged by the peer (tcpi_bytes_acked), as the kernel counts them: its
   * SYN and FIN, once acknowledged, count one each (a client that sent 100,000 bytes shows 100,001).
   */
  bytesAcked: number;
  /** Bytes received (tcpi_bytes_received). */
  bytesReceived: number;
  segmentsOut: number;
  segmentsIn: number;
  /** Segments retransmitted over the connection's life (tcpi_total_retrans). */
  retransmits: number;
  /** Smoothed round-trip time in milliseconds; null when the kernel has none yet. */
  rttMs: number | null;
  /** The kernel's latest delivery-rate estimate, bytes/s (tcpi_delivery_rate); null on kernels before 4.9. */
  deliveryRate: number | null;
  /** Bytes/s acknowledged and received since the previous reading; null at the first reading. */
  sendRate: number | null;
  receiveRate: number | null;
}

/** A connection's new traffic figures (the socket is otherwise unchanged). */
export interface TrafficUpdate {
  key: SocketKey;
  traffic: TcpTraffic;
}

/** The key of a socket's identity: see track/identity.ts. */
export type SocketKey = string;

/** A container, named by its runtime (cgroup path) and, where readable, the runtime's own API or state. */
export interface ContainerInfo {
  /** docker, podman, containerd, cri-o, kubernetes, lxc, nspawn; docker-proxy for Docker's forwarder. */
  runtime: string;
  /** The container id (12 hex digits) or, for lxc and nspawn, the machine name. */
  id: string;
  /** The container's name, from the runtime; absent when the runtime could not be asked. */
  name?: string;
  image?: string;
  /** Kubernetes: the pod and its namespace. */
  pod?: string;
  podNamespace?: string;
}

/** One network namespace: its own sockets, addresses and ports. */
export interface NetNamespace {
  /** The inode of /proc/<pid>/ns/net: unique on the machine while the namespace exists. */
  inode: number;
  /**
   * What to call it: 'host' for Porthole's own, else an `ip netns` name, a container's name (or a
   * pod's namespace/name), a runtime and short id, and failing all, `net:[inode]`.
   */
  name: string;
  /** Porthole's own namespace (its sockets carry no `netns`). */
  own: boolean;
  /** Names it is bind-mounted under (`ip netns`: /run/netns/<name>; Docker's sandboxes). */
  mounts: string[];
  /** The containers whose processes are in it (a pod's containers share one). */
  containers: ContainerInfo[];
  /** Processes in it that Porthole can see; 0 for one held only by a bind mount. */
  processCount: number;
  /** Why its sockets could not be read (not permitted…); null when they were. */
  unreadable: string | null;
}

/** A host port that the container runtime forwards into a namespace (`docker run -p`). */
export interface PublishedPort {
  protocol: 'tcp' | 'udp';
  hostAddress: string;
  hostPort: number;
  /** The namespace it leads into, when known; null when the target address is in no namespace Porthole reads. */
  netns: number | null;
  /** The address and port inside; address null when the runtime did not say. */
  address: string | null;
  port: number;
  container: ContainerInfo | null;
  /** Where Porthole learnt it: the forwarder's command line, or the runtime's API. */
  via: 'docker-proxy' | 'docker' | 'podman';
}

export interface ProcessInfo {
  pid: number;
  /** Parent pid; null when unknown. */
  ppid: number | null;
  name: string;
  /** The full command line, arguments joined by spaces; '' for kernel threads or when hidden. */
  command: string;
  user: string | null;
  uid: number | null;
  /** ISO 8601; null when unknown. */
  startedAt: string | null;
  /** null when not permitted to see it. */
  cwd: string | null;
  /** The container it runs in, when it is not Porthole's own (Linux). */
  container?: ContainerInfo;
  /**
   * Its parent, the parent's parent…, nearest first, at most MAX_PARENTS, up to (not including)
   * pid 1: "node ← npm run dev ← zsh". Absent when unknown.
   */
  parents?: ProcessParent[];
}

export interface ProcessParent {
  pid: number;
  name: string;
}

/** Parents kept per process: enough for "server ← npm ← shell ← terminal". */
export const MAX_PARENTS = 4;

export interface HostInfo {
  hostname: string;
  platform: string;
  release: string;
}

export const SCAN_ENGINES = ['netlink', 'proc', 'iphlpapi', 'lsof', 'systeminformation'] as const;
export type ScanEngine = (typeof SCAN_ENGINES)[number];

/** What one scan of the socket table found besides the sockets: the evidence for what is missing. */
export interface ScanStats {
  /** Sockets with a file behind them (inode ≠ 0) whose owner could not be seen: not permitted, or gone. */
  unattributed: number;
  /** Rows of the kernel's tables that did not parse and were skipped. */
  malformedRows: number;
  /**
   * Rows the kernel's table reader gave twice or skipped while the table changed under it, repaired
   * (duplicates dropped; skipped rows restored when their fd proves they still exist).
   */
  repairedRows: number;
  /**
   * Tables whose netlink dump the kernel said was interrupted (the table changed under it) on every
   * try: kept as read, they may miss or repeat a socket that moved meanwhile. Absent when none.
   */
  interruptedDumps?: number;
  /**
   * A table rebuilt from the history: connections of that minute the history kept only as a
   * count (past its budget of connections a minute), so not in the table. Absent when none.
   */
  foldedConnections?: number;
  /**
   * The table was sent before its owners were looked up (the first scan: finding them reads every
   * process's open files, the long part): every socket's `pid` is null for now, "resolving", not
   * unseen; the next delta fills them in. Absent once owners are looked up.
   */
  ownersPending?: true;
  /** Processes that could not be inspected (not permitted). */
  hiddenProcesses: number;
  /** Wall time of the scan in milliseconds. */
  scanMs: number;
  /** Network namespaces whose sockets were read (Linux; absent elsewhere: one namespace). */
  namespaces?: number;
  /**
   * Namespaces whose sockets could not be read (not permitted, entry failed), and the names of
   * the first few: their sockets are missing from the table, which says so.
   */
  unreadableNamespaces?: number;
  unreadableNamespaceNames?: string[];
  /** Processes whose namespace could not be told (not permitted): their namespace may be missing. */
  hiddenNamespaceProcesses?: number;
  /**
   * How the table was read: on Linux (Porthole's own namespace's TCP, UDP and Unix tables)
   * `netlink` (sock_diag, as `ss` does) or `proc` (/proc/net text, where netlink is unavailable);
   * on Windows `iphlpapi` (its owner-pid tables, as TCPView reads them); on macOS `lsof` (its
   * field output); elsewhere `systeminformation` (netstat's output, the fallback of last resort).
   */
  engine?: ScanEngine;
}

/** Stats of a table no scan has described yet (before the first poll, or a replayed moment). */
export function emptyStats(): ScanStats {
  return { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 0 };
}

/** One reading of the socket table with the owners a collector could see. */
export interface Scan {
  sockets: Socket[];
  /** The owners of the sockets, one entry per pid. */
  processes: ProcessInfo[];
  stats: ScanStats;
  /** Every network namespace read or seen (Linux). */
  namespaces?: NetNamespace[];
  publishedPorts?: PublishedPort[];
  /**
   * Wall-clock ms when the traffic figures were read (the TCP dump), where it was: rates are
   * computed between readings, not between the ends of scans of varying length.
   */
  trafficAt?: number;
}

export const SNAPSHOT_FORMAT = 'porthole.snapshot';
export const SNAPSHOT_VERSION = 1;

/** The public, versioned export format (docs/format.md). */
export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  version: typeof SNAPSHOT_VERSION;
  takenAt: string;
  host: HostInfo;
  sockets: Socket[];
  processes: ProcessInfo[];
  stats: ScanStats;
  /** The network namespaces the sockets live in (absent: one namespace, or not known). */
  namespaces?: NetNamespace[];
  /** Host ports forwarded into containers. */
  publishedPorts?: PublishedPort[];
  /** Whether kernel events were recorded where the snapshot was taken (absent: not known). */
  eventMode?: EventMode;
  /**
   * Connections that ended before the snapshot, each with its kernel chain (event mode): also the
   * ones shorter than a poll, which the socket table never held. Absent when none were recorded.
   */
  chains?: ConnectionChain[];
}

/** The columns of every tabular export, in order: one source for CSV and text. */
export const SOCKET_COLUMNS = [
  'protocol',
  'family',
  'localAddress',
  'localPort',
  'remoteAddress',
  'remotePort',
  'state',
  'pid',
  'processName',
  'uid',
  'inode',
  'pids',
  'lastPid',
  'netns',
  'netnsName',
  'unixType',
  'peerInode',
] as const satisfies readonly (keyof Socket)[];

/** The traffic columns after them (empty where a socket has no traffic figures). */
export const TRAFFIC_COLUMNS = [
  'bytesAcked',
  'bytesReceived',
  'sendRate',
  'receiveRate',
  'segmentsOut',
  'segmentsIn',
  'retransmits',
  'rttMs',
  'deliveryRate',
] as const satisfies readonly (keyof TcpTraffic)[];

export interface SocketChange {
  key: SocketKey;
  /** Only the fields that changed, with their previous values. */
  from: Partial<Socket>;
  to: Socket;
}

export interface ChainStep {
  state: TcpState | 'CLOSED';
  /** Wall-clock ms. */
  at: number;
}

/** A connection's life as the kernel's events told it (event mode), also one shorter than a poll. */
export interface ConnectionChain {
  /** The socket's identity (track/identity.ts): `tcp|local|remote`. */
  key: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** The task that made the first change (for a client, the process that connected). */
  pid: number;
  steps: ChainStep[];
  /** Whether the chain was seen from its beginning (connect or accept) to its end. */
  complete: boolean;
}

/** Whether every TCP state change is recorded (kernel events), or only what polls see. */
export interface EventMode {
  active: boolean;
  /** Why not, when inactive (not root, no tracefs …). */
  reason: string | null;
  /**
   * Kernel events lost since recording began (the kernel's buffer was full): the connections they
   * belonged to are missing or incomplete. Absent where none was counted (older files).
   */
  lost?: number;
  /**
   * True while the reader of the kernel's events has ended or stopped answering and is being
   * started again: events go unread meanwhile (`reason` says what happened). Absent otherwise.
   */
  interrupted?: boolean;
}

/** One step of the delta stream: strictly increasing `seq`. */
export interface Delta {
  seq: number;
  /**
   * The seq this delta applies on top of: `seq - 1`, or earlier when a slow subscriber was sent
   * several deltas coalesced into one. A subscriber whose own seq differs has missed something.
   */
  since: number;
  /** ISO 8601 time of the scan that produced it. */
  at: string;
  added: Socket[];
  removed: SocketKey[];
  changed: SocketChange[];
  /**
   * Connections whose traffic figures changed and nothing else (an added or changed socket carries
   * its own). Applied after `changed`.
   */
  traffic?: TrafficUpdate[];
  /** Processes first seen (or changed) since the previous delta. */
  processes: ProcessInfo[];
  /**
   * Pids no longer among the table's processes since the previous delta (the process exited, or
   * owns no socket now): a consumer drops them, so its processes are the host's, not every pid it
   * was ever sent. Never also in `processes`; absent when none went.
   */
  processesGone?: number[];
  stats: ScanStats;
  /** Connections that ended since the previous delta, with their whole chain (event mode only). */
  chains?: ConnectionChain[];
  /**
   * Finished connections this subscriber was not sent since its previous delta: it fell behind and
   * they were past what is kept for it. Counted once, in the next delta it gets.
   */
  chainsDropped?: number;
  eventMode?: EventMode;
  /** The namespaces and published ports, whole, when they changed since the previous delta. */
  namespaces?: NetNamespace[];
  publishedPorts?: PublishedPort[];
}

/** The whole state at `seq`: what a subscriber starts from, or resyncs to after a gap. */
export interface Resync {
  seq: number;
  at: string;
  sockets: Socket[];
  processes: ProcessInfo[];
  stats: ScanStats | null;
  namespaces?: NetNamespace[];
  publishedPorts?: PublishedPort[];
  eventMode?: EventMode;
  /** How often the host polls now (ms), so a viewer shows the real setting. */
  intervalMs?: number;
}

/** The kernel's largest pid (PID_MAX_LIMIT on 64-bit): every pid read from outside is checked against it. */
export const PID_MAX = 4_194_304;

/**
 * A token a user gives Porthole (serve's, a source's): URL-safe, since it travels in a URL's query
 * and a WebSocket header, and long enough not to be guessed.
 */
export const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,512}$/;

/** A source's name: what the host column shows; short, and safe in a key, a URL or a file name. */
export const HOST_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

/**
 * How a source (another Porthole, `serve --source`) is doing: `connected`; `connecting` (never read
 * yet); `stale` (its last table is shown, but it has gone silent or its connection was lost: being
 * retried); `refused` (it refused Porthole — wrong token, full — or sent what Porthole refuses);
 * `unreachable` (nothing answers there).
 */
export type HostState = 'connecting' | 'connected' | 'stale' | 'refused' | 'unreachable';

export interface HostStatus {
  name: string;
  /** Where it is read from, without its token. */
  url: string;
  state: HostState;
  /** Why it is not connected, in a sentence; null while connected. */
  reason: string | null;
  /** ISO time Porthole last heard from it (a message or a pong); null before the first. */
  lastHeardAt: string | null;
  /** Sockets in its table as last read. */
  sockets: number;
  /** Messages from it that were refused (each one cost that connection), since Porthole started. */
  refused: number;
}

/** The hosts a viewer sees: this machine's name, and every source. */
export interface HostsStatus {
  local: string;
  sources: HostStatus[];
}

/**
 * How the poll loop (the worker thread, or the privileged helper process) is doing, as its host sees
 * it: `running`; `stalled` (no word from it for a while: stopped, or stuck); `restarting` (it ended
 * and is being started again); `failed` (it ended too often and is not started again). While it is
 * not running the table shown is the last one read, as of `lastHeardAt`.
 */
export interface LoopStatus {
  state: 'running' | 'stalled' | 'restarting' | 'failed';
  /** The loop's kind: the privileged helper, or the poll worker thread. */
  kind: 'worker' | 'helper';
  /** When the loop last said anything (ISO time); null before it first has. */
  lastHeardAt: string | null;
  /** Times it ended and was started again since the host started, and the last time. */
  restarts: number;
  lastRestartAt: string | null;
  /** One sentence for people: what happened, what Porthole does about it. */
  message: string | null;
}

/**
 * The host's flight recorder: `recording`; `paused` (it cannot write: a full disk, say; tried
 * again each minute, the live view goes on); `unavailable` (the file cannot be opened: a read-only
 * folder, another recorder on it); `off` (turned off, or a host without a history).
 */
export interface HistoryStatus {
  state: 'recording' | 'paused' | 'unavailable' | 'off';
  path: string | null;
  /** Why, when not recording. */
  message: string | null;
}

/** What the engine streams to one subscriber, whatever the transport. */
export type StreamMessage = { type: 'delta'; delta: Delta } | { type: 'resync'; resync: Resync };

/**
 * How a host names remote addresses. on: the system resolver (the hosts file, then DNS: a query may
 * leave the machine); hosts: the hosts file only (no query leaves the machine); off: no names.
 */
export const REVERSE_DNS_MODES = ['on', 'hosts', 'off'] as const;
export type ReverseDnsMode = (typeof REVERSE_DNS_MODES)[number];

/**
 * What the history is asked (`porthole history`): the sockets on a port, of a process (by pid or
 * name), or with a remote address (and port); several given: those that match them all.
 */
export interface HistoryQuestion {
  port?: number;
  pid?: number;
  /** A process name as `ps` shows it; case does not matter. */
  process?: string;
  /** An IP address (a v4 one matches its IPv4-mapped IPv6 form too). */
  remote?: string;
  remotePort?: number;
}

/** One socket's life in the history's answer (`porthole history`, a port's timeline). */
export interface PortUse {
  protocol: string;
  /**
   * 'listener': it listened; with a port asked, 'server': a connection accepted on it, 'client': one
   * made to it; without, 'connection'.
   */
  role: 'listener' | 'server' | 'client' | 'connection';
  localAddress: string | null;
  localPort: number | null;
  remoteAddress: string | null;
  remotePort: number | null;
  /** The last state it was seen in. */
  state: string;
  pid: number | null;
  name: string | null;
  command: string | null;
  cwd: string | null;
  container: string | null;
  /** ms since the epoch; `to` null: still there at the last recording. */
  from: number;
  to: number | null;
}

/**
 * Short connections the history kept only as per-minute counts (past its budget of connections a
 * minute), summed over the minutes asked about, per side, peer and owner.
 */
export interface FoldedUse {
  protocol: string;
  /** 'server': accepted on `localPort`; 'client': made to `remotePort`. The other side's port is not kept. */
  role: 'server' | 'client';
  localPort: number | null;
  remoteAddress: string;
  remotePort: number | null;
  pid: number | null;
  name: string | null;
  command: string | null;
  cwd: string | null;
  /** The first minute's start and the last minute's end (ms since the epoch). */
  from: number;
  to: number;
  count: number;
}

export interface HistoryAnswer extends HistoryQuestion {
  since: number;
  until: number;
  uses: PortUse[];
  /** Short connections kept only as counts that match (the largest first; at most MAX_ROWS). */
  folded: FoldedUse[];
  /** All the connections those counts hold, and those of them beyond `folded`'s bound. */
  foldedCount: number;
  /** Spans that matched beyond the bound of an answer (history/query.ts MAX_ROWS). */
  more: number;
  /** Spans dropped from the history by retention or its size cap, in all (they may have matched). */
  dropped: number;
  /** Folded connections dropped the same way. */
  droppedFolded: number;
  /** When the history was last written (ms), or null when never. */
  lastRecorded: number | null;
}

/** The answer about one port (a port's timeline). */
export type PortHistory = HistoryAnswer & { port: number };
