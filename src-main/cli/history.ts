// `porthole history --port N`: who held or used a port in the past, from the flight recorder's
// database (what `porthole serve` records).

import { portHistory, type PortHistory, type PortUse } from '../history/query';
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
  return `${span}  ${use.role.padEnd(8)} ${use.protocol} ${ends} ${use.state}  ${owner}`;
}

export function historyText(answer: PortHistory): string {
  const lines = [
    `Port ${answer.port} from ${time(answer.since)} to ${time(answer.until)}: ${answer.uses.length + answer.more} use${answer.uses.length + answer.more === 1 ? '' : 's'}`,
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
  description: `What \`porthole serve\` recorded: each listener and connection on --port, from when to when,
with its owner. With --cut: the recording (NDJSON, as watch --json writes and the UI replays) of
--since to --until. Times: "2h" or "10 min ago", "15:12", or ISO 8601.`,
  options: {
    port: { type: 'string', value: 'N', description: 'the port asked about (required)' },
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
      if (values.port !== undefined) throw new UsageError('--cut records every port: leave out --port.');
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
    const port = Number(values.port);
    if (values.port === undefined || !/^\d+$/.test(values.port) || port < 1 || port > 65535)
      throw new UsageError(
        `--port takes 1-65535${values.port === undefined ? '' : `, not "${printable(values.port)}"`}.`,
      );
    const now = Date.now();
    const since = values.since === undefined ? now - 24 * 3600_000 : momentOption('since', values.since, now);
    const until = values.until === undefined ? now : momentOption('until', values.until, now);
    const answer = askHistory(values.history, (store) => portHistory(store, port, since, until));
    io.stdout(values.json ? JSON.stringify(answer, null, 2) + '\n' : historyText(answer));
    return EXIT_OK;
  },
});
