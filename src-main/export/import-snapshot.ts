// Reads a snapshot file someone sent you: untrusted input. Size and nesting are limited before the
// JSON is parsed, prototype keys are refused, every field is checked against the format of
// docs/format.md, and an unknown version is refused with a reason. What comes out is a plain Snapshot.

import {
  PROTOCOLS,
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  SOCKET_COLUMNS,
  SCAN_ENGINES,
  SOCKET_STATES,
  TRAFFIC_COLUMNS,
  PID_MAX,
  MAX_PARENTS,
  UNIX_TYPES,
  type ConnectionChain,
  type ContainerInfo,
  type EventMode,
  type NetNamespace,
  type ProcessInfo,
  type ProcessParent,
  type PublishedPort,
  type ScanStats,
  type Snapshot,
  type Protocol,
  type Socket,
  type TcpTraffic,
} from '../shared/contract';

import { ImportError } from './errors';
import { isIpLiteral, isIPv6Literal } from '../shared/ip-literal';

export { ImportError } from './errors';

export const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;
/** A snapshot nests four deep (root → sockets → socket → pids); more is not a snapshot. */
export const MAX_NESTING = 6;
const MAX_ROWS = 1_000_000;
const MAX_STRING = 65_536;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export class Invalid extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** The deepest nesting of arrays and objects, counted without parsing (strings skipped). */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === 93 || c === 125) depth--;
  }
  return deepest;
}

type Json = Record<string, unknown>;

export function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Invalid(path, 'must be an object');
  return value as Json;
}

export function onlyKeys(value: Json, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value))
    // The reason names the fields allowed, never the file's own: an error never quotes what it refused.
    if (!allowed.includes(key)) throw new Invalid(path, `has a field that is not one of ${allowed.join(', ')}`);
}

export function string(value: unknown, path: string, nullable = false): string {
  if (value === null && nullable) return null as unknown as string;
  if (typeof value !== 'string') throw new Invalid(path, nullable ? 'must be a string or null' : 'must be a string');
  if (value.length > MAX_STRING) throw new Invalid(path, `is longer than ${MAX_STRING} characters`);
  return value;
}

export function integer(value: unknown, path: string, min: number, max: number, nullable = false): number {
  if (value === null && nullable) return null as unknown as number;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new Invalid(path, `must be an integer from ${min} to ${max}${nullable ? ', or null' : ''}`);
  return value;
}

function oneOf<T>(value: unknown, path: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new Invalid(path, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function date(value: unknown, path: string, nullable = false): string {
  const text = string(value, path, nullable);
  if (text === null) return text;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(text) || Number.isNaN(Date.parse(text)))
    throw new Invalid(path, 'must be an ISO 8601 date and time');
  return text;
}

/**
 * An inet socket's address: an IPv4 or IPv6 literal (an IPv6 one may carry its zone, as macOS's
 * netstat prints link-local ones), never a name, text or "999.1.1.1". A Unix socket's is a path.
 */
export function address(value: unknown, path: string, nullable: boolean): string | null {
  const text = string(value, path, nullable);
  if (text === null) return text;
  const zone = /^([0-9a-fA-F:.]+)%[A-Za-z0-9_.-]{1,32}$/.exec(text);
  if (zone ? !isIPv6Literal(zone[1]) : !isIpLiteral(text)) throw new Invalid(path, 'must be an IP address');
  return text;
}

/** Processes listed once each: a pid twice (or 200,000 times) is not a process table. */
export function uniquePids<T extends { pid: number }>(processes: T[], path: string): T[] {
  const seen = new Map<number, number>();
  processes.forEach((p, i) => {
    const first = seen.get(p.pid);
    if (first !== undefined) throw new Invalid(`${path}[${i}].pid`, `repeats the pid of ${path}[${first}]`);
    seen.set(p.pid, i);
  });
  return processes;
}

export function array(value: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(value)) throw new Invalid(path, 'must be an array');
  if (value.length > max) throw new Invalid(path, `has more than ${max} entries`);
  return value;
}

