// What typing in the Connections filter searches: each row of the sorted table's search text,
// built while the browser is idle, and the table cut into runs of rows with the same owner (a
// table sorted by port comes in long runs of one server's connections). A word found in a run's
// owner is in every row of the run: typing a process's name tests a few dozen owners, not 50,000
// rows. Pure (no DOM, no store): the view builds it and filters with it.
import type { ProcessInfo, Socket } from '../../src-main/shared/contract';
import { ownerWords, searchTextOf, type SocketTest } from './filter';

export type OwnerOf = (socket: Socket) => ProcessInfo | undefined;

/** The owners' records of this machine and of each source, by pid. */
export interface ProcessTables {
  local: ReadonlyMap<number, ProcessInfo>;
  remote: ReadonlyMap<string, ReadonlyMap<number, ProcessInfo>>;
}

/** A socket's owner's record, looked up on the machine it was read on. */
export const ownerLookup =
  (tables: ProcessTables): OwnerOf =>
  (socket) =>
    socket.pid === null
      ? undefined
      : (socket.host === undefined ? tables.local : tables.remote.get(socket.host))?.get(socket.pid);

export class SearchIndex {
  /** Each row's search text, by its place in `rows` (undefined: not built yet). */
  readonly texts: (string | undefined)[];
  /** Rows built so far: [0, built). */
  built = 0;
  /** Where each run of one owner ends (exclusive), and its owner's words (lowered), run by run. */
  private readonly runEnds: number[] = [];
  private readonly runOwners: string[] = [];
  private last: { socket: Socket; process: ProcessInfo | undefined; words: string } | null = null;

  constructor(readonly rows: readonly Socket[]) {
    this.texts = new Array<string | undefined>(rows.length);
  }

  /** Builds the search texts (and runs) of the rows up to `until` (exclusive). */
  buildTo(until: number, ownerOf: OwnerOf): void {
    const end = Math.min(until, this.rows.length);
    for (let i = this.built; i < end; i++) {
      const socket = this.rows[i];
      const process = ownerOf(socket);
      // The owner's words of a row with the last row's owner are the last row's (no string made).
      const last = this.last;
      const words =
        last !== null &&
        last.process === process &&
        last.socket.pid === socket.pid &&
        last.socket.processName === socket.processName
          ? last.words
          : ownerWords(process, socket).toLowerCase();
      this.last = { socket, process, words };
      this.texts[i] = searchTextOf(socket, process);
      const run = this.runOwners.length - 1;
      if (run >= 0 && this.runOwners[run] === words) this.runEnds[run] = i + 1;
      else {
        this.runOwners.push(words);
        this.runEnds.push(i + 1);
      }
    }
    this.built = Math.max(this.built, end);
  }

  /** How many runs there are (of the rows built). */
  get runs(): number {
    return this.runEnds.length;
  }
  runEnd(run: number): number {
    return this.runEnds[run];
  }
  runOwner(run: number): string {
    return this.runOwners[run];
  }
}

/** A filtered list, and each of its rows' place in the index's rows (null: it is those rows). */
export interface Filtered {
  result: Socket[];
  indexes: Int32Array | null;
}

/**
 * The rows of `from` that pass `test`, in order. `from` is the index's rows or a list of them in
 * their order (the last result, when typing on narrows it), `fromIndexes` their places there.
 * While every row passes, `from` itself is answered: nothing is copied, and what is built from it
 * is not built again.
 */
export function filterRows(
  index: SearchIndex,
  from: readonly Socket[],
  fromIndexes: Int32Array | null,
  test: SocketTest,
  ownerOf: OwnerOf,
): Filtered {
  const texts = index.texts;
  // The run holding the current row, and whether its owner holds every word (-1: not asked yet).
  // Rows come in the index's order, so the run only moves forward.
  let run = 0;
  let runEnd = index.runs > 0 ? index.runEnd(0) : 0;
  let runPasses = -1;
  // Made whole at the first row that fails, then cut to what passed (grown by pushes, a
  // 25,000-row result left copies behind for the garbage collector).
  let result: Socket[] | null = null;
  let indexes: Int32Array | null = null;
  let passed = 0;
  for (let i = 0; i < from.length; i++) {
    const socket = from[i];
    const at = fromIndexes === null ? i : fromIndexes[i];
    let passes: boolean;
    if (test.ownerPasses !== null && at < index.built) {
      while (at >= runEnd) {
        runEnd = index.runEnd(++run);
        runPasses = -1;
      }
      if (runPasses === -1) runPasses = test.ownerPasses(index.runOwner(run)) ? 1 : 0;
      passes = runPasses === 1 || test(socket, undefined, texts[at]);
    } else {
      const searchText = texts[at];
      const owner = (searchText === undefined ? test.needsOwner : test.needsOwnerBesideText)
        ? ownerOf(socket)
        : undefined;
      passes = test(socket, owner, searchText);
    }
    if (passes) {
      if (result !== null) {
        result[passed] = socket;
        indexes![passed++] = at;
      }
    } else if (result === null) {
      result = new Array<Socket>(from.length);
      indexes = new Int32Array(from.length);
      for (let k = 0; k < i; k++) {
        result[k] = from[k];
        indexes[k] = fromIndexes === null ? k : fromIndexes[k];
      }
      passed = i;
    }
  }
  if (result === null) return { result: from as Socket[], indexes: fromIndexes };
  result.length = passed;
  return { result, indexes: indexes!.subarray(0, passed) };
}
