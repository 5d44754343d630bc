// The owner lookup against a /proc of our own making: processes as folders, sockets as fd links.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OwnerResolver } from '../../src-main/collect/linux/owners';

const roots: string[] = [];
afterEach(() => roots.splice(0).forEach((root) => rmSync(root, { recursive: true, force: true })));

function fakeProc(): { root: string; process(pid: number, inodes: number[]): void } {
  const root = mkdtempSync(join(tmpdir(), 'porthole-proc-'));
  roots.push(root);
  return {
    root,
    process(pid, inodes) {
      mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
      inodes.forEach((inode, i) => symlinkSync(`socket:[${inode}]`, join(root, String(pid), 'fd', String(3 + i))));
    },
  };
}

describe('OwnerResolver', () => {
  it('finds the owner of a socket whose process started after the processes were listed, in that poll', () => {
    const proc = fakeProc();
    proc.process(100, [111]);
    const resolver = new OwnerResolver(proc.root);
    const poll = (fresh: number[], table: number[]) => {
      resolver.refresh();
      resolver.resolve({ fresh, gone: [], has: (inode) => table.includes(inode) });
    };
    poll([111], [111]);
    poll([], [111]);
    expect(resolver.ownersOf(111)).toEqual([100]);
    // A client starts between step 1 (the processes listed) and the table's read: its socket is new.
    resolver.refresh();
    proc.process(200, [222]);
    resolver.resolve({ fresh: [222], gone: [], has: (inode) => inode === 111 || inode === 222 });
    expect(resolver.ownersOf(222)).toEqual([200]);
  });

  it('forgets a process read only after the listing once it has gone', () => {
    const proc = fakeProc();
    proc.process(100, [111]);
    const resolver = new OwnerResolver(proc.root);
    resolver.refresh();
    resolver.resolve({ fresh: [111], gone: [], has: (inode) => inode === 111 });
    // Started after the listing, read in resolve() only…
    resolver.refresh();
    proc.process(200, [222]);
    resolver.resolve({ fresh: [222], gone: [], has: (inode) => inode === 111 || inode === 222 });
    expect(resolver.ownersOf(222)).toEqual([200]);
    // …and gone by the next poll, its socket still listed a moment: no longer said to be its.
    rmSync(join(proc.root, '200'), { recursive: true });
    resolver.refresh();
    expect(resolver.ownersOf(222)).toEqual([]);
    expect(resolver.ownersOf(111)).toEqual([100]);
  });

  it('tells which inodes changed owners since it was last asked: gained, lost, forgotten, nothing else', () => {
    const proc = fakeProc();
    proc.process(100, [111, 112]);
    proc.process(200, [222]);
    const resolver = new OwnerResolver(proc.root);
    const table = [111, 112, 222];
    resolver.refresh();
    resolver.resolve({ fresh: table, gone: [], has: (inode) => table.includes(inode) });
    expect([...resolver.takeChangedInodes()].sort()).toEqual([111, 112, 222]);
    expect([...resolver.takeChangedInodes()]).toEqual([]);
    // A process exits (its socket is still in the table a moment) and another one shares 111.
    rmSync(join(proc.root, '200'), { recursive: true });
    proc.process(300, [111]);
    resolver.refresh();
    resolver.resolve({ fresh: [], gone: [], has: (inode) => table.includes(inode) });
    expect(resolver.ownersOf(111)).toEqual([100, 300]);
    expect([...resolver.takeChangedInodes()].sort()).toEqual([111, 222]);
    // A socket that left the table is forgotten: a change, told once.
    resolver.refresh();
    resolver.resolve({ fresh: [], gone: [112], has: (inode) => inode !== 112 && table.includes(inode) });
    expect([...resolver.takeChangedInodes()]).toEqual([112]);
  });
});
