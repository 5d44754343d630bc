// Filtering and sorting the connections table: pure functions over sockets.
import { SOCKET_STATES, type ProcessInfo, type Socket } from '../../src-main/shared/contract';
import { formatEndpoint } from '../../src-main/track/identity';
import { namespaceOf } from '../../src-main/track/namespaces';
import { ownerPlace, shortCommand } from '../../src-main/track/owner-names';
import { isListening } from '../../src-main/track/views';

export interface SocketFilter {
  text: string;
  /** 'inet': TCP and UDP (the default: Unix sockets, thousands on a desktop, are asked for). */
  protocol: Socket['protocol'] | 'all' | 'inet';
  state: Socket['state'] | 'all';
  role: 'all' | 'listening' | 'connected';
  pid: number | null;
  /** 'all', or a namespace's name ('host' for Porthole's own). */
  namespace?: string;
  /** Which machine: null (or absent) for all, '' for this one, else a source's name. */
  host?: string | null;
}

/** The machine a socket was read on, as the host filter names it: '' for this one. */
export const hostOf = (socket: Socket): string => socket.host ?? '';

export type SortKey =
  'protocol' | 'local' | 'remote' | 'state' | 'process' | 'namespace' | 'host' | 'sent' | 'received';

/** Columns whose natural first order is the largest first. */
export const DESCENDING_FIRST: readonly SortKey[] = ['sent', 'received'];

/**
 * The filter's text, read: `port:3000`, `pid:4711`, `state:established` (or `time_wait`),
 * `proc:node` each test one field; every other word is looked for in what the row shows.
 */
export interface FilterText {
  words: string[];
  ports: number[];
  pids: number[];
  states: string[];
  procs: string[];
  /** A term whose value makes no sense (`port:abc`): nothing matches it, and the UI says why. */
  invalid: string | null;
}

export function parseFilterText(text: string): FilterText {
  const parsed: FilterText = { words: [], ports: [], pids: [], states: [], procs: [], invalid: null };
  for (const word of text.trim().toLowerCase().split(/\s+/).filter(Boolean)) {
    const term = /^(port|pid|state|proc):(.*)$/.exec(word);
    if (!term) {
      parsed.words.push(word);
      continue;
    }
    const [, field, value] = term;
    if (field === 'port' || field === 'pid') {
      const n = Number(value);
      const max = field === 'port' ? 65535 : 4_194_304;
      if (!/^\d+$/.test(value) || n > max) parsed.invalid ??= `${field}: takes a number up to ${max}`;
      else (field === 'port' ? parsed.ports : parsed.pids).push(n);
    } else if (field === 'state') {
      const state = value.replace(/-/g, '_').toUpperCase();
      if (!(SOCKET_STATES as readonly string[]).includes(state))
        parsed.invalid ??= `state: takes a state (${SOCKET_STATES.join(', ').toLowerCase()})`;
      else parsed.states.push(state);
    } else if (value === '') parsed.invalid ??= 'proc: takes part of a process name';
    else parsed.procs.push(value);
  }
  return parsed;
}

/** Whether a row passes the filter's terms (the fields), before its words are looked for. */
export function passesTerms(terms: FilterText, socket: Socket, ownerText: () => string): boolean {
  if (terms.invalid) return false;
  if (terms.ports.length && !terms.ports.some((p) => socket.localPort === p || socket.remotePort === p)) return false;
  if (terms.pids.length && !terms.pids.some((p) => socket.pids.includes(p) || socket.pid === p)) return false;
  if (terms.states.length && !terms.states.includes(socket.state)) return false;
  if (terms.procs.length) {
    const owner = ownerText().toLowerCase();
    if (!terms.procs.every((p) => owner.includes(p))) return false;
  }
  return true;
}

/** The words of the filter to mark in what is shown (not its terms). */
export function markedWords(text: string): string[] {
  const parsed = parseFilterText(text);
  return [...parsed.words, ...parsed.procs];
}

/**
 * A test for one filter, prepared once (its words split and lowered) and run on every row: a row
 * passes when it passes `fields` and holds every one of `words` (in its own text or its owner's
 * words; a word holds no space, and each is looked for in one field).
 * `needsOwner`: whether the test reads the owner's record at all (else pass none).
 */
