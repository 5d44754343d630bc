// Real servers from Debian's packages, each in a folder of its own on a loopback port of its own,
// for the stress test (issue 27): PostgreSQL, Redis and nginx, and the load tools that use them
// (pgbench, redis-benchmark, wrk). Each server says which clients it has, by its own account
// (pg_stat_activity, CLIENT LIST, ss for nginx, which keeps no such list), so that Porthole's table
// can be checked against the servers themselves. Loopback only.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './workload';

/** One connection as a server reports it: its port on the client's side, and the server's owner. */
export interface ReportedClient {
  clientPort: number;
  serverPid: number;
}

export interface RealServer {
  name: string;
  port: number;
  /** The clients it has now, by its own account (its own queries excluded). */
  clients(): ReportedClient[];
  stop(): Promise<void>;
}

const PG_BIN = existsSync('/usr/lib/postgresql')
  ? join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql').sort().at(-1) ?? '', 'bin')
  : '';

/** Whether every server and tool this needs is installed. */
export function realServersMissing(): string[] {
  const onPath = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
  return [
    ...(existsSync(join(PG_BIN, 'postgres')) ? [] : ['postgresql']),
    ...['redis-server', 'redis-cli', 'redis-benchmark', 'nginx', 'wrk', 'pgbench', 'psql', 'runuser'].filter(
      (c) => !onPath(c),
    ),
  ];
}

/** A port free on 127.0.0.1 now (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A port free on 127.0.0.1 below the kernel's ephemeral range (ip_local_port_range), which no
 * outgoing connection and no bind to port 0 is given. A test that frees a port and then says what
 * holds it needs one: on a busy host (tens of thousands of TIME_WAIT) a freed ephemeral port is
 * soon another socket's, a new listener's even.
 */
export async function portOutsideEphemeralRange(): Promise<number> {
  const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port found between 10000 and ${low}`);
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill(signal);
  });
}

const listening = (port: number) =>
  eventually(
    () => (spawnSync('ss', ['-Htln', `( sport = :${port} )`], { encoding: 'utf8' }).stdout.trim() ? true : undefined),
    20_000,
  );

/** PostgreSQL in a new cluster (trust on loopback, no fsync), run as the postgres user. */
export async function startPostgres(): Promise<RealServer & { database: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-pg-'));
  chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 0);
  const data = join(dir, 'data');
  execFileSync(
    'runuser',
    ['-u', 'postgres', '--', join(PG_BIN, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres'],
    {
      stdio: 'ignore',
    },
  );
  const port = await freePort();
  // Started as the postgres user by Node itself (not through runuser): stop() signals the
  // postmaster and waits for its own exit. Through runuser the signal went to runuser, which could
  // be killed while the postmaster lived on, orphaned, after the test had ended.
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
  const child = spawn(
    join(PG_BIN, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=120',
    ],
    { stdio: 'ignore', uid: id('-u'), gid: id('-g'), cwd: dir },
  );
  await listening(port);
  const psql = (sql: string) =>
    execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-At', '-c', sql], {
      encoding: 'utf8',
    });
  await eventually(
    () =>
      spawnSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', 'select 1']).status === 0
        ? true
        : undefined,
    20_000,
  );
  execFileSync(
    'pgbench',
    ['-i', '-s', '2', '-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'postgres'],
    {
      stdio: 'ignore',
    },
  );
  return {
    name: 'PostgreSQL',
    port,
    database: 'postgres',
    clients: () =>
      psql(
        "select pid, client_port from pg_stat_activity where client_addr = '127.0.0.1' and backend_type = 'client backend' and pid <> pg_backend_pid()",
      )
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [pid, clientPort] = line.split('|').map(Number);
          return { serverPid: pid, clientPort };
        }),
    stop: async () => {
      await stopChild(child, 'SIGINT'); // PostgreSQL's fast shutdown
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Redis with nothing saved to disk. */
export async function startRedis(): Promise<RealServer> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-redis-'));
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--maxclients',
      '1000',
    ],
    { stdio: 'ignore' },
  );
  await listening(port);
  return {
    name: 'Redis',
    port,
    clients: () =>
      execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'CLIENT', 'LIST'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes('addr=') && !/cmd=client\|list/.test(line))
        .map((line) => ({ clientPort: Number(/ addr=[^ ]*:(\d+) /.exec(line)![1]), serverPid: child.pid! })),
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * nginx with two workers answering "ok". It lists no clients of its own, so its clients are the
 * connections `ss -tnp` shows on its port with a worker as their owner, read at the same moment.
 */
export async function startNginx(): Promise<RealServer> {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-nginx-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:${port}; location / { return 200 "ok\\n"; } }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  await listening(port);
  return {
    name: 'nginx',
    port,
    clients: () =>
      execFileSync('ss', ['-Htnp', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .flatMap((line) => {
          const peer = /\S+:(\d+)\s+users:/.exec(line);
          const pid = /pid=(\d+)/.exec(line);
          return peer && pid ? [{ clientPort: Number(peer[1]), serverPid: Number(pid[1]) }] : [];
        }),
    stop: async () => {
      await stopChild(child, 'SIGQUIT'); // nginx's graceful stop
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A load tool run for `seconds`, in its own process (its pid owns the client ends). */
export function runTool(command: string, args: string[]): ChildProcess {
  return spawn(command, args, { stdio: 'ignore' });
}

export const stopTool = stopChild;