const UID_MAX = 4_294_967_295;
/** A socket has exactly the export's columns (shared/contract.ts), and its traffic figures where known. */
const SOCKET_FIELDS: readonly string[] = [...SOCKET_COLUMNS, 'traffic'];

export function socket(value: unknown, path: string): Socket {
  const s = object(value, path);
  onlyKeys(s, path, SOCKET_FIELDS);
  const protocol = oneOf(s.protocol, `${path}.protocol`, PROTOCOLS);
  const unix = protocol === 'unix';
  const family = unix ? oneOf(s.family, `${path}.family`, [null]) : oneOf(s.family, `${path}.family`, [4, 6] as const);
  const port = (field: 'localPort' | 'remotePort', nullable: boolean) =>
    unix ? oneOf(s[field], `${path}.${field}`, [null]) : integer(s[field], `${path}.${field}`, 0, 65535, nullable);
  const pid = integer(s.pid, `${path}.pid`, 1, PID_MAX, true);
  return {
    protocol,
    family,
    localAddress: unix
      ? string(s.localAddress, `${path}.localAddress`)
      : address(s.localAddress, `${path}.localAddress`, false)!,
    localPort: port('localPort', false),
    remoteAddress: unix
      ? string(s.remoteAddress, `${path}.remoteAddress`, true)
      : address(s.remoteAddress, `${path}.remoteAddress`, true),
    remotePort: port('remotePort', true),
    state: oneOf(s.state, `${path}.state`, SOCKET_STATES),
    pid,
    processName: string(s.processName, `${path}.processName`, true),
    uid: integer(s.uid, `${path}.uid`, 0, UID_MAX, true),
    inode: integer(s.inode, `${path}.inode`, 0, Number.MAX_SAFE_INTEGER),
    // Added after version 1's first files: a file without them is still version 1.
    pids:
      s.pids === undefined
        ? pid === null
          ? []
          : [pid]
        : array(s.pids, `${path}.pids`, 4096).map((p, i) => integer(p, `${path}.pids[${i}]`, 1, PID_MAX)),
    lastPid: s.lastPid === undefined ? null : integer(s.lastPid, `${path}.lastPid`, 1, PID_MAX, true),
    ...socketNamespace(s, path),
    ...unixFields(s, path, unix),
    ...(s.traffic === undefined ? {} : { traffic: tcpTraffic(s.traffic, `${path}.traffic`, protocol) }),
  };
}

/** A Unix socket's type and peer; refused on an inet socket. */
function unixFields(s: Json, path: string, unix: boolean): Pick<Socket, 'unixType' | 'peerInode'> {
  if (s.unixType === undefined && s.peerInode === undefined) return {};
  if (!unix) throw new Invalid(path, 'has unixType or peerInode, which only Unix sockets have');
  return {
    ...(s.unixType === undefined ? {} : { unixType: oneOf(s.unixType, `${path}.unixType`, UNIX_TYPES) }),
    ...(s.peerInode === undefined
      ? {}
      : { peerInode: integer(s.peerInode, `${path}.peerInode`, 1, Number.MAX_SAFE_INTEGER) }),
  };
}

const COUNTER_MAX = Number.MAX_SAFE_INTEGER;

