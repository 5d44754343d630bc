// One stress run (issue 27): PostgreSQL, Redis and nginx under pgbench, redis-benchmark and wrk,
// with 500 short connections a second beside them and both cores kept busy; then every client each
// server reports must be in `porthole snapshot`, both ends, each with its real owner. Used by
// tests/system/stress.test.ts (one run) and `npm run stress` (ten, with figures).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Snapshot, Socket } from '../../src-main/shared/contract';
import { PROJECT_ROOT, runPorthole } from './cli';
import { runTool, stopTool, type RealServer, type ReportedClient } from './real-servers';

export interface ServerOutcome {
  server: string;
  /** Clients the server reported before and after the snapshot (the ones that must be in it). */
  reported: number;
  /** Of those, the server's end found with the server's owner, and the client's end with the tool's. */
  serverEnds: number;
  clientEnds: number;
  /** What did not match, a line each (the first few). */
  faults: string[];
}

export interface StressServers {
  postgres: RealServer & { database: string };
  redis: RealServer;
  nginx: RealServer;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Both cores busy, at the normal priority: Porthole competes for them. */
function spinners(): ChildProcess[] {
  return [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

function churn(rate: number): ChildProcess {
  return spawn(process.execPath, [join(PROJECT_ROOT, 'tests/helpers/background-load.cjs'), '0', String(rate)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
}

/** The socket of `snapshot` from 127.0.0.1:`local` to 127.0.0.1:`remote`, if any. */
function socketBetween(sockets: Socket[], local: number, remote: number): Socket | undefined {
  return sockets.find(
    (s) =>
      s.protocol === 'tcp' &&
      s.localPort === local &&
      s.remotePort === remote &&
      /^(127\.0\.0\.1|::ffff:127\.0\.0\.1)$/.test(s.localAddress) &&
      /^(127\.0\.0\.1|::ffff:127\.0\.0\.1)$/.test(s.remoteAddress ?? ''),
  );
}

const owns = (socket: Socket | undefined, pid: number) =>
  socket !== undefined && (socket.pid === pid || (socket.pids ?? []).includes(pid));

function check(
  server: RealServer,
  toolPid: number,
  before: ReportedClient[],
  after: ReportedClient[],
  snapshot: Snapshot,
): ServerOutcome {
  // A client must be in the snapshot if the server had it both before and after it was taken.
  const afterKeys = new Set(after.map((c) => `${c.clientPort}/${c.serverPid}`));
  const stable = before.filter((c) => afterKeys.has(`${c.clientPort}/${c.serverPid}`));
  const outcome: ServerOutcome = {
    server: server.name,
    reported: stable.length,
    serverEnds: 0,
    clientEnds: 0,
    faults: [],
  };
  const fault = (line: string) => outcome.faults.length < 5 && outcome.faults.push(line);
  for (const client of stable) {
    const serverEnd = socketBetween(snapshot.sockets, server.port, client.clientPort);
    const clientEnd = socketBetween(snapshot.sockets, client.clientPort, server.port);
    if (owns(serverEnd, client.serverPid)) outcome.serverEnds++;
    else
      fault(
        serverEnd
          ? `${server.name} end of :${client.clientPort} owned by ${serverEnd.pid}, the server says ${client.serverPid}`
          : `${server.name} end of :${client.clientPort} missing`,
      );
    if (owns(clientEnd, toolPid)) outcome.clientEnds++;
    else
      fault(
        clientEnd
          ? `client end :${client.clientPort} owned by ${clientEnd.pid}, not the tool ${toolPid}`
          : `client end :${client.clientPort} missing`,
      );
  }
  return outcome;
}

/** One run: the load (ended after the check, or after `seconds` at most), the check a few seconds in. */
export async function stressRun(
  servers: StressServers,
  seconds = 120,
): Promise<{ outcomes: ServerOutcome[]; snapshotMs: number; sockets: number }> {
  const { postgres, redis, nginx } = servers;
  const host = ['-h', '127.0.0.1'];
  const tools = {
    postgres: runTool('pgbench', [
      ...host,
      '-p',
      String(postgres.port),
      '-U',
      'postgres',
      '-c',
      '16',
      '-j',
      '2',
      '-T',
      String(seconds),
      postgres.database,
    ]),
    redis: runTool('redis-benchmark', [
      ...host,
      '-p',
      String(redis.port),
      '-c',
      '50',
      '-n',
      '100000000',
      '-k',
      '1',
      '-q',
    ]),
    nginx: runTool('wrk', ['-t', '2', '-c', '32', '-d', `${seconds}s`, `http://127.0.0.1:${nginx.port}/`]),
  };
  const load = [...spinners(), churn(500)];
  try {
    // Every tool connected and busy.
    await sleep(4000);
    const before = { postgres: postgres.clients(), redis: redis.clients(), nginx: nginx.clients() };
    const started = Date.now();
    const run = runPorthole(['snapshot', '--format', 'json']);
    const snapshotMs = Date.now() - started;
    if (run.status !== 0) throw new Error(`porthole snapshot failed: ${run.stderr}`);
    const snapshot = JSON.parse(run.stdout) as Snapshot;
    const after = { postgres: postgres.clients(), redis: redis.clients(), nginx: nginx.clients() };
    const outcomes = (['postgres', 'redis', 'nginx'] as const).map((name) =>
      check(servers[name], tools[name].pid!, before[name], after[name], snapshot),
    );
    return { outcomes, snapshotMs, sockets: snapshot.sockets.length };
  } finally {
    await Promise.all([...Object.values(tools), ...load].map((child) => stopTool(child, 'SIGKILL')));
  }
}
