// The privileged collector helper (issue 13): the poll worker in a process of its own, started by
// the desktop app through the platform's consent dialog (Linux: pkexec, with the polkit policy in
// resources/linux) so that the window itself never runs as root. It speaks the poll worker's
// protocol as newline-delimited JSON on the stdin and stdout the app handed it, checks every line,
// takes one privileged action (stopping a process that owns a socket in the table now, its start
// time re-checked), listens on no port, and ends when the app closes its end.
// Usage: helper.js [--interval MS] [--connect PATH --token-file FILE]
// With --connect (macOS and Windows, whose administrator prompts do not hand on the app's pipes) it
// connects to the app's private local socket (a Unix socket in a 0700 folder, or a named pipe)
// and says the token the app wrote for it first.

import { lstatSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { killProcess } from '../actions/kill-process';
import { localRendezvous, returnFreedMemory } from '../collect';
import { Invalid } from '../export/import-snapshot';
import type { Resync } from '../shared/contract';
import { checkInterval, DEFAULT_INTERVAL_MS } from '../shared/interval';
import {
  LineSplitter,
  MAX_TO_HELPER_LINE,
  parseToHelper,
  type FromHelper,
  type StopProcessRequest,
} from './helper-protocol';
import { POLL_WORKER_YOUNG_MB, type FromPollWorker, type PollWorkerOptions, type ToPollWorker } from './protocol';

const argument = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const intervalArg = argument('--interval');
const interval = checkInterval(intervalArg === undefined ? DEFAULT_INTERVAL_MS : Number(intervalArg));
if (!interval.ok) {
  process.stderr.write(`porthole helper: --interval: ${interval.reason}\n`);
  process.exit(2);
}
const intervalMs = interval.ms;

/**
 * The app's token, or null unless the file is one: 64 hex digits in a regular file of the private
 * folder (no access for group or others) that also holds the socket (Unix), owned by that folder's
 * owner. The helper runs as root with arguments the app chose.
 */
function tokenFrom(file: string, socketPath: string): string | null {
  try {
    const folder = dirname(file);
    if (localRendezvous.folderGuards && dirname(socketPath) !== folder) return null;
    const stats = lstatSync(file);
    const folderStats = statSync(folder);
    if (!stats.isFile() || stats.size > 128 || stats.uid !== folderStats.uid) return null;
    if (localRendezvous.folderGuards && (folderStats.mode & 0o077) !== 0) return null;
    const token = readFileSync(file, 'utf8').trim();
    return /^[0-9a-f]{64}$/.test(token) ? token : null;
  } catch {
    return null;
  }
}

/** Where requests come from and messages go: the inherited stdin/stdout, or the app's socket. */
let input: Readable = process.stdin;
let output: Writable = process.stdout;
const connectPath = argument('--connect');
if (connectPath !== undefined) {
  const tokenFile = argument('--token-file');
  if (!tokenFile) {
    process.stderr.write('porthole helper: --connect needs --token-file\n');
    process.exit(2);
  }
  const token = tokenFrom(tokenFile, connectPath);
  if (token === null) {
    // Never read out what is not a token: a root helper must not send an arbitrary file anywhere.
    process.stderr.write('porthole helper: --token-file is not a token in the private folder of --connect\n');
    process.exit(2);
  }
  const socket = connect(connectPath);
  socket.write(token + '\n');
  socket.on('error', () => process.exit(1));
  input = socket;
  output = socket;
}

// The helper runs for as long as the app, passing every table and delta on as text.
returnFreedMemory();
const worker = new Worker(join(__dirname, 'poll-worker.js'), {
  workerData: { intervalMs, events: true } satisfies PollWorkerOptions,
  resourceLimits: { maxYoungGenerationSizeMb: POLL_WORKER_YOUNG_MB },
});
const send = (message: FromHelper) => output.write(JSON.stringify(message) + '\n');
/** What the helper itself asked the worker for (the table, to check a stop request against). */
const ownRequests = new Map<number, (json: string) => void>();
/** The helper's own request ids count down from here, above any the app may use (REQUEST_ID_MAX). */
let nextOwnRequest = Number.MAX_SAFE_INTEGER;
/** Stop requests handled one at a time: each waits for the table and a process's end. */
let stopping: Promise<void> = Promise.resolve();

worker.on('message', (message: FromPollWorker) => {
  if (message.type === 'current' && ownRequests.has(message.requestId)) {
    ownRequests.get(message.requestId)!(message.json);
    ownRequests.delete(message.requestId);
    return;
  }
  send(message);
});
worker.on('error', (error) => send({ type: 'error', message: `helper poll worker: ${error.message}` }));
let ending = false;
// The poll worker ended on its own (a crash): the helper ends too, and the app may start another.
worker.on('exit', () => {
  if (!ending) process.exit(1);
});

function currentTable(): Promise<Resync> {
  const requestId = nextOwnRequest--;
  return new Promise((resolve) => {
    ownRequests.set(requestId, (json) => resolve(JSON.parse(json) as Resync));
    worker.postMessage({ type: 'current', requestId } satisfies ToPollWorker);
  });
}

/** Stops a process only if it holds a socket in the table now, with the start time the user saw. */
async function stopProcess(request: StopProcessRequest): Promise<void> {
  let table = await currentTable();
  // Before the first poll the table is empty: a request that early waits for it (a few seconds at most).
  for (let waited = 0; table.seq === 0 && waited < 5_000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    table = await currentTable();
  }
  const holds = table.sockets.some((s) => s.pids.includes(request.pid));
  const seen = table.processes.find((p) => p.pid === request.pid);
  const outcome =
    !holds || !seen
      ? { ok: false as const, pid: request.pid, reason: `pid ${request.pid} holds no socket in the table now` }
      : seen.startedAt !== request.startedAt
        ? { ok: false as const, pid: request.pid, reason: `pid ${request.pid} is another process than the one shown` }
        : await killProcess({ pid: request.pid, startedAt: request.startedAt }, { force: request.force });
  send({ type: 'stopped', requestId: request.requestId, outcome });
}

const lines = new LineSplitter(MAX_TO_HELPER_LINE);
let refused = 0;
input.on('data', (chunk: Buffer) => {
  const before = lines.dropped;
  for (const line of lines.push(chunk)) {
    if (line.trim() === '') continue;
    let request;
    try {
      request = parseToHelper(line);
    } catch (error) {
      // Said back once per line, never quoting it; the helper goes on.
      refused++;
      const why = error instanceof Invalid ? `${error.path} ${error.message}` : 'not a request';
      send({ type: 'error', message: `helper refused a request (${refused} so far): ${why}` });
      continue;
    }
    if (request.type === 'stop-process') {
      const next = request;
      // One at a time; one that fails is answered and does not hold up the next.
      stopping = stopping
        .then(() => stopProcess(next))
        .catch((error: Error) => {
          send({
            type: 'stopped',
            requestId: next.requestId,
            outcome: { ok: false, pid: next.pid, reason: error.message },
          });
        });
    } else worker.postMessage(request satisfies ToPollWorker);
  }
  if (lines.dropped > before) send({ type: 'error', message: 'helper refused a request longer than it takes' });
});
// The app closed its end (it quit, or crashed): the helper ends with it.
input.on('end', () => {
  ending = true;
  worker.postMessage({ type: 'stop' } satisfies ToPollWorker);
  setTimeout(() => process.exit(0), 2_000).unref();
  worker.once('exit', () => process.exit(0));
});
output.on('error', () => process.exit(0));
