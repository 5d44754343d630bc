// The kernel's socket table through netlink (NETLINK_SOCK_DIAG, INET_DIAG and UNIX_DIAG: what `ss` uses), for
// Porthole's own namespace: binary answers parsed straight from one reused buffer, no text to
// format in the kernel nor to parse here. The calls go to libc through koffi (a prebuilt FFI: no
// compiler on users' machines); without it, or without permission, the collector reads /proc.
// The reply layout is the kernel's ABI (include/uapi/linux/inet_diag.h), fixed since 2.6.

import { endianness } from 'node:os';
import { decodeName } from './utf8';
import { AF_INET, AF_INET6, loadLibc, SOCK_CLOEXEC, SOL_SOCKET, type Libc } from './libc';
import type { SocketState, TcpTraffic } from '../../shared/contract';
import { cachedIPv4, cachedIPv6 } from '../addresses';
import { inetRow, stateOf, type InetRow } from './proc-net';
import { UNIX_TYPE, type UnixRow } from './proc-net-unix';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
/**
 * The first inet_diag request (struct inet_diag_req, kept by the kernel for old tools): it asks
 * for TCP sockets of every family (AF_UNSPEC), in one walk of the table. The connections' hash
 * holds both families; asking for each family walks it twice, and the second walk of a host with
 * 90,000 IPv4 sockets and no IPv6 ones costs as much kernel time as a third of the first.
 */
const TCPDIAG_GETSOCK = 18;
const SOCK_DESTROY = 21;
const NLM_F_ACK = 0x4;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
/** Set on a dump's messages when the table changed while it was walked: the dump may miss sockets. */
const NLM_F_DUMP_INTR = 0x10;
/** Dumps tried when the kernel says one was interrupted; the last one is kept, marked so. */
const DUMP_TRIES = 3;
/** How long a dump in steps reads before it lets its caller give the event loop a turn (ms). */
const DUMP_STEP_MS = 8;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const SO_RCVTIMEO = 20;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const HEADER = 16;
const REQUEST = HEADER + 56;
/** struct inet_diag_req: family, src_len, dst_len, ext, the socket id (48), states, dbs. */
const BOTH_FAMILIES_REQUEST = HEADER + 60;
/** struct inet_diag_msg: family, state, timer, retrans, the socket id (48), expires, rqueue, wqueue, uid, inode. */
const MESSAGE = 72;
const ALL_STATES = 0xffffffff;
/** 1 << TCP_LISTEN (10). */
const LISTEN_STATE = 1 << 10;
/**
 * A dump of one port's sockets: an INET_DIAG_REQ_BYTECODE attribute after the request, holding
 * `sport == P || dport == P` as `ss sport = :P or dport = :P` compiles it (struct inet_diag_bc_op:
 * code, yes, no; a jump past the end rejects, landing on it accepts).
 */
const INET_DIAG_REQ_BYTECODE = 1;
const INET_DIAG_BC_JMP = 1;
const INET_DIAG_BC_S_EQ = 11;
const INET_DIAG_BC_D_EQ = 12;
const PORT_FILTER = 20;
const FILTERED_REQUEST = REQUEST + 4 + PORT_FILTER;

