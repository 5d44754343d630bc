// Where the poll loop runs, behind one interface: a worker thread in this process (the default),
// or the privileged helper process (helper.ts) over pipes, its every line checked.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { localRendezvous } from '../collect';
import { Invalid } from '../export/import-snapshot';
import { LineSplitter, MAX_FROM_HELPER_LINE, parseFromHelper, type FromHelper, type ToHelper } from './helper-protocol';
import { POLL_WORKER_YOUNG_MB, type PollWorkerOptions, type ToPollWorker } from './protocol';
import { sameSecret } from '../common/secret';

export interface ChannelEvents {
  message(message: FromHelper): void;
  error(message: string): void;
  /** It ended without being closed (the worker or the helper died, or its pipes closed). */
  exit(): void;
}

export interface PollChannel {
  /** 'helper': the privileged helper, which also stops processes; 'worker': this process's thread. */
  readonly kind: 'worker' | 'helper';
  send(message: ToHelper | { type: 'stop' }): void;
  close(): Promise<void>;
}

export type ChannelFactory = (events: ChannelEvents, options: PollWorkerOptions) => PollChannel;

/** The poll worker in a thread of this process. */
export function workerChannel(workerPath?: string): ChannelFactory {
  return (events, options) => {
    const worker = new Worker(workerPath ?? join(__dirname, 'poll-worker.js'), {
      workerData: options,
      resourceLimits: { maxYoungGenerationSizeMb: POLL_WORKER_YOUNG_MB },
    });
    let closing = false;
    worker.on('message', (message: FromHelper) => events.message(message));
    worker.on('error', (error) => events.error(error.message));
    worker.on('exit', () => {
      if (!closing) events.exit();
    });
    return {
      kind: 'worker',
      send: (message) => worker.postMessage(message as ToPollWorker),
      close: async () => {
        closing = true;
        worker.postMessage({ type: 'stop' } satisfies ToPollWorker);
        await new Promise<void>((resolve) => {
          const timeout = setTimeout(() => void worker.terminate().then(() => resolve()), 2000);
          worker.once('exit', () => {
            clearTimeout(timeout);
            resolve();
          });
        });
      },
    };
  };
}

/** The helper's lines on `input`, requests written to `output`; `end` closes them. */
function pipeChannel(input: Readable, output: Writable, events: ChannelEvents, end: () => Promise<void>): PollChannel {
  const lines = new LineSplitter(MAX_FROM_HELPER_LINE);
  let closing = false;
  let refused = 0;
  input.on('data', (chunk: Buffer) => {
    for (const line of lines.push(chunk)) {
      if (line === '') continue;
      try {
        events.message(parseFromHelper(line));
      } catch (error) {
        refused++;
        const why = error instanceof Invalid ? `${error.path} ${error.message}` : 'not a message';
        events.error(`the privileged helper sent a message that was refused (${refused} so far): ${why}`);
      }
    }
  });
  const ended = () => {
    if (!closing) events.exit();
    closing = true;
  };
  input.once('end', ended);
  input.once('error', ended);
  output.on('error', () => undefined); // a dead helper: its input's end says so
  return {
    kind: 'helper',
    send: (message) => {
      if (message.type === 'stop') return; // the helper ends when its input closes
      if (!output.destroyed) output.write(JSON.stringify(message) + '\n');
    },
    close: async () => {
      closing = true;
      await end();
    },
  };
}

/**
 * The helper started as `command args` (e.g. pkexec and the helper's path) with pipes for its
 * stdin and stdout: it can be started again when it dies.
 */
export function helperProcessChannel(command: string, args: readonly string[]): ChannelFactory {
  return (events, options) => {
    const child = spawn(command, [...args, '--interval', String(options.intervalMs)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child.once('error', (error) => events.error(`the privileged helper could not be started: ${error.message}`));
    return pipeChannel(child.stdout, child.stdin, events, async () => {
      child.stdin.end();
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const timeout = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 3000);
        child.once('exit', () => {
          clearTimeout(timeout);
          resolve();
        });
      });
    });
  };
}

/** Where a connect-back helper is to connect, and the file holding the token it must say first. */
export interface Rendezvous {
  path: string;
  tokenFile: string;
}

/** How long the consent dialog may take before the helper's connection is given up on. */
export const CONSENT_WAIT_MS = 120_000;

/**
 * A helper started elevated by a launcher that does not hand on pipes (macOS's administrator
 * prompt, Windows's UAC): it connects back to a local socket of this process's own — a Unix socket
 * in a new 0700 folder (a named pipe on Windows), never a TCP port — and must first say the token
 * written (0600) beside it. The first connection that does is the helper's; the socket then closes
 * to anyone else.
 */
