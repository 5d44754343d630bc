// The tables iphlpapi's GetExtendedTcpTable / GetExtendedUdpTable fill, read from their bytes as
// the Windows headers lay them out (tcpmib.h, udpmib.h): a DWORD count, then fixed-size rows.
// Pure: the FFI calls are in iphlpapi.ts; this is tested on byte buffers alone.

import type { Socket, TcpState } from '../../shared/contract';
import { cachedIPv4, formatIPv6 } from '../addresses';
import { inodelessSocket } from '../inodeless';

/** The four tables read, each with the size of its row (bytes). */
export const TABLES = {
  /** MIB_TCPROW_OWNER_PID: dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid. */
  tcp4: { protocol: 'tcp', family: 4, rowBytes: 24 },
  /**
   * MIB_TCP6ROW_OWNER_PID: ucLocalAddr[16], dwLocalScopeId, dwLocalPort, ucRemoteAddr[16],
   * dwRemoteScopeId, dwRemotePort, dwState, dwOwningPid.
   */
  tcp6: { protocol: 'tcp', family: 6, rowBytes: 56 },
  /** MIB_UDPROW_OWNER_PID: dwLocalAddr, dwLocalPort, dwOwningPid. */
  udp4: { protocol: 'udp', family: 4, rowBytes: 12 },
  /** MIB_UDP6ROW_OWNER_PID: ucLocalAddr[16], dwLocalScopeId, dwLocalPort, dwOwningPid. */
  udp6: { protocol: 'udp', family: 6, rowBytes: 28 },
} as const;
export type TableName = keyof typeof TABLES;

/**
 * MIB_TCP_STATE (1-12) as the names Linux and `ss` use. DELETE_TCB (12) is a request, not a
 * state; a table never holds it, and a row that says so is unreadable.
 */
const TCP_STATE: Record<number, TcpState> = {
  1: 'CLOSE',
  2: 'LISTEN',
  3: 'SYN_SENT',
  4: 'SYN_RECV',
  5: 'ESTABLISHED',
  6: 'FIN_WAIT1',
  7: 'FIN_WAIT2',
  8: 'CLOSE_WAIT',
  9: 'CLOSING',
  10: 'LAST_ACK',
  11: 'TIME_WAIT',
};

export function tcpStateName(code: number): TcpState | null {
  return TCP_STATE[code] ?? null;
}

/** The table's sockets, and the rows that could not be read (counted, as a malformed /proc row is). */
export interface ParsedTable {
  sockets: Socket[];
  malformed: number;
}

/**
 * A port DWORD: the port in network byte order in its low 16 bits (its first two bytes in
 * memory); the high bytes are undefined and not read.
 */
const portAt = (bytes: Buffer, at: number) => bytes.readUInt16BE(at);

/** The process a row names: 0 is the System Idle Process, i.e. no process (as TIME_WAIT rows say). */
const pidOf = (pid: number) => (pid === 0 ? null : pid);

/**
 * The rows of one table. A buffer shorter than its count says (cut short) yields the whole rows it
 * holds and counts the rest as unreadable; bytes past the last row are ignored.
 */
export function parseTable(name: TableName, bytes: Buffer, cache = new Map<number, string>()): ParsedTable {
  const table = TABLES[name];
  if (bytes.length < 4) return { sockets: [], malformed: 0 };
  const count = bytes.readUInt32LE(0);
  const whole = Math.min(count, Math.floor((bytes.length - 4) / table.rowBytes));
  let malformed = count - whole;
  const sockets: Socket[] = [];
  for (let i = 0; i < whole; i++) {
    const at = 4 + i * table.rowBytes;
    const read = rowReaders[name](bytes, at, cache);
    if (read === null) {
      malformed++;
      continue;
    }
    sockets.push(
      inodelessSocket({
        protocol: table.protocol,
        family: table.family,
        local: read.local,
        remote: read.remote,
        state: read.state,
        pid: pidOf(read.pid),
        processName: null,
      }),
    );
  }
  return { sockets, malformed };
}

interface Row {
  local: { address: string; port: number };
  remote: { address: string; port: number } | null;
  state: Socket['state'];
  pid: number;
}

const ipv6At = (bytes: Buffer, at: number) => formatIPv6(bytes.subarray(at, at + 16));

/** A TCP row's remote end: none for a listener (its remote reads 0.0.0.0:0 or [::]:0). */
function remoteOf(state: TcpState, address: string, port: number): Row['remote'] {
  return state === 'LISTEN' ? null : { address, port };
}

const rowReaders: Record<TableName, (bytes: Buffer, at: number, cache: Map<number, string>) => Row | null> = {
  tcp4(bytes, at, cache) {
    const state = tcpStateName(bytes.readUInt32LE(at));
    if (state === null) return null;
    return {
      state,
      local: { address: cachedIPv4(bytes, at + 4, cache), port: portAt(bytes, at + 8) },
      remote: remoteOf(state, cachedIPv4(bytes, at + 12, cache), portAt(bytes, at + 16)),
      pid: bytes.readUInt32LE(at + 20),
    };
  },
  tcp6(bytes, at) {
    const state = tcpStateName(bytes.readUInt32LE(at + 48));
    if (state === null) return null;
    return {
      state,
      local: { address: ipv6At(bytes, at), port: portAt(bytes, at + 20) },
      remote: remoteOf(state, ipv6At(bytes, at + 24), portAt(bytes, at + 44)),
      pid: bytes.readUInt32LE(at + 52),
    };
  },
  udp4(bytes, at, cache) {
    return {
      state: 'UNCONN',
      local: { address: cachedIPv4(bytes, at, cache), port: portAt(bytes, at + 4) },
      remote: null,
      pid: bytes.readUInt32LE(at + 8),
    };
  },
  udp6(bytes, at) {
    return {
      state: 'UNCONN',
      local: { address: ipv6At(bytes, at), port: portAt(bytes, at + 20) },
      remote: null,
      pid: bytes.readUInt32LE(at + 24),
    };
  },
};
