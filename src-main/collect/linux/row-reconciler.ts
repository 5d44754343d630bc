// Repairs what reading /proc/net/* under churn gets wrong. The kernel produces those files one page
// per read() and re-seeks between reads by bucket and offset, so a table that changes meanwhile
// can yield a row twice, or skip one. Duplicates are dropped; a skipped row is restored when its
// owner still holds its fd open (proof that the socket exists), for one poll at most. Rows without
// an inode (TIME_WAIT) pass through: no fd can prove them, and the tracker's identity dedupes them.

export interface ReconciledRows<Row> {
  rows: Row[];
  duplicates: number;
  restored: number;
}

export class RowReconciler<Row extends { inode: number }> {
  private previous = new Map<number, Row>();
  private restoredLastPoll = new Set<number>();

  /** Inodes of last poll's rows: keep their owners known until this poll has been reconciled. */
  previousInodes(): Iterable<number> {
    return this.previous.keys();
  }

  /** Last poll's rows by inode. */
  previousRows(): ReadonlyMap<number, Row> {
    return this.previous;
  }

  reconcile(rows: readonly Row[], stillHeld: (inode: number) => boolean): ReconciledRows<Row> {
    const current = new Map<number, Row>();
    const result: Row[] = [];
    let duplicates = 0;
    for (const row of rows) {
      if (row.inode === 0) {
        result.push(row);
      } else if (current.has(row.inode)) {
        duplicates++;
      } else {
        current.set(row.inode, row);
        result.push(row);
      }
    }
    const restored = new Set<number>();
    for (const [inode, row] of this.previous) {
      // Restored once only: a socket that has left the table while its fd stays open (a reset
      // connection not yet closed by its program) must not live on as a ghost.
      if (current.has(inode) || this.restoredLastPoll.has(inode) || !stillHeld(inode)) continue;
      const copy = { ...row }; // last poll's object may be held by a subscriber: never reuse it
      current.set(inode, copy);
      result.push(copy);
      restored.add(inode);
    }
    this.previous = current;
    this.restoredLastPoll = restored;
    return { rows: result, duplicates, restored: restored.size };
  }
}
