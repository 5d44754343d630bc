// Reads a snapshot file from disk for the CLI and the Electron host: the size is checked before a
// byte is read, so a huge or endless file (/dev/zero) is refused, not loaded.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ImportError, MAX_SNAPSHOT_BYTES, parseSnapshot } from './import-snapshot';
import type { Snapshot } from '../shared/contract';

export function readSnapshotFile(path: string, maxBytes = MAX_SNAPSHOT_BYTES): Snapshot {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ImportError(
      `Cannot import "${path}": ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message}.`,
    );
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ImportError(`Cannot import "${path}": it is not a regular file.`);
    if (stat.size > maxBytes) throw new ImportError(`Cannot import "${path}": it is larger than ${maxBytes} bytes.`);
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, bytes, read, stat.size - read, null);
      if (n === 0) break;
      read += n;
    }
    return parseSnapshot(bytes.subarray(0, read), `"${path}"`, maxBytes);
  } finally {
    closeSync(fd);
  }
}
