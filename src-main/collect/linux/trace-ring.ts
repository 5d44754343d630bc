// Reads the kernel's trace ring buffer in its binary form (tracefs per_cpu/cpuN/trace_pipe_raw):
// one page per read, events as the tracepoint wrote them. No text is formatted by the kernel nor
// parsed here, which is what lets event mode keep up with thousands of connections a second.
// Layouts come from tracefs itself (events/header_page, the event's format file), never assumed.
// Pure: fed with pages, tested with pages recorded from this kernel.

import { endianness } from 'node:os';
import { tcpStateOf } from './proc-net';
import type { KernelTcpEvent } from '../../track/connection-chains';
import { cachedIPv4, formatIPv6 } from '../addresses';

/** Where a page's parts are, from events/header_page. */
export interface PageLayout {
  commitOffset: number;
  commitSize: number;
  dataOffset: number;
}

/** Where inet_sock_set_state's fields are in a record, from its format file. */
export interface TcpEventLayout {
  id: number;
  pid: number;
  oldstate: number;
  newstate: number;
  sport: number;
  dport: number;
  family: number;
  protocol: number;
  saddr: number;
  daddr: number;
  saddrV6: number;
  daddrV6: number;
  /** Bytes a record needs for every field above. */
  size: number;
}

function fieldsOf(format: string): Map<string, { offset: number; size: number }> {
  const fields = new Map<string, { offset: number; size: number }>();
  for (const m of format.matchAll(/field:[^;]*?\s\*?(\w+)(?:\[\d+\])?;\s*offset:(\d+);\s*size:(\d+);/g))
    fields.set(m[1], { offset: Number(m[2]), size: Number(m[3]) });
  return fields;
}

/**
 * The page layout; null when header_page is not what this reader knows. Pages are in the host's
 * byte order and read as little-endian: a big-endian machine uses the text stream instead.
 */
export function parsePageLayout(headerPage: string, byteOrder = endianness()): PageLayout | null {
  if (byteOrder !== 'LE') return null;
  const fields = fieldsOf(headerPage);
  const timestamp = fields.get('timestamp');
  const commit = fields.get('commit');
  const data = fields.get('data');
  if (!timestamp || timestamp.offset !== 0 || timestamp.size !== 8 || !commit || !data) return null;
  if (commit.size !== 4 && commit.size !== 8) return null;
  return { commitOffset: commit.offset, commitSize: commit.size, dataOffset: data.offset };
}

const SIZES: Record<string, number> = {
  common_type: 2,
  common_pid: 4,
  oldstate: 4,
  newstate: 4,
  sport: 2,
  dport: 2,
  family: 2,
  protocol: 2,
  saddr: 4,
  daddr: 4,
  saddr_v6: 16,
  daddr_v6: 16,
};

/** The tracepoint's layout; null when a field is missing or not the size this reader reads. */
export function parseTcpEventLayout(format: string): TcpEventLayout | null {
  const id = Number(/^ID:\s*(\d+)/m.exec(format)?.[1]);
  const fields = fieldsOf(format);
  let size = 0;
  for (const [name, bytes] of Object.entries(SIZES)) {
    const field = fields.get(name);
    if (!field || field.size !== bytes) return null;
    size = Math.max(size, field.offset + field.size);
  }
  if (!Number.isInteger(id) || id <= 0) return null;
  const at = (name: string) => fields.get(name)!.offset;
  return {
    id,
    pid: at('common_pid'),
    oldstate: at('oldstate'),
    newstate: at('newstate'),
    sport: at('sport'),
    dport: at('dport'),
    family: at('family'),
    protocol: at('protocol'),
    saddr: at('saddr'),
    daddr: at('daddr'),
    saddrV6: at('saddr_v6'),
    daddrV6: at('daddr_v6'),
    size,
  };
}

// The ring buffer's event header: 5 bits of type/length, 27 of time delta (ns).
const TYPE_PADDING = 29;
const TYPE_TIME_EXTEND = 30;
const TYPE_TIME_STAMP = 31;
const MAX_DATA_TYPE_LEN = 28;
/** Flags in a page's commit field: events were lost before this page, and their count follows the data. */
const MISSED_EVENTS = 2 ** 31;
const MISSED_STORED = 2 ** 30;
const COMMIT_LENGTH_MASK = 0x0fffffff;
const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO_TCP = 6;
const ABSOLUTE_TS_BITS = 2 ** 59;

export interface PageEvents {
  events: KernelTcpEvent[];
  /** Events the kernel says it lost before this page (-1: some, count not stored). */
  missed: number;
  /** Records of other events or protocols, or too short to read: skipped. */
  skipped: number;
}

