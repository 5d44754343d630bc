// Asks V8 for a full collection when the heap has grown well past what survived the last one.
//
// A poll's objects live across the turns it gives the event loop, so young-generation collections
// promote them, dead a moment later, into the old generation; V8 collects that only when it has
// grown a few times over (measured: the poll worker's heap climbing 6 MB a second to 600 MB at
// 100,000 sockets and 1,000 connections a second, for a live table of 70 MB). A host that runs for
// days should hold its table and little more: after a poll (or a table received), when the heap
// has grown past the last live size by both HEAP_GROWTH_FACTOR and HEAP_GROWTH_MIN_MB, one full
// collection brings it back. It costs a mark of the live heap (tens of ms at 100,000 sockets),
// once in several polls, against hundreds of MB.

import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Collect when the heap is this many times what survived the last collection… */
const HEAP_GROWTH_FACTOR = 1.5;
/** …and at least this many MB above it (a small heap is left to V8). */
const HEAP_GROWTH_MIN_MB = 32;

let collect: (() => void) | null | undefined;

/** V8's gc(), reached without starting Node with --expose-gc; null where V8 refuses. */
function gcFunction(): (() => void) | null {
  if (collect !== undefined) return collect;
  try {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  } catch {
    collect = null;
  }
  return collect;
}

export interface HeapTrim {
  /** Call at a quiet point (after a poll): collects when the heap has outgrown the last live size. */
  check(): void;
  /** Full collections made so far. */
  readonly collections: number;
}

export function heapTrim(): HeapTrim {
  let live = getHeapStatistics().used_heap_size;
  let collections = 0;
  return {
    check() {
      const used = getHeapStatistics().used_heap_size;
      if (used < live * HEAP_GROWTH_FACTOR || used - live < HEAP_GROWTH_MIN_MB * 2 ** 20) return;
      const gc = gcFunction();
      if (!gc) return;
      gc();
      collections++;
      live = getHeapStatistics().used_heap_size;
    },
    get collections() {
      return collections;
    },
  };
}
