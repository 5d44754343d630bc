// Parses /proc/net/{tcp,tcp6,udp,udp6}: one row per socket, malformed rows skipped and counted.

import { TCP_STATES, type SocketState } from '../../shared/contract';
import { decodeHexAddress, formatIPv4, formatIPv6, isUnspecified, type ByteOrder } from './addresses';

export interface InetRow {
  protocol: 'tcp' | 'udp';
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  remoteAddress: string | null;
  remotePort: number | null;
  state: SocketState;
  uid: number;
  inode: number;
}

export interface TableParse<Row> {
  rows: Row[];
  /** Lines that were not a well-formed row and were skipped. */
  malformed: number;
}

const SPACE = 32;
const TAB = 9;

/** Splits on runs of blanks without a regex: this runs once per socket per poll. */
export function splitFields(line: string, limit: number): string[] {
  const fields: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n && fields.length < limit) {
    while (i < n && (line.charCodeAt(i) === SPACE || line.charCodeAt(i) === TAB)) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && line.charCodeAt(i) !== SPACE && line.charCodeAt(i) !== TAB) i++;
    fields.push(line.slice(start, i));
  }
  return fields;
}

const DECIMAL = /^\d+$/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;

function parseEndpoint(text: string, family: 4 | 6, order: ByteOrder): { address: string; port: number } | null {
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const hexAddress = text.slice(0, colon);
  const hexPort = text.slice(colon + 1);
  if (hexAddress.length !== (family === 4 ? 8 : 32) || !HEX4.test(hexPort)) return null;
  const bytes = decodeHexAddress(hexAddress, order);
  if (!bytes) return null;
  return { address: family === 4 ? formatIPv4(bytes) : formatIPv6(bytes), port: parseInt(hexPort, 16) };
}

function stateOf(protocol: 'tcp' | 'udp', hexState: string): SocketState | null {
  if (!HEX2.test(hexState)) return null;
  const code = parseInt(hexState, 16);
  if (protocol === 'udp') return code === 7 ? 'UNCONN' : code === 1 ? 'ESTABLISHED' : null;
  if (code === 12) return 'SYN_RECV'; // TCP_NEW_SYN_RECV: a request socket, shown as SYN_RECV like ss
  return TCP_STATES[code - 1] ?? null;
}

/** One data line of /proc/net/{tcp,udp}{,6}, or null when it is malformed. */
export function parseInetLine(line: string, protocol: 'tcp' | 'udp', family: 4 | 6, order: ByteOrder): InetRow | null {
  // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer ...: a line cut short
  // anywhere before the fields after the inode is refused, so a truncated inode is never read.
  const f = splitFields(line, 12);
  if (f.length < 12 || !f[0].endsWith(':')) return null;
  const local = parseEndpoint(f[1], family, order);
  const remote = parseEndpoint(f[2], family, order);
  const state = stateOf(protocol, f[3]);
  if (!local || !remote || !state || !DECIMAL.test(f[7]) || !DECIMAL.test(f[9])) return null;
  const connected = !(remote.port === 0 && isUnspecified(remote.address));
  return {
    protocol,
    family,
    localAddress: local.address,
    localPort: local.port,
    remoteAddress: connected ? remote.address : null,
    remotePort: connected ? remote.port : null,
    state,
    uid: Number(f[7]),
    inode: Number(f[9]),
  };
}

/** Parses a whole table; the header line is recognised and skipped, every other bad line counted. */
export function parseInetTable(
  text: string,
  protocol: 'tcp' | 'udp',
  family: 4 | 6,
  order: ByteOrder,
): TableParse<InetRow> {
  const rows: InetRow[] = [];
  let malformed = 0;
  let start = 0;
  let first = true;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (first && line.includes('local_address')) {
      first = false;
      continue;
    }
    first = false;
    if (line.trim() === '') continue;
    const row = parseInetLine(line, protocol, family, order);
    if (row) rows.push(row);
    else malformed++;
  }
  return { rows, malformed };
}
