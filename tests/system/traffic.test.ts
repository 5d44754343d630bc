// Per-connection traffic (issue 12): a real loopback connection carries a known number of bytes
// each way, and Porthole shows them within 1% in a snapshot (the real CLI), turns them into rates
// between polls, and shows none where it cannot read them (/proc).
import { afterAll, describe, expect, it } from 'vitest';
import { LinuxCollector } from '../../src-main/collect/linux/linux-collector';
import type { Snapshot } from '../../src-main/shared/contract';
import { Tracker } from '../../src-main/track/tracker';
import { runPorthole } from '../helpers/cli';
import { at, socketsAt } from '../helpers/identity';
import { Workload } from '../helpers/workload';

const LO = '127.0.0.1';
const SENT = 5_000_000;
const REPLY = 1_234_567;
const workload = new Workload();
afterAll(() => workload.stop());

const within1Percent = (value: number | undefined, expected: number) => {
  expect(value).toBeDefined();
  expect(Math.abs(value! - expected) / expected).toBeLessThan(0.01);
};

describe('traffic per connection', () => {
  it('shows the bytes a real connection carried each way, within 1%, in a snapshot', async () => {
    const pair = await workload.start({ role: 'transfer', host: LO, send: SENT, reply: REPLY });
    const run = runPorthole(['snapshot', '--format', 'json']);
    expect(run.status).toBe(0);
    const snapshot = JSON.parse(run.stdout) as Snapshot;
    expect(snapshot.stats.engine).toBe('netlink');
    const server = at(LO, pair.port);
    const client = at(LO, pair.localPort);
    const [clientEnd] = socketsAt(snapshot.sockets, 'tcp', client, server);
    const [serverEnd] = socketsAt(snapshot.sockets, 'tcp', server, client);
    within1Percent(clientEnd?.traffic?.bytesAcked, SENT);
    within1Percent(clientEnd?.traffic?.bytesReceived, REPLY);
    within1Percent(serverEnd?.traffic?.bytesReceived, SENT);
    within1Percent(serverEnd?.traffic?.bytesAcked, REPLY);
    // One reading has no rate yet; the listener has no figures of its own.
    // (Retransmits are not asserted: a loaded host drops on loopback too, as CI showed.)
    expect(clientEnd.traffic).toMatchObject({ sendRate: null, receiveRate: null });
    expect(socketsAt(snapshot.sockets, 'tcp', server, null)[0].traffic).toBeUndefined();

    const csv = runPorthole(['snapshot', '--format', 'csv']).stdout.split('\r\n');
    const columns = csv[0].split(',');
    const row = csv.find((line) => line.startsWith(`tcp,4,${LO},${pair.localPort},${LO},${pair.port},`))!.split(',');
    within1Percent(Number(row[columns.indexOf('bytesAcked')]), SENT);
    within1Percent(Number(row[columns.indexOf('bytesReceived')]), REPLY);
  });

  it('turns the counters into rates between polls, and to zero once the connection is idle', async () => {
    const RATE = 2_000_000;
    const pair = await workload.start({ role: 'transfer', host: LO, send: 1, reply: 1, rate: RATE });
    const collector = new LinuxCollector();
    const tracker = new Tracker();
    const figures = (delta: ReturnType<Tracker['update']>) => {
      const key = `tcp|${LO}:${pair.localPort}|${LO}:${pair.port}`;
      return (
        [...delta.added, ...delta.changed.map((c) => c.to)].find(
          (s) => s.localPort === pair.localPort && s.remotePort === pair.port,
        )?.traffic ?? delta.traffic?.find((u) => u.key === key)?.traffic
      );
    };
    const first = collector.collectSync();
    const start = figures(tracker.update(first, new Date()))!;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const second = collector.collectSync();
    const busy = figures(tracker.update(second, new Date()))!;
    // The rate is the bytes between the two readings over the time between them (the two dumps)…
    expect(second.trafficAt! - first.trafficAt!).toBeGreaterThanOrEqual(2000);
    const expected = ((busy.bytesAcked - start.bytesAcked) * 1000) / (second.trafficAt! - first.trafficAt!);
    expect(Math.abs(busy.sendRate! - expected)).toBeLessThanOrEqual(1);
    // …and that is the sender's pace (timer-paced chunks: loose on a loaded host).
    expect(Math.abs(busy.sendRate! - RATE) / RATE).toBeLessThan(0.25);
    expect(busy.receiveRate).toBe(0);

    // Stopped: the next polls report what was still sent, then zero once, then nothing more.
    process.kill(pair.pid, 'SIGUSR1');
    let last = busy;
    let silent = 0;
    for (let poll = 0; poll < 10 && silent < 2; poll++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const reported = figures(tracker.update(collector.collectSync(), new Date()));
      if (reported) last = reported;
      silent = reported ? 0 : silent + 1;
    }
    expect(silent).toBe(2);
    expect(last).toMatchObject({ sendRate: 0, receiveRate: 0 });
    expect(last!.bytesAcked).toBeGreaterThan(RATE);
  });

  it('has no figures where it reads /proc: none rather than zeros', async () => {
    const pair = await workload.start({ role: 'transfer', host: LO, send: 1000, reply: 10 });
    const scan = new LinuxCollector({ engine: 'proc' }).collectSync();
    const [clientEnd] = socketsAt(scan.sockets, 'tcp', at(LO, pair.localPort), at(LO, pair.port));
    expect(clientEnd.state).toBe('ESTABLISHED');
    expect(clientEnd.traffic).toBeUndefined();
  });
});