/** The bytecode of `sport == port || dport == port` (the kernel audits it; 4.16 and later know S_EQ). */
export function portFilterBytecode(port: number): Buffer {
  const code = Buffer.alloc(PORT_FILTER);
  const op = (at: number, kind: number, yes: number, no: number) => {
    code[at] = kind;
    code[at + 1] = yes;
    code.writeUInt16LE(no, at + 2);
  };
  op(0, INET_DIAG_BC_S_EQ, 8, 12); // sport == P: on to the jump; else to the dport test
  op(4, 0, 0, port);
  op(8, INET_DIAG_BC_JMP, 4, 12); // matched: jump to the end (accept)
  op(12, INET_DIAG_BC_D_EQ, 8, 12); // dport == P: to the end (accept); else past it (reject)
  op(16, 0, 0, port);
  return code;
}
/** UNIX_DIAG (include/uapi/linux/unix_diag.h): struct unix_diag_req and unix_diag_msg, the name attribute. */
const AF_UNIX = 1;
const UNIX_REQUEST = HEADER + 24;
const UNIX_MESSAGE = 16;
const UDIAG_SHOW_NAME = 0x1;
const UDIAG_SHOW_PEER = 0x4;
const UNIX_DIAG_NAME = 0;
const UNIX_DIAG_PEER = 2;
/** A Unix socket's sk_state (TCP numbers) as /proc/net/unix and ss name it. */
const UNIX_STATE: Record<number, SocketState> = { 1: 'ESTABLISHED', 2: 'SYN_SENT', 7: 'UNCONN', 10: 'LISTEN' };
/** The attribute carrying struct tcp_info (include/uapi/linux/inet_diag.h), and its request bit. */
const INET_DIAG_INFO = 2;
const INFO_EXTENSION = 1 << (INET_DIAG_INFO - 1);
/** Offsets in struct tcp_info (include/uapi/linux/tcp.h); a field past the attribute's end is absent (older kernel). */
const TCPI_RTT = 68;
const TCPI_TOTAL_RETRANS = 100;
const TCPI_BYTES_ACKED = 120;
const TCPI_BYTES_RECEIVED = 128;
const TCPI_SEGS_OUT = 136;
const TCPI_SEGS_IN = 140;
const TCPI_DELIVERY_RATE = 160;

/** The kernel answered a dump's request with an error: it will not give this dump (as opposed to a read failing). */
export class KernelRefusal extends Error {}

export type SockDiagOpening = { ok: true; reader: SockDiagReader } | { ok: false; reason: string };

export interface DiagDump {
  rows: InetRow[];
  /** Answers that were not a well-formed socket message: skipped. */
  malformed: number;
  /** The kernel said the table changed during the dump (NLM_F_DUMP_INTR), on every try. */
  interrupted?: boolean;
}

/**
 * A table's rows without an inode (TIME_WAIT; closed by their owner) by the kernel's cookie for
 * the socket, kept from dump to dump: the next dump hands an unchanged one back as the same
 * object. A dump refreshes each row it reads (begin, keep) and the rest go at its end; the map is
 * kept, not made anew a dump (60,000 entries at 1,000 connections a second, most of them the same).
 * Bounded by the table: a row stays one dump after its socket has gone.
 */
export class CookieRows {
  private readonly rows = new Map<number, { row: InetRow; dump: number }>();
  private dump = 0;

  /** A dump (or a dump's try) starts. */
  begin(): void {
    this.dump++;
  }

  /** The row of this cookie from an earlier dump. */
  get(cookie: number): InetRow | undefined {
    return this.rows.get(cookie)?.row;
  }

  keep(cookie: number, row: InetRow): void {
    const entry = this.rows.get(cookie);
    if (entry === undefined) this.rows.set(cookie, { row, dump: this.dump });
    else {
      entry.row = row;
      entry.dump = this.dump;
    }
  }

  /** A dump has ended whole: the rows it did not read are gone. */
  end(): void {
    this.rows.forEach((entry, cookie) => {
      if (entry.dump !== this.dump) this.rows.delete(cookie);
    });
  }

  get size(): number {
    return this.rows.size;
  }
}

/** One netlink socket, reused for every dump of every poll. */
export class SockDiagReader {
  private readonly buffer = Buffer.alloc(1 << 16);
  private readonly request = Buffer.alloc(REQUEST);
  private readonly bothFamiliesRequest = Buffer.alloc(BOTH_FAMILIES_REQUEST);
  private readonly filteredRequest = Buffer.alloc(FILTERED_REQUEST);
  private readonly unixRequest = Buffer.alloc(UNIX_REQUEST);
  private readonly texts = addressTexts();
  /**
   * Each table's rows without an inode, by cookie, from its whole dumps. At 1,000 connections a
   * second a host holds 60,000 TIME_WAIT sockets; made anew every poll they were most of a poll's
   * garbage.
   */
  private readonly cookieRows = new Map<string, CookieRows>();
  private seq = 0;
  private fd: number;
  /** A dump in steps is under way on this socket (dumpTcpInSteps). */
  private busy = false;
  private spareReader: SockDiagReader | null = null;

