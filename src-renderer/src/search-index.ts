// What typing in the Connections filter searches: each row of the sorted table's own text (its
// endpoints, state, protocol…), built while the browser is idle, and the table cut into runs of
// rows with the same owner (a table sorted by port comes in long runs of one server's
// connections), each with its owner's words. A word found in a run's owner is in every row of the
// run: typing a process's name asks a few dozen owners, not 50,000 rows; and a row's text need not
// hold its owner's words (half the strings a 50,000-row table kept, and the garbage collector
// copied). A word in neither a run's owner nor its rows' texts joined rules the run out in one
// search. Pure (no DOM, no store): the view builds it and filters with it.
import type { ProcessInfo, Socket } from '../../src-main/shared/contract';
import { ownerWords, rowText, type SocketTest } from './filter';

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
  /** Each row's own text (rowText), by its place in `rows` (undefined: not built yet). */
  readonly texts: (string | undefined)[];
  /** Rows built so far: [0, built). */
  built = 0;
  /** Where each run of one owner ends (exclusive), and its owner's words (lowered), run by run. */
  private readonly runEnds: number[] = [];
  private readonly runOwners: string[] = [];
  /**
   * Each finished run's rows' texts in one (a line each): a word not in it is in none of the run's
   * rows, which then fail in one search, not one a row ("server-13" rules out 2,500 rows of
   * "server-1" at once). Undefined while the run may still grow.
   */
  private readonly runTexts: (string | undefined)[] = [];
  private last: { socket: Socket; process: ProcessInfo | undefined; words: string } | null = null;

  constructor(readonly rows: readonly Socket[]) {
    this.texts = new Array<string | undefined>(rows.length);
  }

  /** Builds the texts (and runs) of the rows up to `until` (exclusive). */
  buildTo(until: number, ownerOf: OwnerOf): void {
    const end = Math.min(until, this.rows.length);
    for (let i = this.built; i < end; i++) {
      const socket = this.rows[i];
      const process = ownerOf(socket);
      // A row of the last row's owner has the last row's owner's words (no string made).
      let last = this.last;
      if (
        last === null ||
        last.process !== process ||
        last.socket.pid !== socket.pid ||
        last.socket.processName !== socket.processName
      )
        this.last = last = { socket, process, words: ownerWords(process, socket).toLowerCase() };
      const words = last.words;
      this.texts[i] = rowText(socket);
      const run = this.runOwners.length - 1;
      if (run >= 0 && this.runOwners[run] === words) this.runEnds[run] = i + 1;
      else {
        if (run >= 0) this.finishRun(run);
        this.runOwners.push(words);
        this.runEnds.push(i + 1);
        this.runTexts.push(undefined);
      }
    }
    this.built = Math.max(this.built, end);
    if (this.built === this.rows.length && this.runEnds.length > 0) this.finishRun(this.runEnds.length - 1);
  }

  private finishRun(run: number): void {
    const start = run === 0 ? 0 : this.runEnds[run - 1];
    this.runTexts[run] = this.texts.slice(start, this.runEnds[run]).join('\n');
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
  /** A finished run's rows' texts, a line each (undefined while the run may still grow). */
  runText(run: number): string | undefined {
    return this.runTexts[run];
  }
}

/**
 * The last position, from `i` on, whose place is below `end`: places rise with positions (the
 * index's order), so it is found by halving (`places` null: each position is its place).
 */
function lastBefore(places: Int32Array | null, i: number, length: number, end: number): number {
  if (places === null) return Math.min(length, end) - 1;
  let low = i;
  let high = length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (places[middle] < end) low = middle;
    else high = middle - 1;
  }
  return low;
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
  const { words, fields } = test;
  const texts = index.texts;
  // The run holding the current row; which words its owner holds, and whether it holds them all.
  // Rows come in the index's order, so the run only moves forward.
  let run = -1;
  let runEnd = 0;
  const ownerHas = new Uint8Array(words.length);
  let ownerHasAll = false;
  // Made whole at the first row that fails, then cut to what passed (grown by pushes, a
  // 25,000-row result left copies behind for the garbage collector).
  // (Typed as they may become: begin() sets them, which the compiler's narrowing does not see.)
  let result = null as Socket[] | null;
  let indexes = null as Int32Array | null;
  let passed = 0;
  /** The result, at the first row that fails (the `i`th): every row before it passed. */
  const begin = (i: number) => {
    const made = new Array<Socket>(from.length);
    const places = new Int32Array(from.length);
    for (let k = 0; k < i; k++) {
      made[k] = from[k];
      places[k] = fromIndexes === null ? k : fromIndexes[k];
    }
    result = made;
    indexes = places;
    passed = i;
  };
  for (let i = 0; i < from.length; i++) {
    const socket = from[i];
    const at = fromIndexes === null ? i : fromIndexes[i];
    let passes: boolean;
    if (at >= index.built) passes = test(socket, test.needsOwner ? ownerOf(socket) : undefined);
    else if (fields !== null && !fields(socket, ownerOf)) passes = false;
    else if (words.length === 0) passes = true;
    else {
      if (at >= runEnd) {
        while (at >= runEnd) runEnd = index.runEnd(++run);
        const owner = index.runOwner(run);
        ownerHasAll = true;
        for (let w = 0; w < words.length; w++) {
          ownerHas[w] = owner.includes(words[w]) ? 1 : 0;
          if (ownerHas[w] === 0) ownerHasAll = false;
        }
        // Its owner holds every word, and nothing else is asked: the rest of the run passes as
        // it is, without a look at a row (typing "server" asks 20 owners, not 50,000 rows).
        if (ownerHasAll && fields === null) {
          const last = lastBefore(fromIndexes, i, from.length, runEnd);
          if (result !== null)
            for (let k = i; k <= last; k++) {
              result[passed] = from[k];
              indexes![passed++] = fromIndexes === null ? k : fromIndexes[k];
            }
          i = last;
          continue;
        }
        // A word that neither its owner nor any of its rows holds: the rest of the run fails.
        const runText = ownerHasAll ? undefined : index.runText(run);
        if (runText !== undefined && words.some((word, w) => ownerHas[w] === 0 && !runText.includes(word))) {
          if (result === null) begin(i);
          i = lastBefore(fromIndexes, i, from.length, runEnd);
          continue;
        }
      }
      passes = true;
      if (!ownerHasAll) {
        const text = texts[at]!;
        for (let w = 0; w < words.length; w++)
          if (ownerHas[w] === 0 && !text.includes(words[w])) {
            passes = false;
            break;
          }
      }
    }
    if (passes) {
      if (result !== null) {
        result[passed] = socket;
        indexes![passed++] = at;
      }
    } else if (result === null) begin(i);
  }
  if (result === null) return { result: from as Socket[], indexes: fromIndexes };
  result.length = passed;
  return { result, indexes: indexes!.subarray(0, passed) };
}
