// `porthole wait` (issue 13): the real command waits on real sockets — until a port is listened
// on, until it is free, or until its timeout, when it names who still holds the port.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runPorthole } from '../helpers/cli';
import { Workload } from '../helpers/workload';

const workload = new Workload();
afterEach(() => workload.stop());

/** A port nothing holds right now (the kernel picks it). */
async function freePort(host = '127.0.0.1'): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, host, resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Runs `porthole wait …` in the background: its exit code, stderr, and when it ended. */
function waitFor(args: string[]): Promise<{ status: number | null; stderr: string; endedAt: number }> {
  const child = spawn(process.execPath, [CLI, 'wait', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (status) => resolve({ status, stderr, endedAt: Date.now() })));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('porthole wait', () => {
  it('returns once something listens on the port, not before', async () => {
    const port = await freePort();
    const waiting = waitFor([String(port), '--listening', '--timeout', '20']);
    await sleep(1000);
    const listenedAt = Date.now();
    const server = await workload.start({ role: 'listen', host: '127.0.0.1', port });
    const result = await waiting;
    expect(result.status).toBe(0);
    expect(result.endedAt).toBeGreaterThanOrEqual(listenedAt);
    expect(result.stderr).toMatch(
      new RegExp(`^Listening after [\\d.]+ s: 127\\.0\\.0\\.1:${port} listens: node \\(pid ${server.pid}\\)`),
    );
  });

  it('returns once the port is free, when its holder exits', async () => {
    const port = await freePort();
    await workload.start({ role: 'listen', host: '127.0.0.1', port });
    const waiting = waitFor([`${port}/tcp`, '--free', '--timeout', '20']);
    await sleep(1000);
    const stoppedAt = Date.now();
    await workload.stop();
    const result = await waiting;
    expect(result.status).toBe(0);
    expect(result.endedAt).toBeGreaterThanOrEqual(stoppedAt);
    expect(result.stderr).toMatch(/^Free after [\d.]+ s: /);
  });

  it('times out with the doctor’s reason: who still holds the port', async () => {
    const port = await freePort();
    const holder = await workload.start({ role: 'listen', host: '127.0.0.1', port });
    const result = runPorthole(['wait', String(port), '--free', '--timeout', '1']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^Timed out after 1\.\d s: /);
    expect(result.stderr).toContain(`pid ${holder.pid}`);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('waits for the address asked for: a listener on another loopback address does not count', async () => {
    const port = await freePort('127.0.0.2');
    await workload.start({ role: 'listen', host: '127.0.0.2', port });
    const other = runPorthole(['wait', String(port), '--listening', '--address', '127.0.0.1', '--timeout', '0.5']);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain(`nothing listens on tcp 127.0.0.1 port ${port} here`);
    expect(runPorthole(['wait', String(port), '--listening', '--address', '127.0.0.2', '--timeout', '5']).status).toBe(
      0,
    );
  });

  it('waits for a bound UDP port', async () => {
    const bound = await workload.start({ role: 'udp', host: '127.0.0.1' });
    const result = runPorthole(['wait', `${bound.port}/udp`, '--listening', '--timeout', '5']);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`127.0.0.1:${bound.port} is bound: node (pid ${bound.pid})`);
  });

  it.each([
    [['3000'], 'one of --free or --listening'],
    [['3000', '--free', '--listening'], 'one of --free or --listening'],
    [['70000', '--free'], '70000'],
    [['3000', '--free', '--timeout', 'soon'], '--timeout takes seconds'],
    [['3000', '--free', '--timeout', '0'], '--timeout takes seconds'],
    [['3000', '--listening', '--address', 'localhost'], '--address takes an IPv4 or IPv6 address'],
  ])('refuses bad input %j with exit 2', (args, words) => {
    const result = runPorthole(['wait', ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(words);
  });
});