  private constructor(
    private readonly lib: Libc,
    fd: number,
  ) {
    this.fd = fd;
  }

  private static opened: SockDiagOpening | null = null;

  /**
   * The process's (thread's) one reader: a dump runs start to end in one call, so collectors in
   * the same thread never interleave on it.
   */
  static shared(): SockDiagOpening {
    return (SockDiagReader.opened ??= SockDiagReader.open());
  }

  /** Opens a netlink socket; says why when this system or build cannot. */
  static open(): SockDiagOpening {
    if (process.platform !== 'linux') return { ok: false, reason: 'netlink is a Linux interface' };
    if (endianness() !== 'LE') return { ok: false, reason: 'this reader knows little-endian machines only' };
    const load = loadLibc();
    if (!load.ok) return load;
    const lib = load.libc;
    const fd = lib.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return { ok: false, reason: `no netlink sock_diag socket (errno ${lib.errno()})` };
    // A dump is answered at once; a second is a generous bound against a hang.
    const timeout = Buffer.alloc(16);
    timeout.writeBigInt64LE(1n, 0);
    lib.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16);
    return { ok: true, reader: new SockDiagReader(lib, fd) };
  }

  /**
   * Every socket of one protocol and family, in every state (TIME_WAIT and request sockets too);
   * with `traffic`, TCP connections carry their tcp_info counters. `listening`: TCP listeners
   * only, for which the kernel walks its (small) listening hash and not the connections'. `port`:
   * only the sockets with that local or remote port, chosen by the kernel (`who`).
   * @throws when the kernel refuses the dump (e.g. no udp_diag): the caller falls back to /proc
   */
  dump(
    protocol: 'tcp' | 'udp',
    family: 4 | 6,
    previous?: ReadonlyMap<number, InetRow>,
    traffic = false,
    states: 'all' | 'listening' = 'all',
    port?: number,
  ): DiagDump {
    if (this.busy) return this.spare().dump(protocol, family, previous, traffic, states, port);
    const extensions = traffic && protocol === 'tcp' ? INFO_EXTENSION : 0;
    // Only a whole table's dump is kept for the next: a part of it would forget the rest.
    const table = states === 'all' && port === undefined ? `${protocol}${family}` : null;
    return finish(
      this.inetDump(table, protocol, previous, Infinity, () =>
        this.send(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, family, protocol, undefined, extensions, states, port),
      ),
    );
  }

  /**
   * Every TCP socket of both families, in every state, in one walk of the kernel's table (see
   * TCPDIAG_GETSOCK); rows as dump() gives them, IPv4 and IPv6 mixed in the kernel's order.
   * @throws when the kernel refuses it: the caller dumps each family
   */
  dumpTcp(previous?: ReadonlyMap<number, InetRow>, traffic = false): DiagDump {
    return finish(this.dumpTcpInSteps(previous, traffic, Infinity));
  }

  /**
   * dumpTcp() in steps of about DUMP_STEP_MS: the caller may give its event loop a turn at each
   * yield. A dump of 90,000 sockets with their tcp_info is ~100 ms of kernel and parsing time on a
   * busy host, and the poll worker streams the kernel's TCP events meanwhile.
   */
  *dumpTcpInSteps(
    previous?: ReadonlyMap<number, InetRow>,
    traffic = false,
    stepMs = DUMP_STEP_MS,
  ): Generator<void, DiagDump> {
    if (this.busy) return this.spare().dumpTcp(previous, traffic);
    return yield* this.inetDump('tcp', 'tcp', previous, stepMs, () => {
      const { request, seq } = this.header(this.bothFamiliesRequest, TCPDIAG_GETSOCK, NLM_F_DUMP);
      request[HEADER + 3] = traffic ? INFO_EXTENSION : 0; // the family byte stays 0: AF_UNSPEC
      request.writeUInt32LE(ALL_STATES, HEADER + 52);
      this.transmit(request);
      return seq;
    });
  }

  /**
   * One inet dump (`request` sends it and gives its sequence number), made again while the
   * kernel says it was interrupted (at most DUMP_TRIES times; the last is kept), yielding every
   * `stepMs`. A whole `table`'s rows without an inode are kept for its next dump. Until it ends
   * this reader is busy (the kernel refuses a second dump on its socket): dumps asked meanwhile in
   * this thread go to a spare reader.
   */
  private *inetDump(
    table: string | null,
    protocol: 'tcp' | 'udp',
    previous: ReadonlyMap<number, InetRow> | undefined,
    stepMs: number,
    request: () => number,
  ): Generator<void, DiagDump> {
    this.busy = true;
    try {
      const cookies = table === null ? undefined : this.cookiesOf(table);
      let dump: DiagDump;
      for (let attempt = 1; ; attempt++) {
        cookies?.begin();
        const seq = request();
        const result: DiagDump = { rows: [], malformed: 0 };
        yield* this.receiveDumpInSteps(seq, stepMs, (data) =>
          parseDiagMessages(data, seq, protocol, result, previous, this.texts, cookies),
        );
        dump = result;
        if (!dump.interrupted || attempt >= DUMP_TRIES) break;
      }
      cookies?.end();
      return dump;
    } finally {
      this.busy = false;
    }
  }

  private cookiesOf(table: string): CookieRows {
    let cookies = this.cookieRows.get(table);
    if (!cookies) this.cookieRows.set(table, (cookies = new CookieRows()));
    return cookies;
  }

  /**
   * Every Unix socket of this namespace with its bound name, as the kernel has it: binary, so a
   * path with a newline in it is one name, never text shaped like another row (/proc/net/unix).
   * @throws when the kernel refuses the dump (no unix_diag): the caller reads /proc
   */
  dumpUnix(): { rows: UnixRow[]; malformed: number; interrupted?: boolean } {
    if (this.busy) return this.spare().dumpUnix();
    return this.wholeDump(() => {
      const { request, seq } = this.header(this.unixRequest, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP);
      request[HEADER] = AF_UNIX;
      request.writeUInt32LE(ALL_STATES, HEADER + 4);
      request.writeUInt32LE(UDIAG_SHOW_NAME | UDIAG_SHOW_PEER, HEADER + 12);
      this.transmit(request);
      const result: { rows: UnixRow[]; malformed: number; interrupted?: boolean } = { rows: [], malformed: 0 };
      this.receiveDump((data) => parseUnixDiagMessages(data, seq, result));
      return result;
    });
  }

  /** A dump made again while the kernel says it was interrupted, at most DUMP_TRIES times; the last is kept. */
  private wholeDump<T extends { interrupted?: boolean }>(dump: () => T): T {
    let result = dump();
    for (let attempt = 2; attempt <= DUMP_TRIES && result.interrupted; attempt++) result = dump();
    return result;
  }

  /** Reads a dump's answers into `parse` until it says the dump is done. */
  private receiveDump(parse: (data: Buffer) => boolean): void {
    while (!parse(this.receive()));
  }

  /** receiveDump() yielding every `stepMs`; a dump its caller gives up on is read to its end. */
  private *receiveDumpInSteps(seq: number, stepMs: number, parse: (data: Buffer) => boolean): Generator<void, void> {
    let since = performance.now();
    while (!parse(this.receive())) {
      if (performance.now() - since < stepMs) continue;
      let resumed = false;
      try {
        yield;
        resumed = true;
      } finally {
        // Closed at the yield: the kernel holds the rest of the dump, and refuses the socket any
        // other dump (EBUSY) until it has been read.
        if (!resumed) this.drain(seq);
      }
      since = performance.now();
    }
  }

  /** One read of a dump's answers. */
  private receive(): Buffer {
    const n = this.lib.recv(this.fd, this.buffer, this.buffer.length, 0);
    if (n < 0) throw new Error(`netlink recv failed (errno ${this.lib.errno()})`);
    if (n === 0) throw new Error('netlink closed the dump');
    return this.buffer.subarray(0, n);
  }

  /** Reads and drops the rest of dump `seq`, up to its end (or the socket's read timeout). */
  private drain(seq: number): void {
    const ignored: DiagDump = { rows: [], malformed: 0 };
    try {
      while (!walkDump(this.receive(), seq, 'tcp', MESSAGE, ignored, () => true));
    } catch {
      // the kernel's error for it, or nothing more to read: the dump is over either way
    }
  }

  /** A second reader, for dumps asked while a dump in steps holds this one (opened once, kept). */
  private spare(): SockDiagReader {
    if (!this.spareReader) {
      const opening = SockDiagReader.open();
      if (!opening.ok) throw new Error(opening.reason);
      this.spareReader = opening.reader;
    }
    return this.spareReader;
  }

  /**
   * Closes one TCP socket by its identity, as `ss -K` does (the kernel's tcp_abort: its owner gets
   * ECONNABORTED, the peer a reset). Returns null when closed, else the kernel's errno.
   */
  destroy(target: {
    family: 4 | 6;
    localAddress: string;
    localPort: number;
    remoteAddress: string;
    remotePort: number;
  }): number | null {
    if (this.busy) return this.spare().destroy(target);
    const local = addressBytes(target.localAddress, target.family);
    const remote = addressBytes(target.remoteAddress, target.family);
    if (!local || !remote) throw new Error('not an address of that family');
    const seq = this.send(SOCK_DESTROY, NLM_F_ACK, target.family, 'tcp', (id) => {
      id.writeUInt16BE(target.localPort, 0);
      id.writeUInt16BE(target.remotePort, 2);
      local.copy(id, 4);
      remote.copy(id, 20);
      id.writeUInt32LE(0xffffffff, 40); // no cookie: match by the 4-tuple
      id.writeUInt32LE(0xffffffff, 44);
    });
    for (;;) {
      const n = this.lib.recv(this.fd, this.buffer, this.buffer.length, 0);
      if (n < 0) throw new Error(`netlink recv failed (errno ${this.lib.errno()})`);
      for (let at = 0; at + HEADER + 4 <= n;) {
        const length = this.buffer.readUInt32LE(at);
        if (length < HEADER) break;
        if (this.buffer.readUInt16LE(at + 4) === NLMSG_ERROR && this.buffer.readUInt32LE(at + 8) === seq) {
          const errno = -this.buffer.readInt32LE(at + HEADER);
          return errno === 0 ? null : errno;
        }
        at += (length + 3) & ~3;
      }
    }
  }

  /** Sends one request (a header and an inet_diag_req_v2, every state); returns its sequence number. */
  private send(
    type: number,
    flags: number,
    family: 4 | 6,
    protocol: 'tcp' | 'udp',
    socketId?: (id: Buffer) => void,
    extensions = 0,
    states: 'all' | 'listening' = 'all',
    port?: number,
  ): number {
    const { request, seq } = this.header(port === undefined ? this.request : this.filteredRequest, type, flags);
    if (port !== undefined) {
      request.writeUInt16LE(4 + PORT_FILTER, REQUEST);
      request.writeUInt16LE(INET_DIAG_REQ_BYTECODE, REQUEST + 2);
      portFilterBytecode(port).copy(request, REQUEST + 4);
    }
    request[HEADER] = family === 4 ? AF_INET : AF_INET6;
    request[HEADER + 1] = protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP;
    request[HEADER + 2] = extensions;
    request.writeUInt32LE(states === 'all' ? ALL_STATES : LISTEN_STATE, HEADER + 4);
    socketId?.(request.subarray(HEADER + 8, HEADER + 56));
    this.transmit(request);
    return seq;
  }

  /** A request buffer cleared, its netlink header written (its length is the buffer's), and its sequence number. */
  private header(request: Buffer, type: number, flags: number): { request: Buffer; seq: number } {
    if (this.fd < 0) throw new Error('the netlink socket is closed');
    const seq = ++this.seq;
    request.fill(0);
    request.writeUInt32LE(request.length, 0);
    request.writeUInt16LE(type, 4);
    request.writeUInt16LE(NLM_F_REQUEST | flags, 6);
    request.writeUInt32LE(seq, 8);
    return { request, seq };
  }

  private transmit(request: Buffer): void {
    if (this.lib.send(this.fd, request, request.length, 0) !== request.length)
      throw new Error(`netlink send failed (errno ${this.lib.errno()})`);
  }

  close(): void {
    this.spareReader?.close();
    this.spareReader = null;
    if (this.fd < 0) return;
    this.lib.close(this.fd);
    this.fd = -1;
  }
}

