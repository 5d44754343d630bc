// A socket's owner exits and the kernel gives its pid to a new process before the next poll: the
// socket must never be attributed to the newcomer. The collector keeps inode → owners between
// polls and re-reads a process only when its count of open files changes, so the newcomer here
// has exactly as many open files as the owner had (one socket each, the same standard streams).
// The other way a pid changes hands: its process execs another program, keeping its sockets and
// here its name; the table must name the program that runs now.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { LinuxCollector } from '../../src-main/collect/linux/linux-collector';
import type { Socket } from '../../src-main/shared/contract';

const started: ChildProcess[] = [];
afterAll(() => started.forEach((c) => c.kill('SIGKILL')));

/** python3 with one socket open and nothing else beyond its standard streams. */
function python(script: string): ChildProcess {
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(child);
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

// The owner: listens, forks a child that keeps the listener, says "port owner child", and exits
// when its stdin closes.
const OWNER = `
import os, socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
child = os.fork()
if child == 0:
    sys.stdin.close(); time.sleep(120); os._exit(0)
print(s.getsockname()[1], os.getpid(), child, flush=True)
sys.stdin.read()
`;
// The newcomer: as many open files as the owner, one of them a socket of its own.
const NEWCOMER = `
import socket, sys
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;

const firstLine = (child: ChildProcess) =>
  new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));

const listenerOn = (sockets: Socket[], port: number) =>
  sockets.find((s) => s.protocol === 'tcp' && s.state === 'LISTEN' && s.localPort === port);

describe('a reused pid', () => {
  it('never takes over the sockets of the process that had it', async () => {
    const collector = new LinuxCollector();
    let attempt = 0;
    for (; attempt < 20; attempt++) {
      const owner = python(OWNER);
      const [port, ownerPid, childPid] = (await firstLine(owner)).split(' ').map(Number);
      // Polls while the owner lives: the listener is the owner's and its child's.
      let table = collector.collectSync().sockets;
      expect([...(listenerOn(table, port)?.pids ?? [])].sort()).toEqual([ownerPid, childPid].sort());
      owner.stdin!.end();
      await exited(owner);
      // The kernel is asked for the owner's pid next (root only); another process may take it first.
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(ownerPid - 1));
      const newcomer = python(NEWCOMER);
      await firstLine(newcomer);
      if (newcomer.pid !== ownerPid) {
        newcomer.kill('SIGKILL');
        process.kill(childPid, 'SIGKILL');
        continue;
      }
      // Polls after: the listener is the child's alone, in every poll, never the newcomer's.
      for (let poll = 0; poll < 3; poll++) {
        table = collector.collectSync().sockets;
        const listener = listenerOn(table, port);
        expect(listener, `poll ${poll} after the pid was reused`).toMatchObject({ pid: childPid, pids: [childPid] });
      }
      process.kill(childPid, 'SIGKILL');
      break;
    }
    expect(attempt, 'the kernel never gave the pid again').toBeLessThan(20);
  });
});

// Listens, says its port, and on a line from stdin execs python3 again (the same name) with the
// listener kept open; the new program says so once it runs.
const BEFORE_EXEC = `
import os, socket, sys
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1); s.set_inheritable(True)
print(s.getsockname()[1], flush=True)
sys.stdin.readline()
os.execv(sys.executable, ['python3', '-c', 'import sys; print("after-exec", flush=True); sys.stdin.read()', 'after-exec'])
`;

describe('an exec that keeps the name', () => {
  it('names the program the pid runs now, not the one it ran', async () => {
    const collector = new LinuxCollector();
    const owner = python(BEFORE_EXEC);
    const lines = createInterface({ input: owner.stdout! })[Symbol.asyncIterator]();
    const port = Number((await lines.next()).value);
    const commandOf = (table: ReturnType<LinuxCollector['collectSync']>) => {
      const listener = listenerOn(table.sockets, port);
      expect(listener?.pid).toBe(owner.pid);
      return table.processes.find((p) => p.pid === owner.pid)?.command;
    };
    expect(commandOf(collector.collectSync())).toContain('os.execv');
    owner.stdin!.write('\n');
    expect((await lines.next()).value).toBe('after-exec');
    const after = collector.collectSync();
    expect(after.processes.find((p) => p.pid === owner.pid)?.name).toBe('python3');
    expect(commandOf(after)).toBe(
      'python3 -c import sys; print("after-exec", flush=True); sys.stdin.read() after-exec',
    );
    owner.stdin!.end();
    await exited(owner);
  });
});
