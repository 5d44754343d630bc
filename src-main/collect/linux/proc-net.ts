// Parses /proc/net/{tcp,tcp6,udp,udp6}: one row per socket, malformed rows skipped and counted.
// It reads bytes, not text: at 20k sockets, decoding the file to a string alone took longer than
// the kernel took to produce it. Addresses repeat (127.0.0.1 …), so their text is cached.

import { TCP_STATES, type Socket, type SocketState, type TcpState } from '../../shared/contract';
import { decodeHexAddress, formatIPv6, type ByteOrder } from '../addresses';

/**
 * A row is already a Socket, with its owner fields empty: the collector fills them in place, which
 * spares a second object per socket per poll.
 */
export interface InetRow extends Socket {
  protocol: 'tcp' | 'udp';
  family: 4 | 6;
  localPort: number;
  uid: number;
}

/** The namespace a table was read from, when not Porthole's own: every row carries it. */
export interface RowNamespace {
  netns: number;
  netnsName: string;
}

export interface TableParse<Row> {
  rows: Row[];
  /** Lines that were not a well-formed row and were skipped. */
  malformed: number;
}

const NEWLINE = 10;
const SPACE = 32;
const TAB = 9;
const COLON = 58;
/** Hex digit values by byte, -1 for anything else. */
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[65 + i] = HEX[97 + i] = 10 + i;

/** sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer: a line cut short anywhere
 * before the fields after the inode is refused, so a truncated inode is never read. */
const REQUIRED_FIELDS = 12;
const F_LOCAL = 1;
const F_REMOTE = 2;
const F_STATE = 3;
const F_UID = 7;
const F_INODE = 9;
const MAX_CACHED_ADDRESSES = 65_536;
const NO_OWNERS: number[] = [];