/** Runs steps to their end at once (a dump in steps, read without giving turns). */
function finish<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * Parses the messages of one recv() into `into`; true once the dump is done.
 * @throws the kernel's error for the request
 */
export function parseDiagMessages(
  data: Buffer,
  seq: number,
  protocol: 'tcp' | 'udp',
  into: DiagDump,
  previous?: ReadonlyMap<number, InetRow>,
  texts: AddressTexts = addressTexts(),
  cookies?: CookieRows,
): boolean {
  return walkDump(data, seq, protocol, MESSAGE, into, (at, end) => {
    const row = rowOf(data, at, end, protocol, previous, texts, cookies);
    if (row) into.rows.push(row);
    return row !== null;
  });
}

/** The same for a Unix dump (UNIX_DIAG). */
export function parseUnixDiagMessages(
  data: Buffer,
  seq: number,
  into: { rows: UnixRow[]; malformed: number; interrupted?: boolean },
): boolean {
  return walkDump(data, seq, 'unix', UNIX_MESSAGE, into, (at, end) => {
    const row = unixRowOf(data, at, end);
    if (row) into.rows.push(row);
    return row !== null;
  });
}

/**
 * Walks the netlink messages of one recv(), handing each socket message of this dump (`seq`) from
 * its payload to its end to `row`, which says whether it was a socket; true once the dump is done.
 */