/** A TCP connection's figures: counters and rates are non-negative integers, RTT a non-negative number. */
export function tcpTraffic(value: unknown, path: string, protocol?: Protocol): TcpTraffic {
  if (protocol !== undefined && protocol !== 'tcp') throw new Invalid(path, 'is for TCP sockets only');
  const t = object(value, path);
  onlyKeys(t, path, TRAFFIC_COLUMNS);
  const counter = (field: (typeof TRAFFIC_COLUMNS)[number], nullable = false) =>
    integer(t[field], `${path}.${field}`, 0, COUNTER_MAX, nullable);
  const rtt = t.rttMs;
  if (rtt !== null && (typeof rtt !== 'number' || !Number.isFinite(rtt) || rtt < 0 || rtt > 3_600_000))
    throw new Invalid(`${path}.rttMs`, 'must be a number of milliseconds or null');
  return {
    bytesAcked: counter('bytesAcked'),
    bytesReceived: counter('bytesReceived'),
    segmentsOut: counter('segmentsOut'),
    segmentsIn: counter('segmentsIn'),
    retransmits: counter('retransmits'),
    rttMs: rtt,
    deliveryRate: counter('deliveryRate', true),
    sendRate: counter('sendRate', true),
    receiveRate: counter('receiveRate', true),
  };
}

const NAME_MAX = 256;
const MAX_NAMESPACES = 4096;

/** A socket outside the snapshot taker's own namespace carries both its namespace's inode and name. */
function socketNamespace(s: Json, path: string): Pick<Socket, 'netns' | 'netnsName'> {
  if (s.netns === undefined && s.netnsName === undefined) return {};
  if (s.netns === undefined || s.netnsName === undefined)
    throw new Invalid(path, 'must have both netns and netnsName, or neither');
  return {
    netns: integer(s.netns, `${path}.netns`, 1, Number.MAX_SAFE_INTEGER),
    netnsName: shortString(s.netnsName, `${path}.netnsName`),
  };
}

function shortString(value: unknown, path: string): string {
  const text = string(value, path);
  if (text.length > NAME_MAX) throw new Invalid(path, `is longer than ${NAME_MAX} characters`);
  return text;
}

const CONTAINER_FIELDS = ['runtime', 'id', 'name', 'image', 'pod', 'podNamespace'] as const;

export function containerInfo(value: unknown, path: string): ContainerInfo {
  const c = object(value, path);
  onlyKeys(c, path, CONTAINER_FIELDS);
  const info: ContainerInfo = {
    runtime: shortString(c.runtime, `${path}.runtime`),
    id: shortString(c.id, `${path}.id`),
  };
  for (const field of ['name', 'image', 'pod', 'podNamespace'] as const)
    if (c[field] !== undefined) info[field] = shortString(c[field], `${path}.${field}`);
  return info;
}

const NAMESPACE_FIELDS = ['inode', 'name', 'own', 'mounts', 'containers', 'processCount', 'unreadable'];

export function netNamespace(value: unknown, path: string): NetNamespace {
  const n = object(value, path);
  onlyKeys(n, path, NAMESPACE_FIELDS);
  if (typeof n.own !== 'boolean') throw new Invalid(`${path}.own`, 'must be true or false');
  return {
    inode: integer(n.inode, `${path}.inode`, 1, Number.MAX_SAFE_INTEGER),
    name: shortString(n.name, `${path}.name`),
    own: n.own,
    mounts: array(n.mounts ?? [], `${path}.mounts`, 64).map((m, i) => shortString(m, `${path}.mounts[${i}]`)),
    containers: array(n.containers ?? [], `${path}.containers`, 64).map((c, i) =>
      containerInfo(c, `${path}.containers[${i}]`),
    ),
    processCount: integer(n.processCount ?? 0, `${path}.processCount`, 0, PID_MAX),
    unreadable: n.unreadable === undefined ? null : string(n.unreadable, `${path}.unreadable`, true),
  };
}

const PUBLISHED_FIELDS = ['protocol', 'hostAddress', 'hostPort', 'netns', 'address', 'port', 'container', 'via'];

