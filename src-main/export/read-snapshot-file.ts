// Reads a file a user named (a snapshot to diff or import) without trusting what is there: opened
// without blocking (a FIFO would otherwise hang the open), checked on the open descriptor (no race
// with a rename), refused unless it is a regular file, and its size checked before a byte is read.
// Errors name the path and the reason, never the content of the file refused.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ImportError, MAX_SNAPSHOT_BYTES, parseSnapshot } from './import-snapshot';
import { fileKind } from './write-atomic';
import { printable } from '../shared/printable';
import type { Snapshot } from '../shared/contract';

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** The bytes of a regular file of at most `maxBytes`; throws ImportError with the reason otherwise. */
export function readUserFile(path: string, maxBytes: number): Buffer {
  const name = `"${printable(path)}"`;
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ENXIO'
            ? 'it is a named pipe or socket with nothing behind it'
            : (code ?? 'it cannot be opened');
    throw new ImportError(`Cannot import ${name}: ${reason}.`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ImportError(`Cannot import ${name}: it is ${fileKind(stat)}, not a regular file.`);
    if (stat.size > maxBytes) throw new ImportError(`Cannot import ${name}: it is larger than ${maxBytes} bytes.`);
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, bytes, read, stat.size - read, null);
      if (n === 0) break;
      read += n;
    }
    return bytes.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

export function readSnapshotFile(path: string, maxBytes = MAX_SNAPSHOT_BYTES): Snapshot {
  return parseSnapshot(readUserFile(path, maxBytes), `"${printable(path)}"`, maxBytes);
}