function walkDump(
  data: Buffer,
  seq: number,
  what: string,
  minimum: number,
  into: { malformed: number; interrupted?: boolean },
  row: (at: number, end: number) => boolean,
): boolean {
  let at = 0;
  while (at + HEADER <= data.length) {
    const length = data.readUInt32LE(at);
    const type = data.readUInt16LE(at + 4);
    if (length < HEADER || at + length > data.length) {
      into.malformed++;
      return false; // a cut message: the rest of this read cannot be trusted
    }
    if (data.readUInt32LE(at + 8) === seq) {
      if (data.readUInt16LE(at + 6) & NLM_F_DUMP_INTR) into.interrupted = true;
      if (type === NLMSG_DONE) return true;
      if (type === NLMSG_ERROR) {
        const errno = length >= HEADER + 4 ? -data.readInt32LE(at + HEADER) : 0;
        throw new KernelRefusal(`the kernel refused the ${what} dump (errno ${errno})`);
      }
      // Answers carry the request's type: SOCK_DIAG_BY_FAMILY, or TCPDIAG_GETSOCK for dumpTcp().
      const socket = type === SOCK_DIAG_BY_FAMILY || type === TCPDIAG_GETSOCK;
      if (socket && length >= HEADER + minimum && !row(at + HEADER, at + length)) into.malformed++;
    }
    at += (length + 3) & ~3;
  }
  return false;
}

