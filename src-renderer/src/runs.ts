// A long list made of runs of items (a group's header, its 2,500 connections, its summary line),
// read by index without copying every item into one array: a virtualised view reads a screenful,
// and building a 50,000-item array per keystroke or delta was most of a frame.

export class Runs<T, Tag> {
  private readonly runs: (readonly T[])[] = [];
  private readonly tags: Tag[] = [];
  /** Where each run starts in the whole list. */
  private readonly starts: number[] = [];
  length = 0;

  /** Appends a run (kept, not copied: it must not change while the list is read), with what it belongs to. */
  push(run: readonly T[], tag: Tag): void {
    if (run.length === 0) return;
    this.runs.push(run);
    this.tags.push(tag);
    this.starts.push(this.length);
    this.length += run.length;
  }

  /** The index of the run holding the item at `index` (the last run starting at or before it). */
  private runAt(index: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.starts[middle] <= index) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  at(index: number): T | undefined {
    if (index < 0 || index >= this.length) return undefined;
    const run = this.runAt(index);
    return this.runs[run][index - this.starts[run]];
  }

  /** The items from `from` up to (not including) `to`, each with its run's tag. */
  slice(from: number, to: number): { item: T; tag: Tag }[] {
    const out: { item: T; tag: Tag }[] = [];
    const end = Math.min(to, this.length);
    if (from >= end) return out;
    for (let run = this.runAt(Math.max(0, from)), i = Math.max(0, from); i < end; run++) {
      const items = this.runs[run];
      for (let j = i - this.starts[run]; j < items.length && i < end; j++, i++)
        out.push({ item: items[j], tag: this.tags[run] });
    }
    return out;
  }
}
