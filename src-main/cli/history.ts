// `porthole history --port N` (--pid, --process, --remote): who held or used a port in the past,
// which sockets a process had, what talked to an address, from the flight recorder's database
// (what `porthole serve` records).

import { isIP } from 'node:net';
import {
  answerHistory,
  type FoldedUse,
  type HistoryAnswer,
  type HistoryQuestion,
  type PortUse,
} from '../history/query';
import { readHistory } from '../history/read';
import { defaultHistoryPath, HistoryError, type HistoryStore } from '../history/store';
import { parseDuration, parseWhen } from '../history/when';
import { localMinute as minute, localTime as time } from '../shared/local-time';
import { DEFAULT_LIMITS, type RecorderLimits } from '../history/recorder';
import { printable } from '../shared/printable';
import { formatEndpoint } from '../track/identity';
import { UsageError } from './args';
import { defineVerb, EXIT_OK } from './io';
import { HistoryUnavailable } from '../export/errors';
import { writeFileAtomic } from '../export/write-atomic';

function useLine(use: PortUse): string {
  const owner =
    use.pid === null
      ? 'no visible owner'
      : `${printable(use.name ?? '?')} (pid ${use.pid})${use.container ? ` in ${printable(use.container)}` : use.cwd ? ` in ${printable(use.cwd)}` : ''}`;
  const ends =
    use.role === 'listener'
      ? formatEndpoint(use.localAddress ?? '*', use.localPort)
      : `${formatEndpoint(use.localAddress ?? '*', use.localPort)} ↔ ${formatEndpoint(use.remoteAddress ?? '*', use.remotePort)}`;
  const span = `${time(use.from)} → ${use.to === null ? 'still there' : time(use.to)}`;
  return `${span}  ${use.role.padEnd(10)} ${use.protocol} ${ends} ${use.state}  ${owner}`;
}

