// Repairs what reading /proc/net/* under churn gets wrong. The kernel produces those files one page
// per read() and re-seeks between reads by bucket and offset, so a table that changes meanwhile
// can yield a row twice, or skip one. Duplicates are dropped; a skipped row is restored when its
// owner still holds its fd open (proof that the socket exists), for one poll at most.

export interface ReconciledRows<Row> {
  rows: Row[];
  duplicates: number;
  restored: number;
}

export class RowReconciler<Row extends { inode: number }> {
  private previous = new Map<string, Row>();
  private restoredLastPoll = new Set<string>();

  constructor(private readonly keyOf: (row: Row) => string) {}

  /** Inodes of last poll's rows: keep their owners known until this poll has been reconciled. */
  previousInodes(): Iterable<number> {
    return [...this.previous.values()].map((row) => row.inode);
  }

  reconcile(rows: readonly Row[], stillHeld: (inode: number) => boolean): ReconciledRows<Row> {
    const current = new Map<string, Row>();
    let duplicates = 0;
    for (const row of rows) {
      const key = this.keyOf(row);
      if (current.has(key)) duplicates++;
      else current.set(key, row);
    }
    const restored = new Set<string>();
    for (const [key, row] of this.previous) {
      // Restored once only: a socket that has left the table while its fd stays open (a reset
      // connection not yet closed by its program) must not live on as a ghost.
      if (current.has(key) || row.inode === 0 || this.restoredLastPoll.has(key) || !stillHeld(row.inode)) continue;
      current.set(key, row);
      restored.add(key);
    }
    this.previous = current;
    this.restoredLastPoll = restored;
    return { rows: [...current.values()], duplicates, restored: restored.size };
  }
}
