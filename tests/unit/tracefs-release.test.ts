// Removing the tracefs instances a dead poll worker's event readers left: by the worker's tag,
// only this process's, never another's (a folder tree stands in for tracefs).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { TcpStateTracer } from '../../src-main/collect/linux/tcp-state-events';

let root: string;
beforeEach(() => mkdirSync(join((root = mkdtempSync(join(tmpdir(), 'porthole-tracefs-'))), 'instances')));
afterEach(() => rmSync(root, { recursive: true, force: true }));

it("removes every instance of this process's with the dead worker's tag, and nothing else", () => {
  const names = [
    `porthole-${process.pid}-0a1b2c3d-11111111`, // the dead worker's first reader
    `porthole-${process.pid}-0a1b2c3d-22222222`, // and the one it started after that one died
    `porthole-${process.pid}-ffffffff-33333333`, // the new worker's
    `porthole-${process.pid + 1}-0a1b2c3d-44444444`, // another process's
    `other-${process.pid}-0a1b2c3d-55555555`,
  ];
  for (const name of names) mkdirSync(join(root, 'instances', name));
  expect(TcpStateTracer.releaseTagged('0a1b2c3d', root)).toBe(true);
  expect(names.map((name) => existsSync(join(root, 'instances', name)))).toEqual([false, false, true, true, true]);
  // A tag that could name a path is no tag: nothing is touched.
  expect(TcpStateTracer.releaseTagged('../x', root)).toBe(true);
  expect(TcpStateTracer.releaseTagged('', root)).toBe(true);
  expect(existsSync(join(root, 'instances', names[2]))).toBe(true);
});