/** What was asked, as the answer's first words: "Port 8080", "Process postgres, remote 10.0.0.5". */
function subject(q: HistoryQuestion): string {
  const words = [
    q.port === undefined ? null : `port ${q.port}`,
    q.pid === undefined ? null : `pid ${q.pid}`,
    q.process === undefined ? null : `process ${printable(q.process)}`,
    q.remote === undefined ? null : `remote ${formatEndpoint(q.remote, q.remotePort ?? null)}`,
  ].filter((w) => w !== null);
  const text = words.join(', ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Folds listed in the text answer; --json has them all. */
const FOLDS_SHOWN = 10;

function foldLine(fold: FoldedUse): string {
  const owner = fold.pid === null ? 'no visible owner' : `${printable(fold.name ?? '?')} (pid ${fold.pid})`;
  // The other side's ephemeral ports are not kept: accepted on :8080 from a host, or made to host:port.
  const ends =
    fold.role === 'server'
      ? `:${fold.localPort} ← ${printable(fold.remoteAddress)}`
      : `→ ${formatEndpoint(printable(fold.remoteAddress), fold.remotePort)}`;
  return `${minute(fold.from)}–${minute(fold.to)}  ${String(fold.count).padStart(6)} × ${fold.protocol} ${ends}  ${owner}`;
}

export function historyText(answer: HistoryAnswer): string {
  const n = answer.uses.length + answer.more;
  const lines = [
    `${subject(answer)} from ${time(answer.since)} to ${time(answer.until)}: ${n} use${n === 1 ? '' : 's'}`,
  ];
  if (answer.lastRecorded === null) lines.push('  (nothing recorded yet)');
  for (const use of answer.uses) lines.push('  ' + useLine(use));
  if (answer.more > 0) lines.push(`  … and ${answer.more} more (narrow with --since and --until, or --json)`);
  if (answer.foldedCount > 0) {
    lines.push(
      `  + ${answer.foldedCount} short connection${answer.foldedCount === 1 ? '' : 's'} kept only as counts a minute (more were made than the history keeps one by one):`,
    );
    for (const fold of answer.folded.slice(0, FOLDS_SHOWN)) lines.push('    ' + foldLine(fold));
    const rest = answer.folded.length - FOLDS_SHOWN;
    if (rest > 0) lines.push(`    … and ${rest} more peers and owners (--json lists them)`);
  }
  if (answer.dropped + answer.droppedFolded > 0)
    lines.push(
      `  (${answer.dropped} older spans${answer.droppedFolded ? ` and ${answer.droppedFolded} folded connections` : ''} were dropped by retention or the size cap)`,
    );
  return lines.join('\n') + '\n';
}

/** The recorder's bounds, settable where a host records (serve, record). */
export const HISTORY_LIMIT_OPTIONS = {
  'history-keep': {
    type: 'string',
    value: 'T',
    description: 'keep what ended at most this long ago (default 7d; e.g. 2d, 12h)',
  },
  'history-max': {
    type: 'string',
    value: 'SIZE',
    description: 'keep the history file under SIZE (default 256MB; e.g. 1GB, 64MB)',
  },
  'history-budget': {
    type: 'string',
    value: 'N',
    description: 'new connections a minute recorded one by one (default 600); past it, short ones are counted',
  },
} as const;

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
/** The least a history file may be capped at: its schema and a few polls. */
const MIN_HISTORY_BYTES = 1024 * 1024;

/** The limits those options set, each refused with what it takes. */
export function historyLimits(values: {
  'history-keep'?: string;
  'history-max'?: string;
  'history-budget'?: string;
}): RecorderLimits {
  const limits = { ...DEFAULT_LIMITS };
  const keep = values['history-keep'];
  if (keep !== undefined) {
    const ms = parseDuration(keep);
    if (ms === null || ms < 60_000)
      throw new UsageError(`--history-keep takes a time of a minute or more (7d, 12h), not "${printable(keep)}".`);
    limits.retentionMs = ms;
  }
  const max = values['history-max'];
  if (max !== undefined) {
    const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(max.trim());
    const bytes = m ? Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()] : NaN;
    if (!(bytes >= MIN_HISTORY_BYTES))
      throw new UsageError(`--history-max takes a size of 1MB or more (256MB, 1GB), not "${printable(max)}".`);
    limits.maxBytes = Math.floor(bytes);
  }
  const budget = values['history-budget'];
  if (budget !== undefined) {
    if (!/^\d{1,9}$/.test(budget))
      throw new UsageError(`--history-budget takes a number of connections a minute, not "${printable(budget)}".`);
    limits.connectionsPerMinute = Number(budget);
  }
  return limits;
}

/** A moment option (`--since`, `--at` …) read as people type it; a usage error when it names none. */
export function momentOption(name: string, text: string, now: number): number {
  const at = parseWhen(text, now);
  if (at === null)
    throw new UsageError(`--${name} takes "2h", "10 min ago", "15:12" or an ISO time, not "${printable(text)}".`);
  return at;
}

/** `--remote`: an IP address, with a port or not ("10.0.0.5", "10.0.0.5:5432", "[::1]:5432", "::1"). */
export function remoteOption(text: string): { remote: string; remotePort?: number } {
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text) ?? [text, text];
  const [, address, port] = match;
  const portNumber = port === undefined ? undefined : Number(port);
  if (isIP(address) === 0 || (portNumber !== undefined && (portNumber < 1 || portNumber > 65535)))
    throw new UsageError(
      `--remote takes an IP address, with a port or not (10.0.0.5, 10.0.0.5:5432, [::1]:5432), not "${printable(text)}".`,
    );
  return portNumber === undefined
    ? { remote: address.toLowerCase() }
    : { remote: address.toLowerCase(), remotePort: portNumber };
}