function unixRowOf(data: Buffer, at: number, end: number): UnixRow | null {
  const state = UNIX_STATE[data[at + 2]];
  if (data[at] !== AF_UNIX || !state) return null;
  const name = attribute(data, at + UNIX_MESSAGE, end, UNIX_DIAG_NAME);
  const peer = attribute(data, at + UNIX_MESSAGE, end, UNIX_DIAG_PEER);
  const row: UnixRow = {
    inode: data.readUInt32LE(at + 4),
    state,
    path: name ? unixName(data.subarray(name.at, name.end)) : null,
  };
  const type = UNIX_TYPE[data[at + 1]];
  if (type) row.type = type;
  if (peer && peer.end - peer.at >= 4 && data.readUInt32LE(peer.at) !== 0) row.peer = data.readUInt32LE(peer.at);
  return row;
}

/**
 * A bound name as /proc/net/unix prints it: an abstract name's NUL bytes as `@`; a path without
 * the NUL that ends it. UTF-8, invalid bytes as \xNN (decodeName), as the /proc reader reads them.
 */
function unixName(bytes: Buffer): string {
  if (bytes.length > 0 && bytes[0] === 0) {
    return bytes
      .toString('latin1')
      .split('\0')
      .map((piece) => decodeName(Buffer.from(piece, 'latin1')))
      .join('@');
  }
  const nul = bytes.indexOf(0);
  return decodeName(bytes.subarray(0, nul < 0 ? bytes.length : nul));
}

