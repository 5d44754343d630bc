// The `porthole` command line: snapshot, who, kill, diff, watch, serve. It only moves bytes and
// words; the engine, the doctor and the actions do the rest.

import { existsSync, readFileSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCollector } from '../collect';
import { isIpLiteral } from '../shared/ip-literal';
import { MAX_BUFFER_KB, MIN_BUFFER_KB } from '../collect/linux/tcp-state-events';
import { MAX_INTERVAL_MS, MIN_INTERVAL_MS } from '../shared/ipc';
import { createInterface } from 'node:readline/promises';
import type { ConnectionChain, Delta, EventMode, Socket, StreamMessage } from '../shared/contract';
import { groupChains, groupDuration } from '../track/connection-chains';
import { formatEndpoint } from '../track/identity';
import { buildSnapshot } from '../export/snapshot';
import {
  comparisonText,
  describeSocket,
  EXPORT_FORMATS,
  isExportFormat,
  printable,
  renderSnapshot,
  type ExportFormat,
} from '../export/formats';
import { ExportError, ExportRefused, writeFileAtomic } from '../export/write-atomic';
import { ImportError } from '../export/import-snapshot';
import { readSnapshotFile, readUserFile } from '../export/read-snapshot-file';
import { parseWebConfig, WebConfigError, type WebConfig } from './web-config';
import { checkSpecs, parseSourceSpec, SourceSpecError, SourceWorker, type SourceSpec } from './sources';
import { applyDelta, type AppliedTable } from '../track/apply-delta';
import { compareTables, isSameTable } from '../track/compare';
import { diagnosisText, ownersToStop, parsePortSpec, type Diagnosis } from '../track/port-doctor';
import { examinePort } from '../collect/port-evidence';
import { waitVerdict, type WaitCondition } from '../track/port-wait';
import { killProcess } from '../actions/kill-process';
import { closeConnection, findConnection } from '../actions/close-connection';
import { Poller } from './poller';
import { channelFromEnvironment } from './poll-channel';
import { startWebServer } from './web';
import { startExporter } from './exporter';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const USAGE = `Usage:
  porthole snapshot [--format json|csv|text|markdown] [--output FILE]
      Print (or write atomically to FILE) every socket with its owning process.
      The format defaults to FILE's extension, else text on a terminal and json in a pipe.
  porthole who PORT[/tcp|/udp] [--address A] [--json] [--kill [--force] [--yes]]
      Why a bind to PORT fails: who listens, conflicts, TIME_WAIT leftovers, the kernel's answer
      to a real bind, and what to do. Exit 0 when the port is free to bind, 1 when not, 2 on bad input.
  porthole kill PORT[/tcp|/udp] [--force] [--yes]
      Stop the processes listening on PORT (SIGTERM; SIGKILL after 3 s with --force), after a
      confirmation; a pid reused by another process since it was looked at is never signalled.
  porthole close LOCAL REMOTE [--yes]
      Close one TCP connection (root; the kernel aborts it, as ss -K does): its process keeps
      running, gets ECONNABORTED on it, and the peer a reset. LOCAL and REMOTE as 127.0.0.1:5000
      or [::1]:5000, after a confirmation that names both ends and the owner.
  porthole wait PORT[/tcp|/udp] --free|--listening [--address A] [--timeout S]
      For scripts: return once PORT is free to bind (--free) or something listens on it
      (--listening; at A, or a wildcard covering it, with --address). Exit 0 then, 1 after S
      seconds with the Port Doctor's one-line reason (who still holds it), 2 on bad input.
  porthole diff BEFORE.json AFTER.json [--json]
      Listeners opened and closed, connections appeared and gone, state and owner changes.
      Exit 0 when the tables are the same, 1 when they differ, 2 on a file that cannot be read.
  porthole watch [--json] [--interval MS] [--event-buffer-kb KB]
      A line per change to the socket table. With --json, NDJSON stream messages: the whole
      table first ({"type":"resync",…}), then each change ({"type":"delta",…}). As root, also
      every connection that ended (kernel events), and a line when the kernel lost events.
  porthole serve [--port N] [--interval MS] [--event-buffer-kb KB] [--token-file F]
                [--source NAME=URL]… [--source-token-file NAME=F]…
      The live UI in a browser: on 127.0.0.1 only, behind a per-run token in the URL it prints
      (or the one in --token-file). --source adds another machine's porthole serve (the URL it
      printed, often through an SSH tunnel: ssh -N -L 7001:127.0.0.1:7001 HOST) to the same UI,
      with a host column and each host's status; its token from the URL or from
      --source-token-file.
  --event-buffer-kb: the kernel's event buffer per CPU (default 4096); bigger rides out longer bursts.
  porthole exporter [--listen 127.0.0.1:9464] [--interval MS] [--bearer-token-file F]
                   [--web-config-file F] [--max-process-series N]
      Prometheus / OpenMetrics metrics at /metrics: sockets by protocol, family, state and
      namespace, listeners by port and process, connections opened and closed, lost events, poll
      durations. Loopback unless --listen names another address, which then needs a bearer token,
      or basic auth or client certificates in --web-config-file (Prometheus exporter-toolkit's
      format: tls_server_config, basic_auth_users), which may also turn on TLS.
  porthole help
`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
  /** Settles when whoever reads stdout has gone (`watch | head`): a long-running command then ends quietly. */
  outputClosed?: Promise<void>;
}