/** The question the options ask; at least one of them. */
function questionOf(values: { port?: string; pid?: string; process?: string; remote?: string }): HistoryQuestion {
  const question: HistoryQuestion = {};
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port < 1 || port > 65535)
      throw new UsageError(`--port takes 1-65535, not "${printable(values.port)}".`);
    question.port = port;
  }
  if (values.pid !== undefined) {
    if (!/^\d{1,10}$/.test(values.pid) || Number(values.pid) < 1)
      throw new UsageError(`--pid takes a process id, not "${printable(values.pid)}".`);
    question.pid = Number(values.pid);
  }
  if (values.process !== undefined) {
    if (values.process === '' || values.process.length > 256)
      throw new UsageError('--process takes a process name (as ps shows it).');
    question.process = values.process;
  }
  if (values.remote !== undefined) Object.assign(question, remoteOption(values.remote));
  if (Object.keys(question).length === 0)
    throw new UsageError('history needs --port, --pid, --process or --remote (or --cut).');
  return question;
}

/**
 * Asks the history at `path` (the per-user one by default), read-only, and closes it. A history
 * that is missing, or cannot answer for what is asked (HistoryError), is HistoryUnavailable: exit 1.
 */
export function askHistory<T>(path: string | undefined, ask: (store: HistoryStore) => T): T {
  try {
    return readHistory(path ?? defaultHistoryPath(), ask);
  } catch (error) {
    // Missing, unreadable, or unable to answer for what is asked.
    if (error instanceof HistoryError || (error as { code?: string }).code !== undefined)
      throw new HistoryUnavailable((error as Error).message);
    throw error;
  }
}

export const history = defineVerb({
  name: 'history',
  arguments: '',
  summary: 'Who held or used a port in the past (the flight recorder)',
  description: `What \`porthole serve\` recorded: each listener and connection on --port, of a process
(--pid, --process) or with a remote address (--remote), from when to when, with its owner; given
together, those that match them all. With --cut: the recording (NDJSON, as watch --json writes and the UI replays) of
--since to --until. Times: "2h" or "10 min ago", "15:12", or ISO 8601.`,
  options: {
    port: { type: 'string', value: 'N', description: 'the port asked about' },
    pid: { type: 'string', value: 'PID', description: 'the sockets of this process id' },
    process: { type: 'string', value: 'NAME', description: 'the sockets of processes of this name' },
    remote: { type: 'string', value: 'ADDR', description: 'the connections with this address (ADDR:PORT, [v6]:PORT)' },
    since: { type: 'string', value: 'T', description: 'from this moment (default: 24 h ago)' },
    until: { type: 'string', value: 'T', description: 'up to this moment (default: now)' },
    history: { type: 'string', value: 'PATH', description: 'the history database (default: the per-user one)' },
    json: { type: 'boolean', description: 'print the answer as JSON' },
    cut: { type: 'boolean', description: 'write the recording of --since to --until (NDJSON) instead' },
    output: { type: 'string', value: 'FILE', description: 'with --cut: write it to FILE (atomically), not stdout' },
  },
  async run({ values }, io) {
    if (values.output !== undefined && !values.cut) throw new UsageError('--output goes with --cut.');
    if (values.cut) {
      if ([values.port, values.pid, values.process, values.remote].some((v) => v !== undefined))
        throw new UsageError('--cut records every socket: leave out --port, --pid, --process and --remote.');
      if (values.since === undefined) throw new UsageError('--cut needs --since (and --until, default now).');
      const now = Date.now();
      const since = momentOption('since', values.since, now);
      const until = values.until === undefined ? now : momentOption('until', values.until, now);
      const { cutRecording } = await import('../history/cut');
      const text = askHistory(values.history, (store) => cutRecording(store, since, until));
      if (values.output === undefined) io.stdout(text);
      else writeFileAtomic(values.output, text);
      return EXIT_OK;
    }
    const question = questionOf(values);
    const now = Date.now();
    const since = values.since === undefined ? now - 24 * 3600_000 : momentOption('since', values.since, now);
    const until = values.until === undefined ? now : momentOption('until', values.until, now);
    const answer = askHistory(values.history, (store) => answerHistory(store, question, since, until));
    io.stdout(values.json ? JSON.stringify(answer, null, 2) + '\n' : historyText(answer));
    return EXIT_OK;
  },
});
