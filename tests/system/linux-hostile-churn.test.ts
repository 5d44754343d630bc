// The collector under hostile input and process churn: forged Unix rows, shared sockets,
// processes forking and exiting while it polls, and TIME_WAIT memory across polls.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LinuxCollector } from '../../src-main/collect/linux/linux-collector';
import { Tracker } from '../../src-main/track/tracker';
import { TransitionLog } from '../../src-main/track/transitions';
import { socketKey } from '../../src-main/track/identity';
import { at, socketsAt, theListener, theSocket } from '../helpers/identity';
import { eventually, HELPERS, Workload } from '../helpers/workload';

const LO = '127.0.0.1';

const workload = new Workload();
const dir = mkdtempSync(join(tmpdir(), 'porthole-h-'));
afterEach(() => workload.stop());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FORGED = (slot: string, inode: number, path: string) =>
  `${slot}: 00000002 00000000 00010000 0001 01 ${inode} ${path}`;

describe('hostile Unix socket paths', () => {
  it('a path with a newline and a forged row after it creates no fake row, and keeps the real one whole', async () => {
    // The forged row names a relative path: a '/' would make the real path need a folder.
    const forgedPath = join(dir, 'e') + '\n' + FORGED('00000000deadbeef', 99999, 'fake');
    const plainNewline = join(dir, 'two') + '\nlines';
    const abstract = '\0evil\n' + FORGED('00000000cafebabe', 99998, '@fake');
    const [a, b, c] = await Promise.all([
      workload.start({ role: 'unixListen', path: forgedPath }),
      workload.start({ role: 'unixListen', path: plainNewline }),
      workload.start({ role: 'unixListen', path: abstract }),
    ]);
    const scan = new LinuxCollector().collectSync();
    const unix = scan.sockets.filter((s) => s.protocol === 'unix');
    expect(unix.filter((s) => s.inode === 99999 || s.inode === 99998)).toEqual([]);
    expect(unix.filter((s) => s.localAddress === 'fake' || s.localAddress === '@fake')).toEqual([]);
    expect(unix.find((s) => s.localAddress === forgedPath)).toMatchObject({ state: 'LISTEN', pid: a.pid });
    expect(unix.find((s) => s.localAddress === plainNewline)).toMatchObject({ state: 'LISTEN', pid: b.pid });
    // Node binds abstract names with the whole sun_path: the kernel shows the padding NULs as '@'.
    expect(unix.find((s) => s.localAddress.startsWith('@' + abstract.slice(1)))).toMatchObject({
      state: 'LISTEN',
      pid: c.pid,
    });
    expect(scan.stats.malformedRows).toBe(0);
  });
});

describe('owners', () => {
  it('lists every process holding a socket shared across fork', async () => {
    const info = (await workload.run('python3', [join(HELPERS, 'forked-listener.py')])) as unknown as {
      pid: number;
      childPid: number;
      port: number;
    };
    const scan = new LinuxCollector().collectSync();
    const listener = theListener(scan.sockets, 'tcp', at(LO, info.port));
    expect(listener).toMatchObject({
      pid: Math.min(info.pid, info.childPid),
      pids: [info.pid, info.childPid].sort((x, y) => x - y),
    });
    expect(scan.processes.map((p) => p.pid)).toEqual(expect.arrayContaining([info.pid, info.childPid]));
  });

  it('under churn (processes forking and exiting while it polls): no scan error, no lost row of a socket that stayed open', async () => {
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const clients = await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 5 });
    const churn = workload.spawn('python3', [join(HELPERS, 'churn.py'), String(server.port), '3']);
    const lines = createInterface({ input: churn.stdout! });
    const output: string[] = [];
    lines.on('line', (line) => output.push(line));
    {
      const churnInfo = JSON.parse(await eventually(() => output[0])) as { pid: number; port: number };
      const collector = new LinuxCollector();
      let polls = 0;
      let sawChurnConnections = 0;
      let repaired = 0;
      while (output.length < 2) {
        const scan = collector.collectSync(); // throws on any scan error, failing the test
        polls++;
        expect(scan.stats.malformedRows).toBe(0);
        repaired += scan.stats.repairedRows;
        const accepted = clients.localPorts!.flatMap((port) =>
          socketsAt(scan.sockets, 'tcp', at(LO, server.port), at(LO, port)),
        );
        const outgoing = clients.localPorts!.flatMap((port) =>
          socketsAt(scan.sockets, 'tcp', at(LO, port), at(LO, server.port)),
        );
        const seen = { accepted: accepted.map((s) => s.pid), outgoing: outgoing.map((s) => s.pid) };
        expect(seen, `poll ${polls}: ${JSON.stringify([accepted, outgoing])}`).toEqual({
          accepted: Array(5).fill(server.pid),
          outgoing: Array(5).fill(clients.pid),
        });
        expect(theListener(scan.sockets, 'tcp', at(LO, churnInfo.port)).pids).toContain(churnInfo.pid);
        sawChurnConnections +=
          scan.sockets.filter(
            (s) => s.remoteAddress === LO && s.remotePort === server.port && s.state === 'ESTABLISHED',
          ).length - 5;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const { forks } = JSON.parse(output[1]) as { forks: number };
      expect(forks).toBeGreaterThan(50);
      expect(polls).toBeGreaterThanOrEqual(5);
      expect(sawChurnConnections).toBeGreaterThan(0);
      console.log(`churn: ${forks} forks, ${polls} polls, ${repaired} rows repaired`);
    }
  });
});

describe('tracking a real connection across polls', () => {
  it('keeps its identity from ESTABLISHED to TIME_WAIT and remembers the last owner', async () => {
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const client = await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 1 });
    const collector = new LinuxCollector();
    const tracker = new Tracker();
    const log = new TransitionLog();
    const poll = () => {
      const delta = tracker.update(collector.collectSync(), new Date());
      log.apply(delta);
      return delta;
    };
    poll();
    const mine = theSocket(tracker.current().sockets, 'tcp', at(LO, client.localPorts![0]), at(LO, server.port));
    expect(mine).toMatchObject({ state: 'ESTABLISHED', pid: client.pid });
    const key = socketKey(mine);

    process.kill(client.pid, 'SIGUSR2');
    const seen: (typeof mine)[] = [];
    const change = await eventually(() => {
      const delta = poll();
      seen.push(...delta.changed.filter((c) => c.key === key).map((c) => c.to));
      return delta.changed.find((c) => c.key === key && c.to.state === 'TIME_WAIT');
    });
    expect(change.to).toMatchObject({ pid: null, inode: 0, lastPid: client.pid });
    // A poll may catch the close between reading the table and reading fds: owner unknown, never another.
    for (const reading of seen) expect([client.pid, null]).toContain(reading.pid);
    const history = log.history(key)!;
    expect(history.states[0].state).toBe('ESTABLISHED');
    expect(history.states.at(-1)!.state).toBe('TIME_WAIT');
    expect(Date.parse(history.states.at(-1)!.at)).toBeGreaterThanOrEqual(Date.parse(history.firstSeen));
    // The remembered owner stays while it lingers.
    poll();
    expect(tracker.current().sockets.find((s) => socketKey(s) === key)).toMatchObject({
      state: 'TIME_WAIT',
      lastPid: client.pid,
    });
  });
});
