// Small pure pieces of the Linux collector: /proc/<pid>/stat, /etc/passwd, row reconciliation.
import { describe, expect, it } from 'vitest';
import { parsePasswd, parseProcStat } from '../../src-main/collect/linux/processes';
import { RowReconciler } from '../../src-main/collect/linux/row-reconciler';

describe('/proc/<pid>/stat', () => {
  it('reads a name holding spaces and parentheses, the ppid, the start time and where the arguments lie', () => {
    const stat =
      '4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1 0 0 0 3 1 0 0 20 0 1 0 123456 1000 10 18446744073709551615' +
      ' 1 1 0 0 0 0 0 4096 1256 0 0 0 17 1 0 0 0 0 0 94234958270464 94234958372493 94234970000000' +
      ' 140723344738819 140723344738866 140723344738866 140723344740000 0';
    expect(parseProcStat(stat)).toEqual({
      name: 'my (odd) name',
      state: 'S',
      ppid: 1,
      startTicks: 123456,
      argStart: 140723344738819,
      argEnd: 140723344738866,
    });
  });
  it("reads the arguments' place as 0 where the kernel leaves it out", () => {
    const old = '7 (init) S 0 7 7 0 -1 4194560 1 0 0 0 3 1 0 0 20 0 1 0 99 1000 10 18446744073709551615';
    expect(parseProcStat(old)).toMatchObject({ startTicks: 99, argStart: 0, argEnd: 0 });
  });
  it.each(['', 'garbage', '12 (x'])('refuses %j', (text) => expect(parseProcStat(text)).toBeNull());
});

describe('/etc/passwd', () => {
  it('maps uids to names and skips broken lines', () => {
    expect(parsePasswd('root:x:0:0::/root:/bin/sh\nbroken\ndev:x:1000:1000::/home/dev:/bin/bash\n')).toEqual(
      new Map([
        [0, 'root'],
        [1000, 'dev'],
      ]),
    );
  });
});

describe('row reconciliation', () => {
  const row = (inode: number, state = 'ESTABLISHED') => ({ inode, state });
  const keyed = () => new RowReconciler<{ inode: number; state: string }>();

  it('drops a row the kernel gave twice', () => {
    expect(keyed().reconcile([row(1), row(2), row(1)], () => false)).toMatchObject({
      rows: [row(1), row(2)],
      fresh: new Set([1, 2]),
      gone: [],
      duplicates: 1,
      restored: 0,
    });
  });

  it('restores a skipped row whose fd is still open, once, and never one whose fd is closed', () => {
    const reconciler = keyed();
    reconciler.reconcile([row(1), row(2), row(3)], () => true);
    const skipped = reconciler.reconcile([row(1), row(3)], (inode) => inode === 2);
    expect(skipped.rows.map((r) => r.inode).sort()).toEqual([1, 2, 3]);
    expect(skipped.restored).toBe(1);
    // Missing again: a socket out of the table with its fd still open is not kept as a ghost.
    expect(reconciler.reconcile([row(1), row(3)], () => true).rows.map((r) => r.inode)).toEqual([1, 3]);
    // Closed: gone at once.
    const closed = keyed();
    closed.reconcile([row(5)], () => true);
    expect(closed.reconcile([], () => false)).toMatchObject({ rows: [], gone: [5] });
    // The same row object next poll is not fresh; a new object for the same inode is.
    const steady = keyed();
    const r = row(9);
    steady.reconcile([r], () => true);
    expect(steady.reconcile([r], () => true).fresh).toEqual(new Set());
    expect(steady.reconcile([row(9, 'CLOSE_WAIT')], () => true).fresh).toEqual(new Set([9]));
  });

  it('never restores a row without an inode (TIME_WAIT has no fd to prove it)', () => {
    const reconciler = keyed();
    reconciler.reconcile([row(0, 'TIME_WAIT')], () => true);
    expect(reconciler.reconcile([], () => true).rows).toEqual([]);
  });
});
