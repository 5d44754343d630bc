// Closing one TCP connection (issue 12): `porthole close LOCAL REMOTE` asks the kernel to abort that
// socket (netlink SOCK_DESTROY, as ss -K does). Tested with a real connection: the closed end's
// process gets ECONNABORTED, the peer the kernel's reset, the process keeps running; and what it
// refuses: bad endpoints, a listener, a connection that is not there, an unprivileged user.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { LinuxCollector } from '../../src-main/collect/linux/linux-collector';
import { asNobody, runPorthole } from '../helpers/cli';
import { at, socketsAt } from '../helpers/identity';
import { HELPERS } from '../helpers/workload';

const root = process.getuid?.() === 0;
const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL');
});

/** A connection held by one python process, which reports what each end saw. */
async function pair(): Promise<{
  pid: number;
  listenPort: number;
  clientPort: number;
  outcome: Promise<Record<string, string>>;
}> {
  const child = spawn('python3', [join(HELPERS, 'abort-pair.py')], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = JSON.parse((await lines.next()).value as string) as {
    pid: number;
    listenPort: number;
    clientPort: number;
  };
  // Ended before it could say (killed after a test): nothing seen.
  const outcome = lines
    .next()
    .then((line) => (line.done ? {} : (JSON.parse(line.value as string) as Record<string, string>)));
  return { ...first, outcome };
}

describe.skipIf(!root)('porthole close (root)', () => {
  it('aborts the connection: its owner gets ECONNABORTED, the peer a reset, and it leaves the table', async () => {
    const conn = await pair();
    const local = `127.0.0.1:${conn.clientPort}`;
    const remote = `127.0.0.1:${conn.listenPort}`;
    const run = runPorthole(['close', local, remote, '--yes']);
    expect(run.status, run.stderr).toBe(0);
    // The confirmation names both ends and the owner.
    expect(run.stdout).toContain(`tcp ${local} → ${remote}`);
    expect(run.stdout).toContain(`owner python3 (pid ${conn.pid})`);
    expect(run.stderr).toContain(`Closed tcp ${local} → ${remote}`);
    expect(await conn.outcome).toEqual({ client: 'ECONNABORTED', server: 'ECONNRESET' });
    const scan = new LinuxCollector().collectSync();
    expect(socketsAt(scan.sockets, 'tcp', at('127.0.0.1', conn.clientPort), at('127.0.0.1', conn.listenPort))).toEqual(
      [],
    );
  });

  it('refuses a listener, a connection that is not there, and asks before closing without --yes', async () => {
    const conn = await pair();
    const listener = runPorthole(['close', `127.0.0.1:${conn.listenPort}`, '0.0.0.0:0', '--yes']);
    expect(listener.status).toBe(2); // port 0 is not a port
    const absent = runPorthole(['close', '127.0.0.1:1', `127.0.0.1:${conn.listenPort}`, '--yes']);
    expect(absent.status).toBe(1);
    expect(absent.stderr).toMatch(/^Nothing was closed: there is no connection tcp 127\.0\.0\.1:1 → /);
    const unconfirmed = runPorthole(['close', `127.0.0.1:${conn.clientPort}`, `127.0.0.1:${conn.listenPort}`]);
    expect(unconfirmed.status).toBe(1);
    expect(unconfirmed.stderr).toContain('Nothing was closed: add --yes to confirm without a terminal.');
    // Still open: nothing happened to it.
    const scan = new LinuxCollector().collectSync();
    expect(
      socketsAt(scan.sockets, 'tcp', at('127.0.0.1', conn.clientPort), at('127.0.0.1', conn.listenPort))[0],
    ).toMatchObject({ state: 'ESTABLISHED' });
  });

  it('says that closing needs root when run as nobody, and closes nothing', async () => {
    const conn = await pair();
    const run = runPorthole(
      ['close', `127.0.0.1:${conn.clientPort}`, `127.0.0.1:${conn.listenPort}`, '--yes'],
      {},
      asNobody(),
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Not closed: (closing a connection needs root|not permitted)/);
  });
});

describe('porthole close: bad input', () => {
  it('refuses endpoints that are not an IP literal and a port, with exit 2', () => {
    for (const [a, b] of [
      ['localhost:80', '127.0.0.1:5000'],
      ['127.0.0.1', '127.0.0.1:5000'],
      ['127.0.0.1:70000', '127.0.0.1:5000'],
      ['::1:80', '127.0.0.1:5000'],
    ]) {
      const run = runPorthole(['close', a, b, '--yes']);
      expect(run.status, a).toBe(2);
      expect(run.stderr).toMatch(
        /^porthole close: LOCAL is an address and a port, e\.g\. 127\.0\.0\.1:5000 or \[::1\]:5000, not "/,
      );
    }
    expect(runPorthole(['close', '127.0.0.1:5000']).status).toBe(2);
  });
});
