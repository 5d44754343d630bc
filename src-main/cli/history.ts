// `porthole history --port N` (--pid, --process, --remote): who held or used a port in the past,
// which sockets a process had, what talked to an address, from the flight recorder's database
// (what `porthole serve` records).

import { isIP } from 'node:net';
import { answerHistory, type HistoryAnswer, type HistoryQuestion, type PortUse } from '../history/query';
import { readHistory } from '../history/read';
import { defaultHistoryPath, HistoryError, type HistoryStore } from '../history/store';
import { parseWhen } from '../history/when';
import { printable } from '../shared/printable';
import { formatEndpoint } from '../track/identity';
import { UsageError } from './args';
import { defineVerb, EXIT_OK } from './io';
import { HistoryUnavailable } from '../export/errors';
import { writeFileAtomic } from '../export/write-atomic';

/** A moment as "2026-12-06 15:12:03", local time. */
const time = (ms: number) => new Date(ms).toLocaleString('sv-SE');

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

export function historyText(answer: HistoryAnswer): string {
  const n = answer.uses.length + answer.more;
  const lines = [
    `${subject(answer)} from ${time(answer.since)} to ${time(answer.until)}: ${n} use${n === 1 ? '' : 's'}`,
  ];
  if (answer.lastRecorded === null) lines.push('  (nothing recorded yet)');
  for (const use of answer.uses) lines.push('  ' + useLine(use));
  if (answer.more > 0) lines.push(`  … and ${answer.more} more (narrow with --since and --until, or --json)`);
  if (answer.dropped > 0) lines.push(`  (${answer.dropped} older spans were dropped by retention or the size cap)`);
  return lines.join('\n') + '\n';
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
