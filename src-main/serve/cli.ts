// The `porthole` command line: snapshot and watch. It only moves bytes; the engine does the rest.

import { existsSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCollector } from '../collect';
import type { Delta, Socket, StreamMessage } from '../shared/contract';
import { buildSnapshot } from '../export/snapshot';
import { isExportFormat, printable, renderSnapshot, type ExportFormat } from '../export/formats';
import { ExportError, writeFileAtomic } from '../export/write-atomic';
import { applyDelta, type AppliedTable } from '../track/apply-delta';
import { formatEndpoint } from '../track/identity';
import { Poller } from './poller';
import { startWebServer } from './web';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const USAGE = `Usage:
  porthole snapshot [--format json|csv|text] [--output FILE]
      Print (or write atomically to FILE) every socket with its owning process.
      The format defaults to FILE's extension, else text on a terminal and json in a pipe.
  porthole watch [--json] [--interval MS]
      A line per change to the socket table. With --json, NDJSON stream messages: the whole
      table first ({"type":"resync",…}), then each change ({"type":"delta",…}).
  porthole serve [--port N] [--interval MS]
      The live UI in a browser: on 127.0.0.1 only, behind a per-run token in the URL it prints.
  porthole help
`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
}

class UsageError extends Error {}

function parse<T extends Record<string, { type: 'string' | 'boolean' }>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function chooseFormat(requested: string | undefined, output: string | undefined, isTTY: boolean): ExportFormat {
  if (requested !== undefined) {
    if (!isExportFormat(requested)) throw new UsageError(`Unknown format "${requested}": use json, csv or text.`);
    return requested;
  }
  const extension = output?.split('.').pop()?.toLowerCase();
  if (extension === 'json' || extension === 'csv') return extension;
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

function describe(socket: Socket): string {
  const local = formatEndpoint(socket.localAddress, socket.localPort) || '(unbound)';
  const remote = socket.remoteAddress === null ? '' : ` → ${formatEndpoint(socket.remoteAddress, socket.remotePort)}`;
  const owner =
    socket.pid !== null
      ? `${socket.processName}[${socket.pid}]`
      : socket.lastPid !== null
        ? `(was pid ${socket.lastPid})`
        : '';
  const proto = socket.family === 6 ? `${socket.protocol}6` : socket.protocol;
  return printable(`${proto} ${local}${remote} ${owner}`.trimEnd());
}

/** Human lines for one delta, each stamped with the scan's time. */
export function describeDelta(delta: Delta, gone: Socket[]): string[] {
  const time = delta.at.slice(11, 23);
  return [
    ...delta.added.map((s) => `${time} + ${describe(s)} ${s.state}`),
    ...delta.changed
      .filter((c) => c.from.state !== undefined || c.from.pid !== undefined)
      .map((c) =>
        c.from.state !== undefined
          ? `${time} ~ ${describe(c.to)} ${c.from.state} → ${c.to.state}`
          : `${time} ~ ${describe(c.to)} owner ${c.from.pid ?? '-'} → ${c.to.pid ?? '-'}`,
      ),
    ...gone.map((s) => `${time} - ${describe(s)} ${s.state}`),
  ];
}

async function watchCommand(args: string[], io: CliIo): Promise<number> {
  const values = parse(args, { json: { type: 'boolean' }, interval: { type: 'string' } });
  const intervalMs = values.interval === undefined ? 1000 : Number(values.interval);
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new UsageError(`--interval takes milliseconds, not "${values.interval}".`);
  }
  const poller = new Poller({ intervalMs });
  const table: AppliedTable = new Map();
  poller.onError((message) => io.stderr(`${message}\n`));
  // The worker may not have polled yet when we subscribe (a resync at seq 0): the first real
  // reading then arrives as a delta adding everything, which is the table, not news.
  let seq = 0;
  const header = () =>
    io.stderr(
      `Watching ${table.size} sockets, polling every ${intervalMs / 1000} s; connections shorter than that are not seen. Ctrl-C stops.\n`,
    );
  const subscription = poller.subscribe((json) => {
    const message = JSON.parse(json) as StreamMessage;
    if (values.json) io.stdout(json + '\n');
    if (message.type === 'resync') {
      table.clear();
      applyDelta(table, { added: message.resync.sockets, removed: [], changed: [] });
      if (seq === 0 && message.resync.seq > 0 && !values.json) header();
      seq = message.resync.seq;
    } else {
      const gone = applyDelta(table, message.delta);
      if (!values.json) {
        if (seq === 0) header();
        else for (const line of describeDelta(message.delta, gone)) io.stdout(line + '\n');
      }
      seq = message.delta.seq;
    }
    subscription.ack();
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  subscription.close();
  await poller.stop();
  return EXIT_OK;
}

async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const values = parse(args, { port: { type: 'string' }, interval: { type: 'string' } });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port takes 0-65535, not "${values.port}".`);
  const intervalMs = values.interval === undefined ? 1000 : Number(values.interval);
  if (!Number.isFinite(intervalMs) || intervalMs <= 0)
    throw new UsageError(`--interval takes milliseconds, not "${values.interval}".`);
  const rendererDir = join(__dirname, '..', 'renderer');
  if (!existsSync(join(rendererDir, 'index.html'))) {
    io.stderr(`The UI is not built (${rendererDir} is missing): run "npm run build" first.\n`);
    return EXIT_FAILURE;
  }
  const poller = new Poller({ intervalMs });
  poller.onError((message) => io.stderr(`${message}\n`));
  let server;
  try {
    server = await startWebServer({ poller, rendererDir, port, log: (line) => io.stderr(`${line}\n`) });
  } catch (error) {
    await poller.stop();
    const code = (error as NodeJS.ErrnoException).code;
    io.stderr(
      `Cannot listen on 127.0.0.1:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (error as Error).message}.\n`,
    );
    return EXIT_FAILURE;
  }
  io.stdout(`Porthole is serving its UI at ${server.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await poller.stop();
  return EXIT_OK;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'snapshot':
        return await snapshotCommand(rest, io);
      case 'watch':
        return await watchCommand(rest, io);
      case 'serve':
        return await serveCommand(rest, io);
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
    if (error instanceof ExportError) {
      io.stderr(`${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}