export function publishedPort(value: unknown, path: string): PublishedPort {
  const p = object(value, path);
  onlyKeys(p, path, PUBLISHED_FIELDS);
  return {
    protocol: oneOf(p.protocol, `${path}.protocol`, ['tcp', 'udp'] as const),
    hostAddress: shortString(p.hostAddress, `${path}.hostAddress`),
    hostPort: integer(p.hostPort, `${path}.hostPort`, 1, 65535),
    netns: p.netns === undefined ? null : integer(p.netns, `${path}.netns`, 1, Number.MAX_SAFE_INTEGER, true),
    address: p.address === undefined ? null : string(p.address, `${path}.address`, true),
    port: integer(p.port, `${path}.port`, 1, 65535),
    container:
      p.container === undefined || p.container === null ? null : containerInfo(p.container, `${path}.container`),
    via: oneOf(p.via, `${path}.via`, ['docker-proxy', 'docker', 'podman'] as const),
  };
}

const PROCESS_FIELDS = ['pid', 'ppid', 'name', 'command', 'user', 'uid', 'startedAt', 'cwd', 'container', 'parents'];

export function processInfo(value: unknown, path: string): ProcessInfo {
  const p = object(value, path);
  onlyKeys(p, path, PROCESS_FIELDS);
  return {
    pid: integer(p.pid, `${path}.pid`, 1, PID_MAX),
    ppid: p.ppid === undefined ? null : integer(p.ppid, `${path}.ppid`, 0, PID_MAX, true),
    name: string(p.name, `${path}.name`),
    command: string(p.command, `${path}.command`),
    user: string(p.user, `${path}.user`, true),
    uid: p.uid === undefined ? null : integer(p.uid, `${path}.uid`, 0, UID_MAX, true),
    startedAt: date(p.startedAt, `${path}.startedAt`, true),
    cwd: p.cwd === undefined ? null : string(p.cwd, `${path}.cwd`, true),
    ...(p.container === undefined ? {} : { container: containerInfo(p.container, `${path}.container`) }),
    ...(p.parents === undefined ? {} : { parents: parents(p.parents, `${path}.parents`) }),
  };
}

function parents(value: unknown, path: string): ProcessParent[] {
  return array(value, path, MAX_PARENTS).map((entry, i) => {
    const parent = object(entry, `${path}[${i}]`);
    onlyKeys(parent, `${path}[${i}]`, ['pid', 'name']);
    return {
      pid: integer(parent.pid, `${path}[${i}].pid`, 1, PID_MAX),
      name: shortString(parent.name, `${path}[${i}].name`),
    };
  });
}

const STATS_FIELDS = [
  'unattributed',
  'malformedRows',
  'repairedRows',
  'interruptedDumps',
  'foldedConnections',
  'ownersPending',
  'hiddenProcesses',
  'scanMs',
  'namespaces',
  'unreadableNamespaces',
  'unreadableNamespaceNames',
  'hiddenNamespaceProcesses',
  'engine',
] as const;
const OPTIONAL_COUNTS = [
  'namespaces',
  'unreadableNamespaces',
  'hiddenNamespaceProcesses',
  'interruptedDumps',
  'foldedConnections',
] as const;

export function stats(value: unknown, path: string, sockets: Socket[]): ScanStats {
  if (value === undefined)
    return {
      unattributed: sockets.filter((s) => s.pid === null && s.inode !== 0).length,
      malformedRows: 0,
      repairedRows: 0,
      hiddenProcesses: 0,
      scanMs: 0,
    };
  const s = object(value, path);
  onlyKeys(s, path, STATS_FIELDS);
  const count = (
    field: Exclude<(typeof STATS_FIELDS)[number], 'scanMs' | 'unreadableNamespaceNames' | 'engine' | 'ownersPending'>,
  ) => (s[field] === undefined ? 0 : integer(s[field], `${path}.${field}`, 0, Number.MAX_SAFE_INTEGER));
  if (s.scanMs !== undefined && !(typeof s.scanMs === 'number' && Number.isFinite(s.scanMs) && s.scanMs >= 0))
    throw new Invalid(`${path}.scanMs`, 'must be a number of milliseconds ≥ 0');
  const result: ScanStats = {
    unattributed: count('unattributed'),
    malformedRows: count('malformedRows'),
    repairedRows: count('repairedRows'),
    hiddenProcesses: count('hiddenProcesses'),
    scanMs: (s.scanMs as number | undefined) ?? 0,
  };
  // Namespace and dump counts came later: absent in older files, and absent stays absent.
  for (const field of OPTIONAL_COUNTS) if (s[field] !== undefined) result[field] = count(field);
  if (s.ownersPending !== undefined) {
    if (s.ownersPending !== true) throw new Invalid(`${path}.ownersPending`, 'must be true when present');
    result.ownersPending = true;
  }
  if (s.engine !== undefined) result.engine = oneOf(s.engine, `${path}.engine`, SCAN_ENGINES);
  if (s.unreadableNamespaceNames !== undefined)
    result.unreadableNamespaceNames = array(s.unreadableNamespaceNames, `${path}.unreadableNamespaceNames`, 64).map(
      (n, i) => shortString(n, `${path}.unreadableNamespaceNames[${i}]`),
    );
  return result;
}

