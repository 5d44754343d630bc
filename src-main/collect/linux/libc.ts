// libc through koffi (prebuilt FFI, no compiler), loaded once a thread: the netlink reader and the
// port doctor's binds call the kernel the way a C program does.

/** The socket constants both callers use (Linux's values, from <sys/socket.h> and <netinet/in.h>). */
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;

export interface Libc {
  socket: (domain: number, type: number, protocol: number) => number;
  send: (fd: number, buffer: Buffer, length: number, flags: number) => number;
  recv: (fd: number, buffer: Buffer, length: number, flags: number) => number;
  setsockopt: (fd: number, level: number, name: number, value: Buffer, length: number) => number;
  bind: (fd: number, address: Buffer, length: number) => number;
  listen: (fd: number, backlog: number) => number;
  inetPton: (family: number, text: string, out: Buffer) => number;
  interfaceIndex: (name: string) => number;
  close: (fd: number) => number;
  /** glibc's malloc tuning (<malloc.h>); 1 when the parameter was set. */
  mallopt: (param: number, value: number) => number;
  errno: () => number;
}

export type LibcLoad = { ok: true; libc: Libc } | { ok: false; reason: string };

let loaded: LibcLoad | undefined;

/** libc, or why it cannot be loaded here (not Linux, koffi absent or broken). */
export function loadLibc(): LibcLoad {
  if (loaded) return loaded;
  if (process.platform !== 'linux') return (loaded = { ok: false, reason: 'libc is loaded on Linux only' });
  try {
    // Required lazily: the collector must run where koffi is absent (other platforms, a broken install).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const koffi = require('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    loaded = {
      ok: true,
      libc: {
        socket: lib.func('int socket(int, int, int)'),
        send: lib.func('long send(int, const void *, size_t, int)'),
        recv: lib.func('long recv(int, void *, size_t, int)'),
        setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)'),
        bind: lib.func('int bind(int, const void *, uint32_t)'),
        listen: lib.func('int listen(int, int)'),
        inetPton: lib.func('int inet_pton(int, const char *, void *)'),
        interfaceIndex: lib.func('uint32_t if_nametoindex(const char *)'),
        close: lib.func('int close(int)'),
        mallopt: lib.func('int mallopt(int, int)'),
        errno: () => koffi.errno(),
      },
    };
  } catch (error) {
    loaded = { ok: false, reason: `koffi could not load libc (${(error as Error).message})` };
  }
  return loaded;
}