/**
 * A long-running command runs until Ctrl-C or SIGTERM; one that streams to stdout also until its
 * reader goes away. (`serve` keeps serving when `serve | head -1` has taken its URL.)
 */
function untilStopped(outputClosed?: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    void outputClosed?.then(() => resolve());
  });
}

/** `--interval MS`: whole milliseconds within what the poller runs at, else a usage error naming the range. */
function parseInterval(text: string | undefined): number {
  if (text === undefined) return 1000;
  const ms = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(ms >= MIN_INTERVAL_MS && ms <= MAX_INTERVAL_MS))
    throw new UsageError(
      `--interval takes whole milliseconds from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS}, not "${printable(text)}".`,
    );
  return ms;
}

/** --event-buffer-kb: the kernel's event buffer per CPU, for hosts with longer bursts. */
function parseEventBuffer(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const kb = /^\d{1,8}$/.test(text) ? Number(text) : NaN;
  if (!(kb >= MIN_BUFFER_KB && kb <= MAX_BUFFER_KB))
    throw new UsageError(
      `--event-buffer-kb takes whole KiB from ${MIN_BUFFER_KB} to ${MAX_BUFFER_KB}, not "${printable(text)}".`,
    );
  return kb;
}

class UsageError extends Error {}

function parse<T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>(
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parseWithPositionals<T extends Record<string, { type: 'string' | 'boolean' }>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function chooseFormat(requested: string | undefined, output: string | undefined, isTTY: boolean): ExportFormat {
  if (requested !== undefined) {
    if (!isExportFormat(requested))
      throw new UsageError(`Unknown format "${requested}": use ${EXPORT_FORMATS.join(', ')}.`);
    return requested;
  }
  const extension = output?.split('.').pop()?.toLowerCase();
  if (extension === 'json' || extension === 'csv') return extension;
  if (extension === 'md') return 'markdown';
  if (output !== undefined || isTTY) return 'text';
  return 'json';
}

async function snapshotCommand(args: string[], io: CliIo): Promise<number> {
  const values = parse(args, { format: { type: 'string' }, output: { type: 'string' } });
  const format = chooseFormat(values.format, values.output, io.isTTY);
  const scan = await createCollector().collect();
  const snapshot = buildSnapshot(
    scan,
    { hostname: hostname(), platform: process.platform, release: release() },
    new Date(),
  );
  const text = renderSnapshot(snapshot, format);
  if (values.output === undefined) {
    io.stdout(text);
    return EXIT_OK;
  }
  writeFileAtomic(values.output, text);
  io.stderr(`Wrote ${snapshot.sockets.length} sockets to ${values.output} (${format}).\n`);
  return EXIT_OK;
}

/** Human lines for one delta, each stamped with the scan's time. */
export function describeDelta(delta: Delta, gone: Socket[]): string[] {
  const time = delta.at.slice(11, 23);
  return [
    ...delta.added.map((s) => `${time} + ${describeSocket(s)} ${s.state}`),
    ...delta.changed
      .filter((c) => c.from.state !== undefined || c.from.pid !== undefined)
      .map((c) =>
        c.from.state !== undefined
          ? `${time} ~ ${describeSocket(c.to)} ${c.from.state} → ${c.to.state}`
          : `${time} ~ ${describeSocket(c.to)} owner ${c.from.pid ?? '-'} → ${c.to.pid ?? '-'}`,
      ),
    ...gone.map((s) => `${time} - ${describeSocket(s)} ${s.state}`),
  ];
}

/** What a watcher sees, said once: every TCP change (kernel events), or only what polls catch. */
export function eventModeWords(mode: EventMode | undefined, intervalMs: number): string {
  const polling = `polling every ${intervalMs / 1000} s`;
  const lost = mode?.lost ? ` (${mode.lost.toLocaleString('en-US')} lost so far)` : '';
  return mode?.active
    ? `${polling} and recording every TCP state change from kernel events${lost}.`
    : `${polling}; connections shorter than that are not seen${mode?.reason ? ` (kernel events: ${mode.reason})` : ''}.`;
}

/** What did not reach this watcher: kernel events lost since `before`, finished connections not sent. */
export function describeLosses(delta: Delta, lostBefore: number): string[] {
  const time = delta.at.slice(11, 23);
  const lines: string[] = [];
  const lost = delta.eventMode?.lost ?? lostBefore;
  if (lost > lostBefore)
    lines.push(
      `${time} ! the kernel lost ${(lost - lostBefore).toLocaleString('en-US')} TCP events (its buffer was full; ${lost.toLocaleString('en-US')} in all): some connections are missing or incomplete`,
    );
  if (delta.chainsDropped)
    lines.push(
      `${time} ! ${delta.chainsDropped.toLocaleString('en-US')} finished connections were not sent to this watcher (it fell behind)`,
    );
  return lines;
}

/** Finished connections (event mode), a line per burst: 1,000 connections to one port are one line. */
export function describeChains(chains: ConnectionChain[]): string[] {
  return groupChains(chains).map((g) => {
    const time = new Date(g.last).toISOString().slice(11, 23);
    if (g.count === 1) {
      const c = g.examples[0];
      const local = formatEndpoint(c.localAddress, c.localPort);
      return printable(
        `${time} * tcp ${local} → ${formatEndpoint(c.remoteAddress, c.remotePort)} ${g.path} (${groupDuration(g)})`,
      );
    }
    const other = g.otherPaths > 0 ? `; ${g.otherPaths} ended otherwise` : '';
    return printable(`${time} * ${g.count} connections ${g.label} ${g.path} (${groupDuration(g)}${other})`);
  });
}

async function watchCommand(args: string[], io: CliIo): Promise<number> {
  const values = parse(args, {
    json: { type: 'boolean' },
    interval: { type: 'string' },
    'event-buffer-kb': { type: 'string' },
  });
  const intervalMs = parseInterval(values.interval);
  const poller = new Poller({
    intervalMs,
    eventBufferKb: parseEventBuffer(values['event-buffer-kb']),
    channel: channelFromEnvironment(),
  });
  const table: AppliedTable = new Map();
  poller.onError((message) => io.stderr(`${message}\n`));
  // The worker may not have polled yet when we subscribe (a resync at seq 0): the first real
  // reading then arrives as a delta adding everything, which is the table, not news.
  let seq = 0;
  let eventMode: EventMode | undefined;
  let lost = 0;
  const header = () =>
    io.stderr(`Watching ${table.size} sockets, ${eventModeWords(eventMode, intervalMs)} Ctrl-C stops.\n`);
  const subscription = poller.subscribe((json) => {
    const message = JSON.parse(json) as StreamMessage;
    if (values.json) io.stdout(json + '\n');
    if (message.type === 'resync') {
      eventMode = message.resync.eventMode;
      lost = eventMode?.lost ?? lost;
      table.clear();
      applyDelta(table, { added: message.resync.sockets, removed: [], changed: [] });
      if (seq === 0 && message.resync.seq > 0 && !values.json) header();
      seq = message.resync.seq;
    } else {
      const gone = applyDelta(table, message.delta);
      if (!values.json) {
        if (seq === 0) header();
        else for (const line of describeDelta(message.delta, gone)) io.stdout(line + '\n');
        for (const line of describeChains(message.delta.chains ?? [])) io.stdout(line + '\n');
        for (const line of describeLosses(message.delta, lost)) io.stdout(line + '\n');
      }
      if (message.delta.eventMode) eventMode = message.delta.eventMode;
      lost = eventMode?.lost ?? lost;
      seq = message.delta.seq;
    }
    subscription.ack();
  });
  await untilStopped(io.outputClosed);
  subscription.close();
  await poller.stop();
  return EXIT_OK;
}

/** Porthole's version, from package.json beside the built files (out/main → the project). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

async function exporterCommand(args: string[], io: CliIo): Promise<number> {
  const values = parse(args, {
    listen: { type: 'string' },
    interval: { type: 'string' },
    'bearer-token-file': { type: 'string' },
    'web-config-file': { type: 'string' },
    'max-process-series': { type: 'string' },
  });
  const listen = values.listen ?? '127.0.0.1:9464';
  // Port 0: any free port (the address printed says which).
  const { address, port } = parseEndpoint(listen, '--listen', 0);
  const maxSeries = values['max-process-series'] === undefined ? 100 : Number(values['max-process-series']);
  if (!Number.isInteger(maxSeries) || maxSeries < 1 || maxSeries > 10_000)
    throw new UsageError('--max-process-series takes 1-10000.');
  let bearerToken: string | null = null;
  if (values['bearer-token-file'] !== undefined) {
    // Read as any file a user names: a FIFO or a device is refused at once, not waited on.
    bearerToken = readUserFile(values['bearer-token-file'], 4096).toString('utf8').trim();
    if (bearerToken.length < 16) throw new UsageError('--bearer-token-file holds a token of 16 characters or more.');
  }
  let webConfig: WebConfig | null = null;
  if (values['web-config-file'] !== undefined) {
    const path = values['web-config-file'];
    const read = (file: string) => readUserFile(file, 1024 * 1024);
    try {
      webConfig = parseWebConfig(read(path).toString('utf8'), path, read);
    } catch (error) {
      if (!(error instanceof WebConfigError)) throw error;
      throw new UsageError(`--web-config-file "${printable(path)}": ${error.message}.`);
    }
  }
  const poller = new Poller({ intervalMs: parseInterval(values.interval), channel: channelFromEnvironment() });
  poller.onError((message) => io.stderr(`${message}\n`));
  let exporter;
  try {
    exporter = await startExporter({
      poller,
      host: address,
      port,
      version: packageVersion(),
      maxProcessSeries: maxSeries,
      bearerToken,
      webConfig,
    });
  } catch (error) {
    await poller.stop();
    io.stderr(`Cannot serve metrics on ${printable(listen)}: ${(error as Error).message}.\n`);
    return EXIT_FAILURE;
  }
  io.stdout(`Porthole metrics at ${exporter.url}\n`);
  await untilStopped();
  await exporter.close();
  await poller.stop();
  return EXIT_OK;
}

/** A token a user keeps in a file: read as any file a user names (a FIFO is refused, not waited on). */
function readTokenFile(path: string, option: string): string {
  const token = readUserFile(path, 4096).toString('utf8').trim();
  if (!/^[A-Za-z0-9._~-]{16,512}$/.test(token))
    throw new UsageError(
      `${option} holds one token: 16-512 letters, digits or . _ ~ - (it travels in a URL and a WebSocket header).`,
    );
  return token;
}

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

async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const values = parse(args, {
    port: { type: 'string' },
    interval: { type: 'string' },
    'event-buffer-kb': { type: 'string' },
    'token-file': { type: 'string' },
    source: { type: 'string', multiple: true },
    'source-token-file': { type: 'string', multiple: true },
  });
  const token = values['token-file'] === undefined ? undefined : readTokenFile(values['token-file'], '--token-file');
  const sourceSpecs = parseSources(values.source ?? [], values['source-token-file'] ?? []);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port takes 0-65535, not "${printable(values.port ?? '')}".`);
  const intervalMs = parseInterval(values.interval);
  const eventBufferKb = parseEventBuffer(values['event-buffer-kb']);
  const rendererDir = join(__dirname, '..', 'renderer');
  if (!existsSync(join(rendererDir, 'index.html'))) {
    io.stderr(`The UI is not built (${rendererDir} is missing): run "npm run build" first.\n`);
    return EXIT_FAILURE;
  }
  const poller = new Poller({ intervalMs, eventBufferKb, channel: channelFromEnvironment() });
  poller.onError((message) => io.stderr(`${message}\n`));
  const log = (line: string) => io.stderr(`${line}\n`);
  const sources = sourceSpecs.length ? new SourceWorker(sourceSpecs, log) : undefined;
  let server;
  try {
    server = await startWebServer({ poller, rendererDir, port, log, sources, token });
  } catch (error) {
    sources?.close();
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
  sources?.close();
  await server.close();
  await poller.stop();
  return EXIT_OK;
}

function portRequest(spec: string | undefined, address: string | undefined) {
  if (spec === undefined) throw new UsageError('Which port? e.g. "porthole who 3000" or "porthole who 53/udp".');
  const parsed = parsePortSpec(spec);
  if (!parsed.ok) throw new UsageError(`${parsed.reason}.`);
  if (address !== undefined && !isIpLiteral(address))
    throw new UsageError(`--address takes an IPv4 or IPv6 address (no host names), not "${printable(address)}".`);
  return { port: parsed.port, protocol: parsed.protocol, address: address ?? null };
}

async function confirm(question: string, io: CliIo): Promise<boolean> {
  if (!io.isTTY || !process.stdin.isTTY) return false;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}

/** Stops the owners of the listeners in the way, after a confirmation that names each one. */
async function stopOwners(diagnosis: Diagnosis, options: { force: boolean; yes: boolean }, io: CliIo): Promise<number> {
  const owners = ownersToStop(diagnosis);
  if (owners.length === 0) {
    io.stderr(
      diagnosis.listeners.length > 0
        ? 'No process to stop: the listeners in the way have no owner Porthole can see (run as root?).\n'
        : 'No process to stop: nothing listens on this port.\n',
    );
    return EXIT_FAILURE;
  }
  for (const owner of owners)
    io.stderr(
      `Stop ${printable(owner.name)} (pid ${owner.pid}, user ${owner.user ?? owner.uid ?? '?'}): ${printable(owner.command || owner.name)}\n`,
    );
  if (
    !options.yes &&
    !(await confirm(owners.length === 1 ? 'Stop this process?' : `Stop these ${owners.length} processes?`, io))
  ) {
    io.stderr(
      options.yes || io.isTTY
        ? 'Nothing was stopped.\n'
        : 'Nothing was stopped: add --yes to confirm without a terminal.\n',
    );
    return EXIT_FAILURE;
  }
  let failed = false;
  for (const owner of owners) {
    const outcome = await killProcess({ pid: owner.pid, startedAt: owner.startedAt }, { force: options.force });
    io.stderr(outcome.ok ? `${outcome.message}.\n` : `Not stopped: ${outcome.reason}.\n`);
    failed ||= !outcome.ok;
  }
  return failed ? EXIT_FAILURE : EXIT_OK;
}

async function whoCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, {
    address: { type: 'string' },
    json: { type: 'boolean' },
    kill: { type: 'boolean' },
    force: { type: 'boolean' },
    yes: { type: 'boolean' },
  });
  if (positionals.length > 1) throw new UsageError(`One port at a time, not "${positionals.join(' ')}".`);
  const diagnosis = await examinePort(portRequest(positionals[0], values.address));
  io.stdout(values.json ? JSON.stringify(diagnosis, null, 2) + '\n' : diagnosisText(diagnosis));
  if (values.kill && diagnosis.verdict !== 'free')
    return stopOwners(diagnosis, { force: values.force === true, yes: values.yes === true }, io);
  return diagnosis.verdict === 'free' ? EXIT_OK : EXIT_FAILURE;
}

/** How often `wait` looks again: each look reads the table and tries a real bind. */
const WAIT_POLL_MS = 250;
/** `--timeout` bounds: a day is longer than any script waits for a port. */
const MAX_WAIT_SECONDS = 86_400;

async function waitCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, {
    free: { type: 'boolean' },
    listening: { type: 'boolean' },
    address: { type: 'string' },
    timeout: { type: 'string' },
  });
  if (positionals.length > 1) throw new UsageError(`One port at a time, not "${positionals.join(' ')}".`);
  if (values.free === values.listening) throw new UsageError('wait takes one of --free or --listening.');
  const condition: WaitCondition = values.free ? 'free' : 'listening';
  const request = portRequest(positionals[0], values.address);
  const timeout = values.timeout === undefined ? null : Number(values.timeout);
  if (timeout !== null && !(/^\d+(\.\d+)?$/.test(values.timeout!) && timeout > 0 && timeout <= MAX_WAIT_SECONDS))
    throw new UsageError(
      `--timeout takes seconds, more than 0 and at most ${MAX_WAIT_SECONDS}, not "${printable(values.timeout!)}".`,
    );
  const started = performance.now();
  let stopped = false;
  const stop = () => (stopped = true);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const collector = createCollector();
  try {
    for (;;) {
      const verdict = waitVerdict(await examinePort(request, collector), condition);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (verdict.met) {
        io.stderr(
          printable(`${condition === 'free' ? 'Free' : 'Listening'} after ${seconds} s: ${verdict.reason}`) + '\n',
        );
        return EXIT_OK;
      }
      if (stopped || (timeout !== null && performance.now() - started >= timeout * 1000)) {
        io.stderr(printable(`${stopped ? 'Stopped' : 'Timed out'} after ${seconds} s: ${verdict.reason}`) + '\n');
        return EXIT_FAILURE;
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function killCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, { force: { type: 'boolean' }, yes: { type: 'boolean' } });
  if (positionals.length > 1) throw new UsageError(`One port at a time, not "${positionals.join(' ')}".`);
  const diagnosis = await examinePort(portRequest(positionals[0], undefined));
  return stopOwners(diagnosis, { force: values.force === true, yes: values.yes === true }, io);
}

/** `127.0.0.1:5000` or `[::1]:5000`: an IP literal and a port (from `lowestPort`), else a usage error. */
function parseEndpoint(text: string | undefined, which: string, lowestPort = 1): { address: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text ?? '') ?? /^([^:[\]]+):(\d{1,5})$/.exec(text ?? '');
  const port = Number(m?.[2]);
  if (!m || !isIpLiteral(m[1]) || !(port >= lowestPort && port <= 65535))
    throw new UsageError(
      `${which} is an address and a port, e.g. 127.0.0.1:5000 or [::1]:5000, not "${printable(text ?? '')}".`,
    );
  return { address: m[1], port };
}

async function closeCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, { yes: { type: 'boolean' } });
  if (positionals.length !== 2)
    throw new UsageError('close takes both ends of one TCP connection: porthole close LOCAL REMOTE');
  const local = parseEndpoint(positionals[0], 'LOCAL');
  const remote = parseEndpoint(positionals[1], 'REMOTE');
  const scan = await createCollector().collect();
  const found = findConnection(scan.sockets, {
    localAddress: local.address,
    localPort: local.port,
    remoteAddress: remote.address,
    remotePort: remote.port,
  });
  if (typeof found === 'string') {
    io.stderr(`Nothing was closed: ${found}.\n`);
    return EXIT_FAILURE;
  }
  const owner = scan.processes.find((p) => p.pid === found.pid);
  io.stdout(
    printable(
      `${describeSocket(found)} ${found.state}, owner ${owner ? `${owner.name} (pid ${owner.pid}): ${owner.command || owner.name}` : 'unknown'}`,
    ) + '\n',
  );
  if (!values.yes && !(await confirm('Close this connection (its process keeps running)?', io))) {
    io.stderr(io.isTTY ? 'Nothing was closed.\n' : 'Nothing was closed: add --yes to confirm without a terminal.\n');
    return EXIT_FAILURE;
  }
  const outcome = closeConnection(found);
  io.stderr(outcome.ok ? `${outcome.message}.\n` : `Not closed: ${outcome.reason}.\n`);
  return outcome.ok ? EXIT_OK : EXIT_FAILURE;
}

async function diffCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseWithPositionals(args, { json: { type: 'boolean' } });
  if (positionals.length !== 2)
    throw new UsageError('diff takes two snapshot files: porthole diff BEFORE.json AFTER.json');
  const [before, after] = positionals.map((path) => ({ path, snapshot: readSnapshotFile(path) }));
  const comparison = compareTables(
    {
      label: before.path,
      takenAt: before.snapshot.takenAt,
      sockets: before.snapshot.sockets,
      processes: before.snapshot.processes,
    },
    {
      label: after.path,
      takenAt: after.snapshot.takenAt,
      sockets: after.snapshot.sockets,
      processes: after.snapshot.processes,
    },
  );
  io.stdout(values.json ? JSON.stringify(comparison, null, 2) + '\n' : comparisonText(comparison));
  return isSameTable(comparison) ? EXIT_OK : EXIT_FAILURE;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'snapshot':
        return await snapshotCommand(rest, io);
      case 'who':
        return await whoCommand(rest, io);
      case 'kill':
        return await killCommand(rest, io);
      case 'close':
        return await closeCommand(rest, io);
      case 'wait':
        return await waitCommand(rest, io);
      case 'diff':
        return await diffCommand(rest, io);
      case 'watch':
        return await watchCommand(rest, io);
      case 'serve':
        return await serveCommand(rest, io);
      case 'exporter':
        return await exporterCommand(rest, io);
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return EXIT_OK;
      default:
        io.stderr(`${command === undefined ? 'No command given' : `Unknown command "${command}"`}.\n\n${USAGE}`);
        return EXIT_USAGE;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ImportError) {
      io.stderr(`${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ExportRefused) {
      io.stderr(`${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ExportError) {
      io.stderr(`${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}