export function connectBackChannel(
  launch: (rendezvous: Rendezvous & { intervalMs: number }) => { command: string; args: string[] },
): ChannelFactory {
  return (events, options) => {
    const dir = mkdtempSync(join(tmpdir(), 'porthole-helper-'));
    chmodSync(dir, 0o700);
    const token = randomBytes(32).toString('hex');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, token, { mode: 0o600 });
    const path = localRendezvous.path(dir, randomBytes(16).toString('hex'));
    let helper: Socket | null = null;
    let inner: PollChannel | null = null;
    const queued: Parameters<PollChannel['send']>[0][] = [];
    const cleanUp = () => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    };
    const server = createServer((socket) => {
      // Anyone else who can reach the socket (this user) is cut off unless it says the token.
      let first = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        first = Buffer.concat([first, chunk]);
        const nl = first.indexOf(10);
        if (nl < 0) {
          if (first.length > 200) socket.destroy();
          return;
        }
        socket.off('data', onData);
        if (helper || !sameSecret(first.subarray(0, nl).toString(), token)) return socket.destroy();
        helper = socket;
        clearTimeout(timeout);
        cleanUp();
        inner = pipeChannel(socket, socket, events, async () => {
          socket.end();
          await new Promise((resolve) => setTimeout(resolve, 100));
          socket.destroy();
        });
        const rest = first.subarray(nl + 1);
        if (rest.length > 0) socket.emit('data', rest);
        for (const message of queued.splice(0)) inner.send(message);
      };
      socket.on('data', onData);
      socket.on('error', () => socket.destroy());
    });
    server.maxConnections = 4;
    server.listen(path, () => {
      const { command, args } = launch({ path, tokenFile, intervalMs: options.intervalMs });
      const launcher = spawn(command, args, { stdio: 'ignore' });
      launcher.once('error', (error) => events.error(`the privileged helper could not be started: ${error.message}`));
      // The launcher returning without a helper connecting: consent refused (or it failed).
      launcher.once('exit', (code) => {
        if (code !== 0 && !helper) giveUp();
      });
    });
    let given = false;
    const giveUp = () => {
      if (given || helper) return;
      given = true;
      cleanUp();
      events.exit();
    };
    const timeout = setTimeout(giveUp, CONSENT_WAIT_MS);
    return {
      kind: 'helper',
      send: (message) => (inner ? inner.send(message) : void queued.push(message)),
      close: async () => {
        clearTimeout(timeout);
        given = true;
        cleanUp();
        await inner?.close();
      },
    };
  };
}

/** A helper already running, reached through file descriptors this process inherited (read, write). */
export function inheritedHelperChannel(readFd: number, writeFd: number): ChannelFactory {
  return (events) => {
    // Sockets, not fs streams: the pipes are non-blocking (their creator's libuv made them so),
    // which a file stream reads as an error and a socket handles.
    const input = new Socket({ fd: readFd, readable: true, writable: false });
    const output = new Socket({ fd: writeFd, readable: false, writable: true });
    return pipeChannel(input, output, events, async () => {
      await new Promise<void>((resolve) => output.end(resolve));
      input.destroy();
    });
  };
}

/**
 * The channel the environment asks for: PORTHOLE_HELPER=fds:R,W (a helper started by whoever
 * started Porthole, e.g. a consent dialog, on inherited pipes), command:["cmd", "arg"…] (Porthole
 * starts it on pipes, and again if it dies) or connect:["cmd", …] (Porthole starts it with
 * --connect PATH --token-file FILE --interval MS added, and it connects back); else the worker thread.
 */
export function channelFromEnvironment(value = process.env.PORTHOLE_HELPER): {
  factory: ChannelFactory;
  restart: boolean;
} {
  const fds = /^fds:(\d{1,4}),(\d{1,4})$/.exec(value ?? '');
  if (fds) return { factory: inheritedHelperChannel(Number(fds[1]), Number(fds[2])), restart: false };
  const how = /^(command|connect):/.exec(value ?? '')?.[1];
  if (value && how) {
    const argv: unknown = JSON.parse(value.slice(how.length + 1));
    if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string'))
      throw new Error(`PORTHOLE_HELPER=${how}: takes a JSON array of strings`);
    const [command, ...args] = argv as string[];
    if (how === 'command') return { factory: helperProcessChannel(command, args), restart: true };
    return {
      factory: connectBackChannel((r) => ({
        command,
        args: [...args, '--connect', r.path, '--token-file', r.tokenFile, '--interval', String(r.intervalMs)],
      })),
      restart: true,
    };
  }
  if (value) throw new Error('PORTHOLE_HELPER takes fds:R,W, command:["cmd", …] or connect:["cmd", …]');
  return { factory: workerChannel(), restart: true };
}
