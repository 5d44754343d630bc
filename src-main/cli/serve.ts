// `porthole serve`: the live UI in a browser, on loopback, with other machines' tables beside it.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { channelFromEnvironment } from '../poll/channel';
import { Poller } from '../poll/poller';
import { printable } from '../shared/printable';
import { REVERSE_DNS_MODES, type ReverseDnsMode } from '../shared/ipc';
import { reverseDnsModeFrom } from '../collect';
import { startWebServer } from '../web/server';
import { checkSpecs, parseSourceSpec, SourceSpecError, SourceWorker, type SourceSpec } from '../web/sources';
import { parseEventBuffer, parseInterval, readTokenFile, UsageError } from './args';
import { defineVerb, EXIT_FAILURE, EXIT_OK, untilStopped } from './io';
import { RecordingControl } from '../history/subscriber';
import { defaultHistoryPath } from '../history/store';
import { HISTORY_LIMIT_OPTIONS, historyLimits } from './history';

/** `--source NAME=URL` (repeated) with `--source-token-file NAME=FILE` (repeated). */
function parseSources(specs: string[], tokenFiles: string[]): SourceSpec[] {
  const tokens = new Map<string, string>();
  for (const entry of tokenFiles) {
    const at = entry.indexOf('=');
    if (at < 1) throw new UsageError(`--source-token-file is NAME=FILE, not "${printable(entry.slice(0, 80))}".`);
    tokens.set(entry.slice(0, at), readTokenFile(entry.slice(at + 1), `--source-token-file ${entry.slice(0, at)}`));
  }
  const sources: SourceSpec[] = [];
  try {
    for (const spec of specs) sources.push(parseSourceSpec(spec, tokens));
    checkSpecs(sources);
  } catch (error) {
    if (error instanceof SourceSpecError) throw new UsageError(error.message);
    throw error;
  }
  const names = sources.map((s) => s.name);
  const unused = [...tokens.keys()].find((name) => !names.includes(name));
  if (unused !== undefined)
    throw new UsageError(`--source-token-file names "${printable(unused)}", which no --source is called.`);
  return sources;
}

export const serve = defineVerb({
  name: 'serve',
  summary: 'The live UI in a browser, with other machines beside this one',
  description: `The live UI in a browser: on 127.0.0.1 only, behind a per-run token in the URL it prints
(or the one in --token-file). --source adds another machine's porthole serve (the URL it
printed, often through an SSH tunnel: ssh -N -L 7001:127.0.0.1:7001 HOST) to the same UI,
with a host column and each host's status; its token from the URL or from --source-token-file.`,
  options: {
    port: { type: 'string', value: 'N', description: 'the port on 127.0.0.1 (default: a free one)' },
    interval: { type: 'string', value: 'MS', description: 'poll every MS milliseconds (250-10000, default 1000)' },
    'event-buffer-kb': {
      type: 'string',
      value: 'KB',
      description: "the kernel's event buffer per CPU (default 4096); bigger rides out longer bursts",
    },
    'token-file': { type: 'string', value: 'F', description: 'the token viewers present, instead of a new one' },
    source: {
      type: 'string',
      multiple: true,
      value: 'NAME=URL',
      description: "another machine's porthole serve, beside this one (repeatable)",
    },
    'source-token-file': {
      type: 'string',
      multiple: true,
      value: 'NAME=F',
      description: "a source's token, from a file (repeatable)",
    },
    history: {
      type: 'string',
      value: 'PATH',
      description: 'record the table into this history database (default: the per-user one; see porthole history)',
    },
    'no-history': { type: 'boolean', description: 'record no history' },
    ...HISTORY_LIMIT_OPTIONS,
    'reverse-dns': {
      type: 'string',
      value: 'on|hosts|off',
      description:
        'names of remote hosts: the system resolver (on, the default; a query may leave the machine), /etc/hosts only, or none; PORTHOLE_REVERSE_DNS sets the default',
    },
  },
  async run({ values }, io) {
    const reverseDns = values['reverse-dns'] ?? reverseDnsModeFrom(process.env.PORTHOLE_REVERSE_DNS);
    if (!(REVERSE_DNS_MODES as readonly string[]).includes(reverseDns))
      throw new UsageError(`--reverse-dns takes on, hosts or off, not "${printable(reverseDns.slice(0, 40))}".`);
    const token = values['token-file'] === undefined ? undefined : readTokenFile(values['token-file'], '--token-file');
    const sourceSpecs = parseSources(values.source ?? [], values['source-token-file'] ?? []);
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port takes 0-65535, not "${printable(values.port ?? '')}".`);
    const intervalMs = parseInterval(values.interval);
    const limits = historyLimits(values);
    const eventBufferKb = parseEventBuffer(values['event-buffer-kb']);
    const rendererDir = join(__dirname, '..', 'renderer');
    if (!existsSync(join(rendererDir, 'index.html'))) {
      io.stderr(`The UI is not built (${rendererDir} is missing): run "npm run build" first.\n`);
      return EXIT_FAILURE;
    }
    const poller = new Poller({ intervalMs, eventBufferKb, channel: channelFromEnvironment() });
    poller.onError((message) => io.stderr(`${message}\n`));
    // A history that cannot be opened is said and skipped: the live view goes on.
    const history = values['no-history'] ? null : (values.history ?? defaultHistoryPath());
    const recording = new RecordingControl(poller, history, (line) => io.stderr(`${line}\n`), limits);
    void recording.start(); // said, and shown, when it cannot record
    const log = (line: string) => io.stderr(`${line}\n`);
    const sources = sourceSpecs.length ? new SourceWorker(sourceSpecs, log) : undefined;
    let server;
    try {
      server = await startWebServer({
        poller,
        rendererDir,
        port,
        log,
        sources,
        token,
        reverseDns: reverseDns as ReverseDnsMode,
        recording,
      });
    } catch (error) {
      sources?.close();
      await recording.stop();
      await poller.stop();
      const code = (error as NodeJS.ErrnoException).code;
      io.stderr(
        `Cannot listen on 127.0.0.1:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (error as Error).message}.\n`,
      );
      return EXIT_FAILURE;
    }
    io.stdout(`Porthole is serving its UI at ${server.url}\n`);
    for (const source of sourceSpecs) io.stdout(`  with ${source.name} from ${source.streamUrl}\n`);
    await untilStopped();
    await recording.stop();
    sources?.close();
    await server.close();
    await poller.stop();
    return EXIT_OK;
  },
});