/**
 * Parses the TCP state changes of one page as read from trace_pipe_raw.
 * @param offsetMs wall clock minus the trace clock (mono), in ms
 * @param v4 a cache of IPv4 address text by value, kept by the caller across pages
 */
export function parseTracePage(
  page: Buffer,
  pageLayout: PageLayout,
  event: TcpEventLayout,
  offsetMs: number,
  v4: Map<number, string> = new Map(),
): PageEvents {
  const result: PageEvents = { events: [], missed: 0, skipped: 0 };
  if (page.length < pageLayout.dataOffset) return result;
  let ts = Number(page.readBigUInt64LE(0));
  const commit =
    pageLayout.commitSize === 8
      ? Number(page.readBigUInt64LE(pageLayout.commitOffset) & 0xffffffffn)
      : page.readUInt32LE(pageLayout.commitOffset);
  const length = commit & COMMIT_LENGTH_MASK;
  const start = pageLayout.dataOffset;
  const end = Math.min(page.length, start + length);
  if (commit & MISSED_EVENTS) {
    const countAt = start + length;
    result.missed = commit & MISSED_STORED && countAt + 8 <= page.length ? Number(page.readBigUInt64LE(countAt)) : -1;
  }
  let pos = start;
  while (pos + 4 <= end) {
    const header = page.readUInt32LE(pos);
    const typeLen = header & 0x1f;
    const delta = header >>> 5;
    if (typeLen === TYPE_PADDING) {
      if (delta === 0 || pos + 8 > end) break; // the rest of the page is padding
      pos += 4 + page.readUInt32LE(pos + 4);
      continue;
    }
    if (typeLen === TYPE_TIME_EXTEND || typeLen === TYPE_TIME_STAMP) {
      if (pos + 8 > end) break;
      const value = page.readUInt32LE(pos + 4) * 2 ** 27 + delta;
      if (typeLen === TYPE_TIME_EXTEND) ts += value;
      else {
        // An absolute stamp holds the low 59 bits; the page's stamp gives the rest.
        const high = Math.floor(ts / ABSOLUTE_TS_BITS) * ABSOLUTE_TS_BITS;
        ts = high + value < ts - ABSOLUTE_TS_BITS / 2 ? high + ABSOLUTE_TS_BITS + value : high + value;
      }
      pos += 8;
      continue;
    }
    let data: number;
    let size: number;
    if (typeLen === 0) {
      if (pos + 8 > end) break;
      const withLength = page.readUInt32LE(pos + 4); // counts itself
      data = pos + 8;
      size = withLength - 4;
      pos += 4 + withLength;
    } else if (typeLen <= MAX_DATA_TYPE_LEN) {
      data = pos + 4;
      size = typeLen * 4;
      pos += 4 + size;
    } else break;
    ts += delta;
    if (size < event.size || data + event.size > end || page.readUInt16LE(data) !== event.id) {
      result.skipped++;
      continue;
    }
    const parsed = readTcpEvent(page, data, event, ts / 1e6 + offsetMs, v4);
    if (parsed) result.events.push(parsed);
    else result.skipped++;
  }
  return result;
}

function readTcpEvent(
  page: Buffer,
  at: number,
  layout: TcpEventLayout,
  whenMs: number,
  v4: Map<number, string>,
): KernelTcpEvent | null {
  if (page.readUInt16LE(at + layout.protocol) !== IPPROTO_TCP) return null;
  const family = page.readUInt16LE(at + layout.family);
  if (family !== AF_INET && family !== AF_INET6) return null;
  const from = tcpStateOf(page.readInt32LE(at + layout.oldstate));
  const to = tcpStateOf(page.readInt32LE(at + layout.newstate));
  if (!from || !to) return null;
  const v6 = family === AF_INET6;
  return {
    at: whenMs,
    pid: page.readInt32LE(at + layout.pid),
    family: v6 ? 6 : 4,
    localAddress: v6 ? ipv6(page, at + layout.saddrV6) : cachedIPv4(page, at + layout.saddr, v4),
    localPort: page.readUInt16LE(at + layout.sport),
    remoteAddress: v6 ? ipv6(page, at + layout.daddrV6) : cachedIPv4(page, at + layout.daddr, v4),
    remotePort: page.readUInt16LE(at + layout.dport),
    from,
    to,
  };
}

function ipv6(page: Buffer, at: number): string {
  return formatIPv6(page.subarray(at, at + 16));
}