function rowOf(
  data: Buffer,
  at: number,
  end: number,
  protocol: 'tcp' | 'udp',
  previous: ReadonlyMap<number, InetRow> | undefined,
  texts: AddressTexts,
  cookies: CookieRows | undefined,
): InetRow | null {
  const family = data[at] === AF_INET ? 4 : data[at] === AF_INET6 ? 6 : null;
  const state: SocketState | null = stateOf(protocol, data[at + 1]);
  if (family === null || state === null) return null;
  const inode = data.readUInt32LE(at + 68);
  // struct inet_diag_sockid's idiag_cookie (two u32 in host order): the socket's number since boot,
  // which its TIME_WAIT keeps; below 2^53 for as long as a host can run.
  const cookie = inode === 0 ? data.readUInt32LE(at + 44) + data.readUInt32LE(at + 48) * 2 ** 32 : 0;
  const last = inode !== 0 ? previous?.get(inode) : cookies?.get(cookie);
  // A TIME_WAIT socket by its cookie is the very socket last read (cookies are never reused), and
  // nothing about it changes (no counters, uid 0) until it goes: last poll's row, nothing read.
  // The same cookie in another state is a closed socket entering TIME_WAIT: read in full.
  if (last !== undefined && inode === 0 && state === 'TIME_WAIT' && last.state === 'TIME_WAIT') {
    cookies?.keep(cookie, last);
    return last;
  }
  const row = withTraffic(
    inetRow(
      protocol,
      family,
      address(data, at + 8, family, texts),
      data.readUInt16BE(at + 4),
      address(data, at + 24, family, texts),
      data.readUInt16BE(at + 6),
      state,
      data.readUInt32LE(at + 64),
      inode,
      last,
    ),
    last,
    data,
    at,
    end,
  );
  if (inode === 0) cookies?.keep(cookie, row);
  return row;
}

