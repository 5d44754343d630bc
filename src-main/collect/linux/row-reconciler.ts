// Repairs what reading /proc/net/* under churn gets wrong. The kernel produces those files one page
// per read() and re-seeks between reads by bucket and offset, so a table that changes meanwhile
// can yield a row twice, or skip one. Duplicates are dropped; a skipped row is restored when its
// owner still holds its fd open (proof that the socket exists), for one poll at most. Rows without
// an inode (TIME_WAIT) pass through: no fd can prove them, and the tracker's identity dedupes them.
// It keeps one map across polls and updates it in place: rebuilding a 20k-entry map every poll was
// a sixth of a steady-state poll.

export interface ReconciledRows<Row> {
  rows: Row[];
  /** Inodes whose row is new this poll, changed, or restored (not last poll's object). */
  fresh: Set<number>;
  /** Inodes of last poll that are gone now. */
  gone: number[];
  duplicates: number;
  restored: number;
}

/** The poll a row object was last seen in; a symbol, so it never shows in JSON or a clone. */
const SEEN = Symbol('seen');
type Stamped = { [SEEN]?: number };

export class RowReconciler<Row extends { inode: number }> {
  private readonly rowsByInode = new Map<number, Row>();
  private restoredLastPoll = new Set<number>();
  private poll = 0;

  /** Last poll's rows by inode (until reconcile() is called for this poll). */
  previousRows(): ReadonlyMap<number, Row> {
    return this.rowsByInode;
  }

  /**
   * Puts a changed copy of this poll's row in place of the original (whose object a subscriber may
   * hold), so the next poll starts from the copy: an unchanged socket read again is handed back as
   * it was last shown, owner included.
   */
  replace(row: Row): void {
    const before = this.rowsByInode.get(row.inode) as (Row & Stamped) | undefined;
    if (before === undefined) return;
    (row as Row & Stamped)[SEEN] = before[SEEN];
    this.rowsByInode.set(row.inode, row);
  }

  reconcile(rows: readonly Row[], stillHeld: (inode: number) => boolean): ReconciledRows<Row> {
    return this.reconcileParts([rows], stillHeld);
  }

  /** reconcile() of this poll's rows in parts (each namespace's, not copied into one array). */
  reconcileParts(parts: readonly (readonly Row[])[], stillHeld: (inode: number) => boolean): ReconciledRows<Row> {
    const poll = ++this.poll;
    const byInode = this.rowsByInode;
    const previousSize = byInode.size;
    const result: Row[] = [];
    const fresh = new Set<number>();
    let duplicates = 0;
    let carried = 0; // rows whose inode was in last poll's map
    for (let p = 0; p < parts.length; p++) {
      const rows = parts[p];
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i];
        if (row.inode === 0) {
          result.push(row);
          continue;
        }
        const stamped = row as Row & Stamped;
        if (stamped[SEEN] === poll || fresh.has(row.inode)) {
          duplicates++;
          continue;
        }
        const before = byInode.get(row.inode) as (Row & Stamped) | undefined;
        if (before !== undefined && before !== row && before[SEEN] === poll) {
          duplicates++; // the same socket read twice, in two states
          continue;
        }
        if (before !== undefined) carried++;
        if (before !== row) {
          fresh.add(row.inode);
          byInode.set(row.inode, row);
        }
        stamped[SEEN] = poll;
        result.push(row);
      }
    }
    const restored = new Set<number>();
    const gone: number[] = [];
    if (carried !== previousSize) {
      for (const [inode, row] of byInode) {
        if ((row as Row & Stamped)[SEEN] === poll) continue;
        // Restored once only: a socket that has left the table while its fd stays open (a reset
        // connection not yet closed by its program) must not live on as a ghost.
        if (this.restoredLastPoll.has(inode) || !stillHeld(inode)) {
          byInode.delete(inode);
          gone.push(inode);
          continue;
        }
        const copy = { ...row } as Row & Stamped; // last poll's object may be held by a subscriber
        copy[SEEN] = poll;
        byInode.set(inode, copy);
        result.push(copy);
        fresh.add(inode);
        restored.add(inode);
      }
    }
    this.restoredLastPoll = restored;
    return { rows: result, fresh, gone, duplicates, restored: restored.size };
  }
}