export type SocketTest = ((socket: Socket, process?: ProcessInfo) => boolean) & {
  needsOwner: boolean;
  /** The filter's words, lowered. */
  words: readonly string[];
  /** All the filter asks of a row beside its words (its fields and terms); null: nothing. */
  fields: ((socket: Socket, ownerOf: (socket: Socket) => ProcessInfo | undefined) => boolean) | null;
};

/** Whether the protocol choice of a filter shows a socket ('inet': TCP and UDP, no Unix sockets). */
export function protocolShown(protocol: SocketFilter['protocol'], socket: Socket): boolean {
  if (protocol === 'all') return true;
  return protocol === 'inet' ? socket.protocol !== 'unix' : socket.protocol === protocol;
}

export function matcher(filter: SocketFilter): SocketTest {
  const terms = parseFilterText(filter.text);
  const words = terms.words;
  const plain =
    !terms.invalid && !terms.ports.length && !terms.pids.length && !terms.states.length && !terms.procs.length;
  const namespace = filter.namespace && filter.namespace !== 'all' ? filter.namespace : null;
  const host = filter.host ?? null;
  const needsOwner = words.length > 0 || terms.procs.length > 0;
  const wordsOnly =
    plain &&
    filter.protocol === 'all' &&
    filter.state === 'all' &&
    filter.role === 'all' &&
    filter.pid === null &&
    namespace === null &&
    host === null;
  /** Whether every word is in the row's text or its owner's words (a loop: no closure made per row). */
  const hasWords = (socket: Socket, process?: ProcessInfo) => {
    if (words.length === 0) return true;
    const own = rowText(socket);
    let owner: string | null = null;
    for (let i = 0; i < words.length; i++)
      if (!own.includes(words[i]) && !(owner ??= ownerWords(process, socket).toLowerCase()).includes(words[i]))
        return false;
    return true;
  };
  const fields = wordsOnly
    ? null
    : (socket: Socket, ownerOf: (socket: Socket) => ProcessInfo | undefined) => {
        if (!protocolShown(filter.protocol, socket)) return false;
        if (filter.state !== 'all' && socket.state !== filter.state) return false;
        if (filter.role === 'listening' && !isListening(socket)) return false;
        if (filter.role === 'connected' && socket.remoteAddress === null) return false;
        if (filter.pid !== null && socket.pid !== filter.pid) return false;
        if (namespace !== null && namespaceOf(socket) !== namespace) return false;
        if (host !== null && hostOf(socket) !== host) return false;
        return plain || passesTerms(terms, socket, () => ownerWords(ownerOf(socket), socket));
      };
  const test = (socket: Socket, process?: ProcessInfo) =>
    (fields === null || fields(socket, () => process)) && hasWords(socket, process);
  return Object.assign(test, { needsOwner, words, fields });
}

/**
 * The words of a row itself (its endpoints, state, protocol, namespace and machine), lowered: the
 * text the filter's words are looked for in, beside its owner's words. Kept per socket object (a
 * changed socket is a new object): typing a key then costs a substring search per row.
 */
const rowTexts = new WeakMap<Socket, string>();
export function rowText(socket: Socket): string {
  let text = rowTexts.get(socket);
  if (text === undefined) {
    text = [
      formatEndpoint(socket.localAddress, socket.localPort),
      socket.remoteAddress === null ? '' : formatEndpoint(socket.remoteAddress, socket.remotePort),
      socket.state,
      socket.protocol,
      socket.netnsName ?? '',
      socket.host ?? '',
    ]
      .join(' ')
      .toLowerCase();
    rowTexts.set(socket, text);
  }
  return text;
}

/**
 * The words of an owner that the views show, and only those (a filter that matched the hidden
 * command line made rows appear for no visible reason): its name and short command, pid, and
 * project folder or container.
 */
export function ownerWords(process: ProcessInfo | undefined, socket: Pick<Socket, 'processName' | 'pid'>): string {
  const words = [socket.processName ?? '', socket.pid === null ? '' : String(socket.pid)];
  if (process) {
    words.push(shortCommand(process));
    words.push(ownerPlace(process) ?? '');
  }
  return words.join(' ');
}

/** A row's place by local port: Unix sockets (no port) after every inet port. */
function localValue(s: Socket): number {
  return s.protocol === 'unix' ? 65_536 : (s.localPort ?? 0);
}

