// Writes a file so that a reader sees either the old content or the whole new one, never half.
// Only regular files are written (Porthole may run as root): a device, a FIFO, a socket, a folder or
// a symbolic link at the target is refused, never replaced. A file that exists keeps its mode and
// owner; a new one is created 0600, since a snapshot holds command lines.

import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { printable } from '../shared/printable';

import { ExportError, ExportRefused } from './errors';

export { ExportError, ExportRefused } from './errors';

/** A new export: only its owner may read it (command lines, working directories). */
export const NEW_FILE_MODE = 0o600;

const REASONS: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its folder path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
};

function explain(path: string, error: unknown): ExportError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const reason = REASONS[code] ?? (error as Error).message;
  return new ExportError(`Cannot write "${printable(path)}": ${reason}. Nothing was written.`);
}

/** What a non-regular file is, in words. */
export function fileKind(stat: Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isSymbolicLink()) return 'a symbolic link (give the path of the file it points to)';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

export function writeFileAtomic(path: string, content: string): void {
  let existing: Stats | null = null;
  try {
    existing = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw explain(path, error);
  }
  if (existing && !existing.isFile())
    throw new ExportRefused(
      `Refusing to write "${printable(path)}": it is ${fileKind(existing)}, and Porthole writes only regular files. Nothing was written.`,
    );
  // The temp file sits beside the target so the rename stays on one file system (atomic).
  // node:crypto is required here, not at the top: `who` loads this module and never writes.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'wx', NEW_FILE_MODE);
    if (existing) {
      fchmodSync(fd, existing.mode & 0o7777);
      if (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.()) {
        try {
          fchownSync(fd, existing.uid, existing.gid);
        } catch {
          throw new Error(`it belongs to uid ${existing.uid} gid ${existing.gid}, an owner only root could keep`);
        }
      }
    }
    writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== null) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // the temp file was never made
    }
    throw explain(path, error);
  }
}