function milliseconds(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 8.64e15)
    throw new Invalid(path, 'must be a time in ms since 1970');
  return value;
}

const STEP_STATES = [...SOCKET_STATES, 'CLOSED'] as const;

/** A finished connection's kernel chain (event mode), in a snapshot or a recorded delta. */
export function chain(value: unknown, path: string): ConnectionChain {
  const c = object(value, path);
  onlyKeys(c, path, ['key', 'localAddress', 'localPort', 'remoteAddress', 'remotePort', 'pid', 'steps', 'complete']);
  if (typeof c.complete !== 'boolean') throw new Invalid(`${path}.complete`, 'must be true or false');
  return {
    key: string(c.key, `${path}.key`),
    localAddress: string(c.localAddress, `${path}.localAddress`),
    localPort: integer(c.localPort, `${path}.localPort`, 0, 65535),
    remoteAddress: string(c.remoteAddress, `${path}.remoteAddress`),
    remotePort: integer(c.remotePort, `${path}.remotePort`, 0, 65535),
    pid: integer(c.pid, `${path}.pid`, 0, PID_MAX),
    steps: array(c.steps, `${path}.steps`, 64).map((step, i) => {
      const s = object(step, `${path}.steps[${i}]`);
      onlyKeys(s, `${path}.steps[${i}]`, ['state', 'at']);
      if (!(STEP_STATES as readonly unknown[]).includes(s.state))
        throw new Invalid(`${path}.steps[${i}].state`, 'must be a TCP state');
      return {
        state: s.state as ConnectionChain['steps'][number]['state'],
        at: milliseconds(s.at, `${path}.steps[${i}].at`),
      };
    }),
    complete: c.complete,
  };
}

export function eventMode(value: unknown, path: string): EventMode | undefined {
  if (value === undefined) return undefined;
  const e = object(value, path);
  onlyKeys(e, path, ['active', 'reason', 'lost', 'interrupted']);
  if (typeof e.active !== 'boolean') throw new Invalid(`${path}.active`, 'must be true or false');
  const mode: EventMode = { active: e.active, reason: string(e.reason, `${path}.reason`, true) };
  if (e.lost !== undefined) mode.lost = integer(e.lost, `${path}.lost`, 0, Number.MAX_SAFE_INTEGER);
  if (e.interrupted !== undefined) {
    if (e.interrupted !== true) throw new Invalid(`${path}.interrupted`, 'must be true when present');
    mode.interrupted = true;
  }
  return mode;
}

const ROOT_FIELDS = [
  'format',
  'version',
  'takenAt',
  'host',
  'sockets',
  'processes',
  'stats',
  'eventMode',
  'chains',
  'namespaces',
  'publishedPorts',
];

