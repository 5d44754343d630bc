// glibc's malloc, set to give freed memory back to the OS.
//
// By default glibc raises its mmap threshold to the size of each large block freed (up to 32 MB),
// and its trim threshold to twice that. A host frees large blocks all the time: each message
// between threads is copied through one (a first table of 60,000 sockets is about 20 MB of
// text), as is each write to stdout or a socket. After the first such block, every later one
// below that size is carved out of the arenas instead of mapped, and up to twice that size of
// freed memory stays in the arenas, counted in the process's RSS for good (measured: `watch
// --json` at 64,000 sockets held 199–219 MB; with the thresholds fixed, 156–171 MB). Setting
// either threshold turns the adjustment off: blocks of MMAP_THRESHOLD or more are mapped, and
// unmapped when freed, and the arenas shrink once TRIM_THRESHOLD of their top is free.

import { loadLibc } from './libc';

/** mallopt's parameters (<malloc.h>). */
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;
/** Blocks this size or bigger are mapped on their own: a message, a write, never a socket's row. */
const MMAP_THRESHOLD = 256 * 1024;
/** Free memory at the top of an arena beyond this is given back. */
const TRIM_THRESHOLD = 1024 * 1024;

let done: boolean | undefined;

/**
 * Fixes malloc's thresholds for this process (once; every thread shares them). False where there
 * is no glibc to ask (koffi absent, another libc): the process then runs with its defaults.
 */
export function fixMallocThresholds(): boolean {
  if (done !== undefined) return done;
  const load = loadLibc();
  done =
    load.ok &&
    load.libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) === 1 &&
    load.libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) === 1;
  return done;
}