function hexValue(data: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = HEX[data[i]];
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

function decimalValue(data: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = data[i] - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * A socket's row as both readers (/proc/net text, netlink sock_diag) make it. An unchanged socket
 * is handed back as last poll's object (`before`: last poll's row for its inode, or for a row
 * without one the kernel's cookie), so a steady-state poll allocates almost nothing and the
 * tracker can skip it at once.
 */
export function inetRow(
  protocol: 'tcp' | 'udp',
  family: 4 | 6,
  localAddress: string,
  localPort: number,
  remoteAddress: string,
  remotePort: number,
  state: SocketState,
  uid: number,
  inode: number,
  before: InetRow | undefined,
  where?: RowNamespace,
): InetRow {
  const connected = !(remotePort === 0 && (remoteAddress === '0.0.0.0' || remoteAddress === '::'));
  if (
    before &&
    before.inode === inode &&
    before.state === state &&
    before.protocol === protocol &&
    before.localPort === localPort &&
    before.localAddress === localAddress &&
    before.remotePort === (connected ? remotePort : null) &&
    before.remoteAddress === (connected ? remoteAddress : null) &&
    before.uid === uid &&
    before.netnsName === where?.netnsName
  ) {
    return before;
  }
  // Field order is the export's column order (SOCKET_COLUMNS).
  const row: InetRow = {
    protocol,
    family,
    localAddress,
    localPort,
    remoteAddress: connected ? remoteAddress : null,
    remotePort: connected ? remotePort : null,
    state,
    pid: null,
    processName: null,
    uid,
    inode,
    pids: NO_OWNERS,
    lastPid: null,
  };
  if (where) {
    row.netns = where.netns;
    row.netnsName = where.netnsName;
  }
  return row;
}

/** The kernel's state number for a socket of this protocol, as Porthole names it. */
export function stateOf(protocol: 'tcp' | 'udp', code: number): SocketState | null {
  if (protocol === 'udp') return code === 7 ? 'UNCONN' : code === 1 ? 'ESTABLISHED' : null;
  return tcpStateOf(code);
}

/** The kernel's TCP state number (include/net/tcp_states.h), as every reader names it. */
export function tcpStateOf(code: number): TcpState | null {
  if (code === 12) return 'SYN_RECV'; // TCP_NEW_SYN_RECV: a request socket, shown as SYN_RECV like ss
  return TCP_STATES[code - 1] ?? null;
}

export class InetTableParser {
  private readonly v4Cache = new Map<number, string>();
  private readonly v6Cache = new Map<string, string>();
  /** Field start and end offsets of the line being parsed. */
  private readonly bounds = new Int32Array(REQUIRED_FIELDS * 2);

  constructor(private readonly order: ByteOrder) {}

  /**
   * Parses a whole table; the header line is recognised and skipped, every other bad line counted.
   * @param previous last poll's rows by inode: an unchanged socket is handed back as the same
   * object, so a steady-state poll allocates almost nothing and the tracker can skip it at once
   */
  parse(
    data: Uint8Array,
    protocol: 'tcp' | 'udp',
    family: 4 | 6,
    previous?: ReadonlyMap<number, InetRow>,
    where?: RowNamespace,
  ): TableParse<InetRow> {
    const rows: InetRow[] = [];
    let malformed = 0;
    let start = 0;
    const length = data.length;
    while (start < length) {
      let end = data.indexOf(NEWLINE, start);
      if (end < 0) end = length;
      if (start === 0 && this.isHeader(data, end)) {
        start = end + 1;
        continue;
      }
      const row = this.parseLine(data, start, end, protocol, family, previous, where);
      if (row) rows.push(row);
      else if (!this.isBlank(data, start, end)) malformed++;
      start = end + 1;
    }
    return { rows, malformed };
  }

  /** One data line, or null when it is malformed. */
  parseLine(
    data: Uint8Array,
    start: number,
    end: number,
    protocol: 'tcp' | 'udp',
    family: 4 | 6,
    previous?: ReadonlyMap<number, InetRow>,
    where?: RowNamespace,
  ): InetRow | null {
    const b = this.bounds;
    let fields = 0;
    let i = start;
    while (i < end && fields < REQUIRED_FIELDS) {
      while (i < end && (data[i] === SPACE || data[i] === TAB)) i++;
      if (i >= end) break;
      b[fields * 2] = i;
      while (i < end && data[i] !== SPACE && data[i] !== TAB) i++;
      b[fields * 2 + 1] = i;
      fields++;
    }
    if (fields < REQUIRED_FIELDS || data[b[1] - 1] !== COLON) return null;

    const local = this.endpoint(data, b[F_LOCAL * 2], b[F_LOCAL * 2 + 1], family);
    const remote = this.endpoint(data, b[F_REMOTE * 2], b[F_REMOTE * 2 + 1], family);
    const stateCode =
      b[F_STATE * 2 + 1] - b[F_STATE * 2] === 2 ? hexValue(data, b[F_STATE * 2], b[F_STATE * 2 + 1]) : -1;
    const state = stateCode < 0 ? null : stateOf(protocol, stateCode);
    const uid = decimalValue(data, b[F_UID * 2], b[F_UID * 2 + 1]);
    const inode = decimalValue(data, b[F_INODE * 2], b[F_INODE * 2 + 1]);
    if (!local || !remote || !state || uid < 0 || inode < 0) return null;
    const before = inode !== 0 ? previous?.get(inode) : undefined;
    return inetRow(
      protocol,
      family,
      local.address,
      local.port,
      remote.address,
      remote.port,
      state,
      uid,
      inode,
      before,
      where,
    );
  }

  /** `HEXADDR:PORT`: 8 or 32 hex digits for the address, 4 for the port. */
  private endpoint(
    data: Uint8Array,
    start: number,
    end: number,
    family: 4 | 6,
  ): { address: string; port: number } | null {
    const addressDigits = family === 4 ? 8 : 32;
    if (end - start !== addressDigits + 5 || data[start + addressDigits] !== COLON) return null;
    const port = hexValue(data, start + addressDigits + 1, end);
    const address = family === 4 ? this.ipv4(data, start) : this.ipv6(data, start);
    return port < 0 || address === null ? null : { address, port };
  }

  private ipv4(data: Uint8Array, start: number): string | null {
    const word = hexValue(data, start, start + 8);
    if (word < 0) return null;
    let text = this.v4Cache.get(word);
    if (text === undefined) {
      const a = Math.floor(word / 0x1000000);
      const bytes = [a, (word >>> 16) & 255, (word >>> 8) & 255, word & 255];
      text = (this.order === 'LE' ? bytes.reverse() : bytes).join('.');
      if (this.v4Cache.size >= MAX_CACHED_ADDRESSES) this.v4Cache.clear();
      this.v4Cache.set(word, text);
    }
    return text;
  }

  private ipv6(data: Uint8Array, start: number): string | null {
    let key = '';
    for (let i = start; i < start + 32; i++) key += String.fromCharCode(data[i]);
    let text = this.v6Cache.get(key);
    if (text === undefined) {
      const bytes = decodeHexAddress(key, this.order);
      if (!bytes) return null;
      text = formatIPv6(bytes);
      if (this.v6Cache.size >= MAX_CACHED_ADDRESSES) this.v6Cache.clear();
      this.v6Cache.set(key, text);
    }
    return text;
  }

  private isHeader(data: Uint8Array, end: number): boolean {
    return Buffer.from(data.buffer, data.byteOffset, end).includes('local_address');
  }

  private isBlank(data: Uint8Array, start: number, end: number): boolean {
    for (let i = start; i < end; i++) if (data[i] !== SPACE && data[i] !== TAB && data[i] !== 13) return false;
    return true;
  }
}

/** Parses table text (tests and fixtures); the collector hands the parser the file's bytes. */
export function parseInetTable(
  text: string,
  protocol: 'tcp' | 'udp',
  family: 4 | 6,
  order: ByteOrder,
): TableParse<InetRow> {
  return new InetTableParser(order).parse(Buffer.from(text, 'latin1'), protocol, family);
}

export function parseInetLine(line: string, protocol: 'tcp' | 'udp', family: 4 | 6, order: ByteOrder): InetRow | null {
  const data = Buffer.from(line, 'latin1');
  return new InetTableParser(order).parseLine(data, 0, data.length, protocol, family);
}
