// Stopping a port's owner: real child processes, SIGTERM then SIGKILL, the refusals, and a pid
// the kernel really gave to another process, which must never be signalled.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { killProcess, refusalFor } from '../../src-main/actions/kill-process';
import { ProcessReader } from '../../src-main/collect/linux/processes';
import { runPorthole } from '../helpers/cli';
import { eventually, Workload } from '../helpers/workload';

const workload = new Workload();
afterAll(() => workload.stop());

const alive = (pid: number) => {
  const stat = new ProcessReader().stat(pid);
  return stat !== null && stat.state !== 'Z';
};

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  return child;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

describe('porthole kill', () => {
  it('stops the listener after confirmation with SIGTERM, and the port is free again', async () => {
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const unconfirmed = runPorthole(['kill', String(server.port)]);
    expect(unconfirmed.status).toBe(1);
    expect(unconfirmed.stderr).toMatch(
      new RegExp(`Stop node \\(pid ${server.pid}, user root\\): .*socket-child\\.cjs`),
    );
    expect(unconfirmed.stderr).toMatch(/Nothing was stopped: add --yes/);
    expect(alive(server.pid)).toBe(true);

    const run = runPorthole(['kill', String(server.port), '--yes']);
    expect(run.stderr).toMatch(new RegExp(`pid ${server.pid} ended after SIGTERM`));
    expect(run.status).toBe(0);
    expect(alive(server.pid)).toBe(false);
    expect(runPorthole(['who', String(server.port)]).status).toBe(0);
  });

  it('sends SIGKILL to a process that ignores SIGTERM only when --force is given', async () => {
    const stubborn = await workload.start({ role: 'listen', host: '127.0.0.1', ignoreTerm: true });
    const polite = runPorthole(['who', String(stubborn.port), '--kill', '--yes']);
    expect(polite.status).toBe(1);
    expect(polite.stderr).toMatch(/still running 3 s after SIGTERM \(ask again with --force for SIGKILL\)/);
    expect(alive(stubborn.pid)).toBe(true);
    const forced = runPorthole(['kill', String(stubborn.port), '--force', '--yes']);
    expect(forced.stderr).toMatch(new RegExp(`pid ${stubborn.pid} ended after SIGKILL`));
    expect(forced.status).toBe(0);
  });

  it('says there is nothing to stop on a free port', () => {
    const run = runPorthole(['kill', '1', '--yes']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/nothing listens on this port/);
  });
});

describe('killProcess', () => {
  it('refuses pid ≤ 1, Porthole itself and its parent', async () => {
    expect(refusalFor(0)).toMatch(/not a process Porthole will signal/);
    expect(refusalFor(1)).toMatch(/not a process Porthole will signal/);
    expect(refusalFor(-5)).toMatch(/not a process/);
    expect(refusalFor(process.pid)).toMatch(/Porthole itself/);
    expect(refusalFor(process.ppid)).toMatch(/Porthole's parent/);
    const self = new ProcessReader().read(process.pid)!;
    const outcome = await killProcess({ pid: self.pid, startedAt: self.startedAt }, { force: true });
    expect(outcome).toEqual({ ok: false, pid: process.pid, reason: `pid ${process.pid} is Porthole itself` });
  });

  it('refuses a live pid whose start time is not the one the user saw', async () => {
    const child = sleeper();
    const info = await eventually(() => new ProcessReader().read(child.pid!) ?? undefined);
    const outcome = await killProcess({ pid: info.pid, startedAt: '2001-01-01T00:00:00.000Z' }, { force: true });
    expect(outcome.ok).toBe(false);
    expect(outcome.ok === false && outcome.reason).toMatch(
      /is now another process .*the pid was reused, nothing was signalled/,
    );
    expect(alive(child.pid!)).toBe(true);
    child.kill('SIGKILL');
    await exited(child);
  });

  it('never signals a pid the kernel has given to a new process', async () => {
    // Make the kernel reuse a pid for real: note a process, let it exit, then set the next pid
    // (ns_last_pid, root only) so the next child gets the same number. Other processes may take
    // it first: try a few times.
    let reused: { old: { pid: number; startedAt: string | null }; child: ChildProcess } | null = null;
    for (let attempt = 0; attempt < 20 && !reused; attempt++) {
      const first = sleeper();
      const old = await eventually(() => new ProcessReader().read(first.pid!) ?? undefined);
      first.kill('SIGKILL');
      await exited(first);
      // Start times have a 10 ms resolution: make sure the new process cannot share the old one's.
      await new Promise((resolve) => setTimeout(resolve, 30));
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(old.pid - 1));
      const second = sleeper();
      if (second.pid === old.pid) reused = { old: { pid: old.pid, startedAt: old.startedAt }, child: second };
      else {
        second.kill('SIGKILL');
        await exited(second);
      }
    }
    expect(reused).not.toBeNull();
    const { old, child } = reused!;
    await eventually(() => (new ProcessReader().read(child.pid!)?.startedAt !== old.startedAt ? true : undefined));
    const outcome = await killProcess(old, { force: true, timeoutMs: 500 });
    expect(outcome.ok).toBe(false);
    expect(outcome.ok === false && outcome.reason).toMatch(/the pid was reused, nothing was signalled/);
    expect(alive(old.pid)).toBe(true);
    child.kill('SIGKILL');
    await exited(child);
  });

  it('reports a process that has already exited', async () => {
    const child = sleeper();
    const info = await eventually(() => new ProcessReader().read(child.pid!) ?? undefined);
    child.kill('SIGKILL');
    await exited(child);
    const outcome = await killProcess({ pid: info.pid, startedAt: info.startedAt }, { force: false });
    expect(outcome).toEqual({ ok: false, pid: info.pid, reason: `pid ${info.pid} has already exited` });
  });
});