/** Validates a parsed document as a version-1 snapshot, building a fresh object from checked fields. */
export function validateSnapshot(document: unknown): Snapshot {
  const root = object(document, 'the file');
  if (root.format !== SNAPSHOT_FORMAT)
    throw new Invalid('format', `must be "${SNAPSHOT_FORMAT}": this is not a Porthole snapshot`);
  if (root.version !== SNAPSHOT_VERSION)
    throw new Invalid(
      'version',
      `${JSON.stringify(root.version)?.slice(0, 20) ?? 'missing'} is not a version this Porthole reads (it reads version ${SNAPSHOT_VERSION})`,
    );
  onlyKeys(root, 'the file', ROOT_FIELDS);
  const host = object(root.host, 'host');
  onlyKeys(host, 'host', ['hostname', 'platform', 'release']);
  const sockets = array(root.sockets, 'sockets', MAX_ROWS).map((s, i) => socket(s, `sockets[${i}]`));
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    takenAt: date(root.takenAt, 'takenAt'),
    host: {
      hostname: string(host.hostname, 'host.hostname'),
      platform: string(host.platform, 'host.platform'),
      release: string(host.release, 'host.release'),
    },
    sockets,
    processes: uniquePids(
      array(root.processes ?? [], 'processes', MAX_ROWS).map((p, i) => processInfo(p, `processes[${i}]`)),
      'processes',
    ),
    stats: stats(root.stats, 'stats', sockets),
    ...(root.eventMode === undefined ? {} : { eventMode: eventMode(root.eventMode, 'eventMode') }),
    ...(root.chains === undefined
      ? {}
      : { chains: array(root.chains, 'chains', MAX_ROWS).map((c, i) => chain(c, `chains[${i}]`)) }),
    ...namespaceLists(root, ''),
  };
}

/** The optional namespace and published-port lists of a snapshot, resync or delta. */
export function namespaceLists(
  holder: Json,
  prefix: string,
): { namespaces?: NetNamespace[]; publishedPorts?: PublishedPort[] } {
  const lists: { namespaces?: NetNamespace[]; publishedPorts?: PublishedPort[] } = {};
  if (holder.namespaces !== undefined)
    lists.namespaces = array(holder.namespaces, `${prefix}namespaces`, MAX_NAMESPACES).map((n, i) =>
      netNamespace(n, `${prefix}namespaces[${i}]`),
    );
  if (holder.publishedPorts !== undefined)
    lists.publishedPorts = array(holder.publishedPorts, `${prefix}publishedPorts`, 65_536 * 2).map((p, i) =>
      publishedPort(p, `${prefix}publishedPorts[${i}]`),
    );
  return lists;
}

/** JSON.parse with the nesting limit and without prototype keys; `fail` words the reason. */
export function parseUntrustedJson(text: string, fail: (reason: string) => Error): unknown {
  if (nestingDepth(text, MAX_NESTING) > MAX_NESTING) throw fail(`it nests deeper than ${MAX_NESTING} levels`);
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) throw new Invalid(key, 'is a forbidden key');
      return value;
    });
  } catch (error) {
    if (error instanceof Invalid) throw fail(`the key "${error.path}" is not allowed (prototype pollution)`);
    // JSON.parse's own message quotes the text around the error: give only where it is.
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    throw fail(`it is not valid JSON${at === undefined ? '' : ` (at character ${at})`}`);
  }
}

/** Parses and validates snapshot bytes; throws ImportError with the reason. */
export function parseSnapshot(bytes: Uint8Array, name = 'the snapshot', maxBytes = MAX_SNAPSHOT_BYTES): Snapshot {
  const fail = (reason: string) => new ImportError(`Cannot import ${name}: ${reason}.`);
  if (bytes.length === 0) throw fail('the file is empty');
  if (bytes.length > maxBytes) throw fail(`it is larger than ${maxBytes} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fail('it is not UTF-8 text');
  }
  const document = parseUntrustedJson(text, fail);
  try {
    return validateSnapshot(document);
  } catch (error) {
    if (error instanceof Invalid) throw fail(`${error.path} ${error.message}`);
    throw error;
  }
}
