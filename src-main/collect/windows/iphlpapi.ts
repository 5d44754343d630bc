// The Windows calls the collector makes, through koffi (prebuilt FFI, no compiler): iphlpapi's
// owner-pid socket tables, as TCPView and netstat -ano read them, and kernel32's view of a
// process (its image and its start, which tells a reused pid). Loaded only on Windows.

import type { TableName } from './tables';

/** iphlpapi's answers: NO_ERROR, and the one that asks for a bigger buffer (its size written back). */
const NO_ERROR = 0;
export const ERROR_INSUFFICIENT_BUFFER = 122;
const AF_INET = 2;
const AF_INET6 = 23;
/** TCP_TABLE_OWNER_PID_ALL: listeners and connections, each with its owning pid. */
const TCP_TABLE_OWNER_PID_ALL = 5;
/** UDP_TABLE_OWNER_PID: bound UDP sockets with their owning pid. */
const UDP_TABLE_OWNER_PID = 1;
/**
 * The largest table read (64 MiB: over 2.5 million IPv4 TCP rows). A table that asks for more is
 * refused, not allocated.
 */
export const MAX_TABLE_BYTES = 64 * 1024 * 1024;
/** Times a table is asked for again after growing between the size call and the read. */
const TABLE_TRIES = 5;
/** Access right enough for the image name and the times, granted for other users' processes too. */
const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
/** FILETIME counts 100 ns from 1601-01-01; this many ms lie between then and the Unix epoch. */
const FILETIME_EPOCH_MS = 11_644_473_600_000;

/** One call of a GetExtended*Table function: fills `buffer`, or writes the size it needs into `size`. */
export type TableCall = (buffer: Buffer, size: [number]) => number;

/** The first buffer offered for a table never read before: a desktop's table fits. */
const FIRST_GUESS_BYTES = 64 * 1024;

/**
 * The bytes of a table. It is offered a buffer of `guess` bytes (the size it last needed), and
 * asked again with the size the call returns while it says that is too small (the table grew
 * meanwhile), a bounded number of times: one call in the usual case, not a call for the size first.
 */
export function readGrowingTable(call: TableCall, what: string, guess = FIRST_GUESS_BYTES): Buffer {
  let wanted = Math.min(MAX_TABLE_BYTES, Math.max(4, guess));
  let result = ERROR_INSUFFICIENT_BUFFER;
  for (let attempt = 0; attempt <= TABLE_TRIES; attempt++) {
    const buffer = Buffer.alloc(wanted);
    const size: [number] = [buffer.length];
    result = call(buffer, size);
    if (result === NO_ERROR) return buffer.subarray(0, Math.min(size[0], buffer.length));
    if (result !== ERROR_INSUFFICIENT_BUFFER) break;
    if (size[0] > MAX_TABLE_BYTES)
      throw new Error(`${what}: the table asks for ${size[0]} bytes, over the ${MAX_TABLE_BYTES} read at most`);
    // Room for the rows that may come between this call and the next.
    wanted = Math.min(MAX_TABLE_BYTES, Math.max(size[0] + 4096, wanted + 1));
  }
  throw new Error(
    result === ERROR_INSUFFICIENT_BUFFER
      ? `${what}: the table kept growing while it was read`
      : `${what} failed (error ${result})`,
  );
}

/** A FILETIME (100 ns since 1601; koffi gives a 64-bit value past 2^53 as a BigInt) as ms since the epoch. */
export function fileTimeToMs(fileTime: bigint | number): number {
  return Number(BigInt(fileTime) / 10_000n) - FILETIME_EPOCH_MS;
}

export interface ProcessImage {
  /** The image's full path, e.g. C:\Program Files\nodejs\node.exe. */
  path: string | null;
  /** When the process started (ms since the epoch), or null where it may not be opened. */
  startedMs: number | null;
}

export interface WindowsApi {
  table(name: TableName): Buffer;
  /** SetTcpEntry with a MIB_TCPROW (close-connection.ts): its result code. */
  setTcpEntry(row: Buffer): number;
  /** What a pid is now, or null when no process has it (or it may not be opened). */
  process(pid: number): ProcessImage | null;
}

/** Binds the calls; throws where koffi or the DLLs cannot be loaded (not Windows). */
export function loadWindowsApi(): WindowsApi {
  // Required here, not imported at the top: only Windows loads the FFI.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as typeof import('koffi');
  const iphlpapi = koffi.load('iphlpapi.dll');
  const kernel32 = koffi.load('kernel32.dll');
  const tcpTable = iphlpapi.func(
    'uint32 __stdcall GetExtendedTcpTable(_Out_ uint8_t *table, _Inout_ uint32_t *size, int order, uint32_t af, int tableClass, uint32_t reserved)',
  );
  const udpTable = iphlpapi.func(
    'uint32 __stdcall GetExtendedUdpTable(_Out_ uint8_t *table, _Inout_ uint32_t *size, int order, uint32_t af, int tableClass, uint32_t reserved)',
  );
  const setTcpEntry = iphlpapi.func('uint32 __stdcall SetTcpEntry(_In_ uint8_t *row)');
  const openProcess = kernel32.func('void * __stdcall OpenProcess(uint32_t access, int inherit, uint32_t pid)');
  const closeHandle = kernel32.func('int __stdcall CloseHandle(void *handle)');
  const imageName = kernel32.func(
    'int __stdcall QueryFullProcessImageNameW(void *process, uint32_t flags, _Out_ uint8_t *name, _Inout_ uint32_t *size)',
  );
  const processTimes = kernel32.func(
    'int __stdcall GetProcessTimes(void *process, _Out_ uint64_t *creation, _Out_ uint64_t *exit, _Out_ uint64_t *kernel, _Out_ uint64_t *user)',
  );
  const calls: Record<TableName, TableCall> = {
    tcp4: (buffer, size) => tcpTable(buffer, size, 0, AF_INET, TCP_TABLE_OWNER_PID_ALL, 0) as number,
    tcp6: (buffer, size) => tcpTable(buffer, size, 0, AF_INET6, TCP_TABLE_OWNER_PID_ALL, 0) as number,
    udp4: (buffer, size) => udpTable(buffer, size, 0, AF_INET, UDP_TABLE_OWNER_PID, 0) as number,
    udp6: (buffer, size) => udpTable(buffer, size, 0, AF_INET6, UDP_TABLE_OWNER_PID, 0) as number,
  };
  /** What each table last took, with a quarter more: the next read's first offer. */
  const guesses = new Map<TableName, number>();
  return {
    setTcpEntry: (row) => setTcpEntry(row) as number,
    table(name) {
      const what = `GetExtended${name.startsWith('tcp') ? 'Tcp' : 'Udp'}Table`;
      const bytes = readGrowingTable(calls[name], what, guesses.get(name));
      guesses.set(name, Math.ceil(bytes.length * 1.25) + 4096);
      return bytes;
    },
    process(pid) {
      const handle = openProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
      if (!handle) return null;
      try {
        // MAX_PATH is not the limit of a path; 32,767 UTF-16 units is.
        const name = Buffer.alloc(32_768 * 2);
        const length: [number] = [32_768];
        const path = imageName(handle, 0, name, length) ? name.toString('utf16le', 0, length[0] * 2) : null;
        const creation: [bigint | number] = [0];
        const times = processTimes(handle, creation, [0], [0], [0]);
        const startedMs = times ? fileTimeToMs(creation[0]) : null;
        return { path, startedMs };
      } finally {
        closeHandle(handle);
      }
    },
  };
}