const sortValue: Record<SortKey, (s: Socket) => string | number> = {
  protocol: (s) => s.protocol,
  local: localValue,
  remote: (s) => (s.remoteAddress ?? '') + ':' + String(s.remotePort ?? 0).padStart(5, '0'),
  state: (s) => s.state,
  process: (s) => s.processName ?? '~',
  namespace: (s) => (s.netns === undefined ? '' : namespaceOf(s)),
  host: hostOf,
  // A socket without figures sorts below an idle connection.
  sent: (s) => s.traffic?.sendRate ?? (s.traffic ? 0 : -1),
  received: (s) => s.traffic?.receiveRate ?? (s.traffic ? 0 : -1),
};

/** Columns whose sort value is a cheap number: compared on the rows themselves, no key object each. */
const NUMERIC: readonly SortKey[] = ['sent', 'received'];

/** The local sort's values: every port, and Unix sockets after them. */
const LOCAL_VALUES = 65_537;

/** byLocalPort's count of rows per port, kept (not 256 KB made anew per sort). */
const localStarts = new Int32Array(LOCAL_VALUES + 1);

/**
 * The default sort, by local port, as a counting sort (stable): a port is one of 65,537 values, so
 * 50,000 rows are placed in two passes (~1 ms) where comparing them took ~8 ms.
 */
function byLocalPort(sockets: readonly Socket[], descending: boolean): Socket[] {
  const keys = new Int32Array(sockets.length);
  const starts = localStarts.fill(0);
  for (let i = 0; i < sockets.length; i++) {
    const value = localValue(sockets[i]);
    keys[i] = descending ? LOCAL_VALUES - 1 - value : value;
    starts[keys[i] + 1]++;
  }
  for (let k = 1; k <= LOCAL_VALUES; k++) starts[k] += starts[k - 1];
  const sorted = new Array<Socket>(sockets.length);
  for (let i = 0; i < sockets.length; i++) sorted[starts[keys[i]]++] = sockets[i];
  return sorted;
}

/**
 * The rows sorted, as a new array: `sockets` is left as it is, so a new sort of the same table is
 * always a new array (what is built from it, and kept aligned to it by index, sees the change).
 * Stable: rows that sort alike keep the table's order, which changes little from one poll to the
 * next, so the sort mostly meets runs already in order. String keys are computed once per row,
 * not once per comparison (50,000 rows ≈ 800,000 comparisons).
 */
export function sortSockets(sockets: readonly Socket[], key: SortKey, descending: boolean): Socket[] {
  if (key === 'local') return byLocalPort(sockets, descending);
  const value = sortValue[key];
  const sign = descending ? -1 : 1;
  if (NUMERIC.includes(key)) {
    const number = value as (s: Socket) => number;
    return [...sockets].sort((a, b) => (number(a) - number(b) || (a.localPort ?? 0) - (b.localPort ?? 0)) * sign);
  }
  const keyed = sockets.map((socket) => ({ socket, value: value(socket), port: socket.localPort ?? 0 }));
  keyed.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.port - b.port) * sign);
  return keyed.map((k) => k.socket);
}

export function endpoint(address: string | null, port: number | null): string {
  if (address === null) return '*';
  return formatEndpoint(address, port) || '(unbound)';
}

export function duration(fromIso: string, toIso: string | number): string {
  const ms = (typeof toIso === 'number' ? toIso : Date.parse(toIso)) - Date.parse(fromIso);
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A text in pieces, each marked where it matches one of the words (case-insensitive). */
export function markMatches(text: string, words: readonly string[]): { text: string; marked: boolean }[] {
  if (words.length === 0 || text === '') return [{ text, marked: false }];
  const lower = text.toLowerCase();
  const marks = new Array<boolean>(text.length).fill(false);
  for (const word of words)
    for (let at = lower.indexOf(word); at >= 0 && word; at = lower.indexOf(word, at + word.length))
      marks.fill(true, at, at + word.length);
  const pieces: { text: string; marked: boolean }[] = [];
  for (let i = 0; i < text.length;) {
    let j = i;
    while (j < text.length && marks[j] === marks[i]) j++;
    pieces.push({ text: text.slice(i, j), marked: marks[i] });
    i = j;
  }
  return pieces;
}