/** A connection's row with its tcp_info figures (a copy when `row` is last poll's object, `last`). */
function withTraffic(row: InetRow, last: InetRow | undefined, data: Buffer, at: number, end: number): InetRow {
  const state = row.state;
  // A listener's counters say nothing (its connections have their own): only connections carry them.
  const info = state === 'LISTEN' ? null : attribute(data, at + MESSAGE, end, INET_DIAG_INFO);
  // A kernel before 4.2 has no byte or segment counters: no figures rather than zeros.
  if (!info || info.end - info.at < TCPI_SEGS_IN + 4) return row;
  const before = row.traffic;
  const acked = u64(data, info.at + TCPI_BYTES_ACKED, info.end);
  const received = u64(data, info.at + TCPI_BYTES_RECEIVED, info.end);
  const segmentsOut = u32(data, info.at + TCPI_SEGS_OUT, info.end);
  const segmentsIn = u32(data, info.at + TCPI_SEGS_IN, info.end);
  const retransmits = u32(data, info.at + TCPI_TOTAL_RETRANS, info.end);
  if (
    before &&
    before.bytesAcked === acked &&
    before.bytesReceived === received &&
    before.segmentsOut === segmentsOut &&
    before.segmentsIn === segmentsIn &&
    before.retransmits === retransmits
  ) {
    return row; // nothing moved: last poll's row (and its figures) stand
  }
  const rtt = u32(data, info.at + TCPI_RTT, info.end);
  const traffic: TcpTraffic = {
    bytesAcked: acked,
    bytesReceived: received,
    segmentsOut,
    segmentsIn,
    retransmits,
    rttMs: rtt > 0 ? rtt / 1000 : null,
    deliveryRate:
      info.at + TCPI_DELIVERY_RATE + 8 <= info.end ? u64(data, info.at + TCPI_DELIVERY_RATE, info.end) : null,
    sendRate: null,
    receiveRate: null,
  };
  // Last poll's row object may be held downstream: a new figure makes a copy, never a change.
  return before || row === last ? { ...row, traffic } : Object.assign(row, { traffic });
}

/** One attribute's payload bounds within a message (from `at`, its attributes), or null when it has none. */
function attribute(data: Buffer, at: number, end: number, type: number): { at: number; end: number } | null {
  while (at + 4 <= end) {
    const length = data.readUInt16LE(at);
    if (length < 4 || at + length > end) return null;
    if (data.readUInt16LE(at + 2) === type) return { at: at + 4, end: at + length };
    at += (length + 3) & ~3;
  }
  return null;
}

function u32(data: Buffer, at: number, end: number): number {
  return at + 4 <= end ? data.readUInt32LE(at) : 0;
}

/** Exact up to 2^53 bytes: no connection carries more. */
function u64(data: Buffer, at: number, end: number): number {
  return at + 8 <= end ? data.readUInt32LE(at + 4) * 0x1_0000_0000 + data.readUInt32LE(at) : 0;
}

/** Address texts already made, by their bytes (bounded in cachedIPv4 and cachedIPv6). */
export interface AddressTexts {
  v4: Map<number, string>;
  v6: Map<string, string>;
}

const addressTexts = (): AddressTexts => ({ v4: new Map(), v6: new Map() });

function address(data: Buffer, at: number, family: 4 | 6, texts: AddressTexts): string {
  return family === 6 ? cachedIPv6(data, at, texts.v6) : cachedIPv4(data, at, texts.v4);
}

/** An address's bytes in network order (4 for IPv4, 16 for IPv6, IPv4-mapped included); null when it is not one. */
export function addressBytes(text: string, family: 4 | 6): Buffer | null {
  const v4 = (t: string): number[] | null => {
    const parts = t.split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
    return parts.map(Number);
  };
  if (family === 4) {
    const bytes = v4(text);
    return bytes ? Buffer.from(bytes) : null;
  }
  let head = text;
  let tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const bytes = v4(dotted[2]);
    if (!bytes) return null;
    head = dotted[1].endsWith('::') ? dotted[1] : dotted[1].slice(0, -1);
    tail = bytes;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const words = 8 - tail.length / 2;
  if (!left.concat(right).every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  const missing = words - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  all.forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), i * 2));
  Buffer.from(tail).copy(bytes, 12);
  return bytes;
}
