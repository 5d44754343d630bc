// Parses /proc/net/unix. The kernel prints a socket's path raw, newlines included, so a hostile
// path can carry text shaped like another row: lines are only taken as rows once proven real.

import type { SocketState, UnixType } from '../../shared/contract';
import type { TableParse } from './proc-net';

export interface UnixRow {
  inode: number;
  state: SocketState;
  /** The bound path, `@name` for abstract sockets, null when unbound. */
  path: string | null;
  type?: UnixType;
  /** The other end's inode, where known (netlink; /proc/net/unix does not say). */
  peer?: number;
  /** The namespace it was read from, when not Porthole's own. */
  netns?: number;
  netnsName?: string;
}

/** A line shaped like a row; `ambiguous` when it could also be the tail of the previous row's path. */
export interface UnixCandidate {
  row: UnixRow;
  /** The row's own slot in the kernel pointer column (%pK): duplicated slots are a forgery. */
  slot: string;
  /** Its raw text, with any continuation lines that followed it. */
  text: string;
  ambiguous: boolean;
}

/** What the collector knows that text alone does not: used to tell a forged row from a real one. */
export interface UnixEvidence {
  /** A visible process holds this inode. */
  isOwned(inode: number): boolean;
  /** lstat finds a socket file at this absolute path. */
  isSocketFile(path: string): boolean;
  /** Every process's fds could be read (root), so an unowned socket is the exception. */
  seesAllProcesses: boolean;
}

/** sun_path holds 108 bytes: a bound name is at most 107 (abstract: 107 after the leading NUL). */
const MAX_NAME_BYTES = 107;

// Num: RefCount Protocol Flags Type St Inode [Path]
const ROW =
  /^([0-9a-fA-F]{8,16}): ([0-9A-Fa-f]{8}) ([0-9A-Fa-f]{8}) ([0-9A-Fa-f]{8}) ([0-9A-Fa-f]{4}) ([0-9A-Fa-f]{2}) +(\d+)(?: (.*))?$/s;
const ACCEPTING = 0x10000; // __SO_ACCEPTCON: a listening socket
/** SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET. */
export const UNIX_TYPE: Record<number, UnixType> = { 1: 'stream', 2: 'dgram', 5: 'seqpacket' };
const UNIX_STATES: Record<number, SocketState> = { 1: 'UNCONN', 2: 'SYN_SENT', 3: 'ESTABLISHED', 4: 'CLOSING' };

function parseRowLine(line: string): { row: UnixRow; slot: string } | null {
  const m = ROW.exec(line);
  if (!m) return null;
  const flags = parseInt(m[4], 16);
  const state: SocketState | undefined = flags & ACCEPTING ? 'LISTEN' : UNIX_STATES[parseInt(m[6], 16)];
  if (!state) return null;
  const type = UNIX_TYPE[parseInt(m[5], 16)];
  return { row: { inode: Number(m[7]), state, path: m[8] ?? null, ...(type ? { type } : {}) }, slot: m[1] };
}

/** Splits the table into candidate rows; lines that are not row-shaped extend the previous path. */
export function parseUnixCandidates(text: string): { candidates: UnixCandidate[]; malformed: number } {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const candidates: UnixCandidate[] = [];
  let malformed = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (i === 0 && line.startsWith('Num ')) continue;
    const previous = candidates[candidates.length - 1];
    const previousHasPath = previous !== undefined && previous.row.path !== null;
    const parsed = parseRowLine(line);
    if (parsed) {
      candidates.push({ ...parsed, text: line, ambiguous: previousHasPath });
    } else if (previousHasPath) {
      previous.row.path += '\n' + line;
      previous.text += '\n' + line;
    } else {
      malformed++;
    }
  }
  return { candidates, malformed };
}

function fitsInPreviousName(previousPath: string, candidateText: string): boolean {
  const nameBytes = previousPath.startsWith('@') ? previousPath.length - 1 : previousPath.length;
  return nameBytes + 1 + candidateText.length <= MAX_NAME_BYTES;
}

/**
 * Decides each ambiguous candidate: real row, or the tail of the previous path. The order puts
 * cheap, conclusive evidence first; lstat only when the text cannot decide.
 */
export function resolveUnixCandidates(
  candidates: UnixCandidate[],
  evidence: UnixEvidence,
): { rows: UnixRow[]; mergedLines: number } {
  // A row that cannot be a path's tail is real; an ambiguous one repeating its inode or its
  // kernel pointer slot is a copy, which is how a forged row would impersonate a real socket.
  const provenInodes = new Set<number>();
  const provenSlots = new Set<string>();
  for (const c of candidates) {
    if (c.ambiguous) continue;
    provenInodes.add(c.row.inode);
    if (!/^0+$/.test(c.slot)) provenSlots.add(c.slot);
  }
  const isReal = (previousPath: string, c: UnixCandidate): boolean => {
    if (provenInodes.has(c.row.inode) || provenSlots.has(c.slot)) return false;
    if (evidence.isOwned(c.row.inode)) return true;
    if (!fitsInPreviousName(previousPath, c.text)) return true;
    if (previousPath.startsWith('/')) {
      if (evidence.isSocketFile(previousPath + '\n' + c.text)) return false;
      if (evidence.isSocketFile(previousPath)) return true;
    }
    return !evidence.seesAllProcesses;
  };

  const rows: UnixRow[] = [];
  let mergedLines = 0;
  for (const c of candidates) {
    const previous = rows[rows.length - 1];
    if (c.ambiguous && previous?.path != null && !isReal(previous.path, c)) {
      previous.path += '\n' + c.text;
      mergedLines++;
      continue;
    }
    rows.push({ ...c.row });
  }
  return { rows, mergedLines };
}

export function parseUnixTable(text: string, evidence: UnixEvidence): TableParse<UnixRow> & { mergedLines: number } {
  const { candidates, malformed } = parseUnixCandidates(text);
  const { rows, mergedLines } = resolveUnixCandidates(candidates, evidence);
  return { rows, malformed, mergedLines };
}
