// The Linux collector against a real workload of loopback sockets held by several child processes,
// checked socket by socket and then against `ss -tuanp` taken at the same moment.
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hostInfo } from '../../src-main/collect';
import { LinuxCollector } from '../../src-main/collect/linux/linux-collector';
import type { InetRow } from '../../src-main/collect/linux/proc-net';
import { KernelRefusal, SockDiagReader } from '../../src-main/collect/linux/sock-diag';
import { toText } from '../../src-main/export/formats';
import { buildSnapshot } from '../../src-main/export/snapshot';
import type { Scan, Socket } from '../../src-main/shared/contract';
import { formatEndpoint } from '../../src-main/track/identity';
import { at, socketsAt, theListener, theSocket } from '../helpers/identity';
import { readSs } from '../helpers/ss';
import { eventually, HELPERS, Workload, type ChildInfo } from '../helpers/workload';

const workload = new Workload();
const dir = mkdtempSync(join(tmpdir(), 'porthole-sys-'));
const unixPath = join(dir, 'app.sock');

let v4: ChildInfo, v6: ChildInfo, wildcard: ChildInfo, dualStack: ChildInfo, dualClient: ChildInfo;
let fanServer: ChildInfo, fanClients: ChildInfo;
let backlog: ChildInfo, pending: ChildInfo;
let halfServer: ChildInfo, halfClient: ChildInfo;
let twServer: ChildInfo, twClient: ChildInfo;
let udpBound: ChildInfo, udpPeer: ChildInfo, udpConnected: ChildInfo, unixServer: ChildInfo;
let scan: Scan;

const LO = '127.0.0.1';

beforeAll(async () => {
  [v4, v6, wildcard, dualStack, fanServer, backlog, halfServer, twServer, udpPeer, unixServer] = await Promise.all([
    workload.start({ role: 'listen', host: '127.0.0.1' }),
    workload.start({ role: 'listen', host: '::1' }),
    workload.start({ role: 'listen', host: '0.0.0.0' }),
    workload.start({ role: 'listen', host: '::', ipv6Only: false }),
    workload.start({ role: 'listen', host: '127.0.0.1' }),
    workload.neverAccepting('127.0.0.1'),
    workload.start({ role: 'halfCloseServer', host: '127.0.0.1' }),
    workload.start({ role: 'listen', host: '127.0.0.1' }),
    workload.start({ role: 'udp', host: '127.0.0.1' }),
    workload.start({ role: 'unixListen', path: unixPath }),
  ]);
  [dualClient, fanClients, pending, halfClient, twClient, udpBound, udpConnected] = await Promise.all([
    workload.start({ role: 'connect', host: '127.0.0.1', port: dualStack.port, count: 1 }),
    workload.start({ role: 'connect', host: '127.0.0.1', port: fanServer.port, count: 12 }),
    // Backlog 0 queues one connection; the ones after it wait in SYN_SENT.
    workload.start({ role: 'connectPending', host: '127.0.0.1', port: backlog.port, count: 4 }),
    workload.start({ role: 'connect', host: '127.0.0.1', port: halfServer.port, count: 1, halfOpen: true }),
    workload.start({ role: 'timeWait', host: '127.0.0.1', port: twServer.port }),
    workload.start({ role: 'udp', host: '127.0.0.1' }),
    workload.start({ role: 'udp', host: '127.0.0.1', connectTo: udpPeer.port }),
  ]);
  const collector = new LinuxCollector();
  // Wait until the slow transitions (SYN retries, FIN handshakes) have settled in the kernel.
  scan = await eventually(() => {
    const s = collector.collectSync();
    const synSent = pending.localPorts!.flatMap((port) =>
      socketsAt(s.sockets, 'tcp', at(LO, port), at(LO, backlog.port)).filter((x) => x.state === 'SYN_SENT'),
    );
    const halfClosed = socketsAt(s.sockets, 'tcp', at(LO, halfServer.port), at(LO, halfClient.localPorts![0]));
    return synSent.length > 0 && halfClosed[0]?.state === 'FIN_WAIT2' ? s : undefined;
  });
}, 60_000);

afterAll(async () => {
  await workload.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Linux collector on a real workload', () => {
  it('sees listeners on 127.0.0.1, ::1, 0.0.0.0 and dual-stack :: with their owners', () => {
    const cases = [
      { child: v4, family: 4, address: '127.0.0.1' },
      { child: v6, family: 6, address: '::1' },
      { child: wildcard, family: 4, address: '0.0.0.0' },
      { child: dualStack, family: 6, address: '::' },
    ];
    for (const { child, family, address } of cases) {
      const listener = theListener(scan.sockets, 'tcp', at(address, child.port));
      expect(listener).toMatchObject({
        protocol: 'tcp',
        family,
        localAddress: address,
        localPort: child.port,
        remoteAddress: null,
        remotePort: null,
        pid: child.pid,
        processName: 'node',
        uid: 0,
      });
      expect(listener.inode).toBeGreaterThan(0);
    }
  });

  it('keeps an IPv4 client of a dual-stack listener as the kernel has it: ::ffff:127.0.0.1, family 6', () => {
    const mapped = '::ffff:127.0.0.1';
    const clientPort = dualClient.localPorts![0];
    const server = theSocket(scan.sockets, 'tcp', at(mapped, dualStack.port), at(mapped, clientPort));
    expect(server).toMatchObject({ family: 6, state: 'ESTABLISHED', pid: dualStack.pid });
    // The client's end, seen from IPv4, is plain 127.0.0.1 and nothing else holds that 4-tuple.
    const client = theSocket(scan.sockets, 'tcp', at(LO, clientPort), at(LO, dualStack.port));
    expect(client).toMatchObject({ family: 4, state: 'ESTABLISHED', pid: dualClient.pid });
    expect(socketsAt(scan.sockets, 'tcp', at(mapped, clientPort), at(mapped, dualStack.port))).toEqual([]);
  });

  it('shows the fan-out: one listener, twelve connected sockets told apart by their remote end', () => {
    expect(new Set(fanClients.localPorts).size).toBe(12);
    for (const port of fanClients.localPorts!) {
      const accepted = theSocket(scan.sockets, 'tcp', at(LO, fanServer.port), at(LO, port));
      expect(accepted).toMatchObject({ state: 'ESTABLISHED', pid: fanServer.pid });
      const outgoing = theSocket(scan.sockets, 'tcp', at(LO, port), at(LO, fanServer.port));
      expect(outgoing).toMatchObject({ state: 'ESTABLISHED', pid: fanClients.pid });
    }
    // Nothing else is connected to the listener (other connections on a busy host have other ends).
    const behind = scan.sockets.filter(
      (s) => s.localAddress === LO && s.localPort === fanServer.port && s.state === 'ESTABLISHED',
    );
    expect(behind).toHaveLength(12);
  });

  it("reads one port's sockets for who: the kernel's filtered dump and /proc's rows agree with a full scan", () => {
    const full = new LinuxCollector().collectSync();
    const onPort = (sockets: Socket[]) =>
      sockets
        .filter((x) => x.localPort === fanServer.port || x.remotePort === fanServer.port)
        .map(
          (x) =>
            `${x.protocol} ${x.localAddress}:${x.localPort} ${x.remoteAddress}:${x.remotePort} ${x.state} ${x.pid}`,
        )
        .sort();
    for (const engine of ['auto', 'proc'] as const) {
      const scoped = new LinuxCollector({ engine, port: fanServer.port }).collectSync();
      expect(scoped.stats.engine).toBe(engine === 'auto' ? 'netlink' : 'proc');
      // Only the port's sockets (the listener and both ends of its twelve connections), no Unix ones.
      expect(scoped.sockets.every((x) => x.protocol !== 'unix')).toBe(true);
      expect(onPort(scoped.sockets)).toEqual(onPort(full.sockets));
      expect(scoped.sockets).toHaveLength(onPort(full.sockets).length);
      // Among them, by their whole identity (a busy host may hold other sockets with that port
      // number): the listener and both ends of its twelve connections, with their owners.
      const mine = [
        `tcp ${LO}:${fanServer.port} null:null LISTEN ${fanServer.pid}`,
        ...fanClients.localPorts!.flatMap((port) => [
          `tcp ${LO}:${fanServer.port} ${LO}:${port} ESTABLISHED ${fanServer.pid}`,
          `tcp ${LO}:${port} ${LO}:${fanServer.port} ESTABLISHED ${fanClients.pid}`,
        ]),
      ];
      expect(onPort(scoped.sockets)).toEqual(expect.arrayContaining(mine));
    }
  });

  it('sees connections waiting in SYN_SENT behind a full accept queue', () => {
    const waiting = pending.localPorts!.map((port) =>
      theSocket(scan.sockets, 'tcp', at(LO, port), at(LO, backlog.port)),
    );
    const synSent = waiting.filter((s) => s.state === 'SYN_SENT');
    expect(synSent.length).toBeGreaterThanOrEqual(1);
    for (const s of waiting) expect(s).toMatchObject({ family: 4, pid: pending.pid });
    expect(theListener(scan.sockets, 'tcp', at(LO, backlog.port)).pid).toBe(backlog.pid);
  });

  it('sees a half-closed connection: FIN_WAIT2 on the closing side, CLOSE_WAIT on the other', () => {
    const clientPort = halfClient.localPorts![0];
    const server = theSocket(scan.sockets, 'tcp', at(LO, halfServer.port), at(LO, clientPort));
    const client = theSocket(scan.sockets, 'tcp', at(LO, clientPort), at(LO, halfServer.port));
    expect(server).toMatchObject({ state: 'FIN_WAIT2', pid: halfServer.pid });
    expect(client).toMatchObject({ state: 'CLOSE_WAIT', pid: halfClient.pid });
  });

  it('sees TIME_WAIT on the side that closed first, with no owner and no inode', () => {
    const tw = theSocket(scan.sockets, 'tcp', at(LO, twClient.localPort), at(LO, twServer.port));
    expect(tw).toMatchObject({ state: 'TIME_WAIT', pid: null, processName: null, inode: 0, pids: [] });
  });

  it('sees UDP sockets bound (UNCONN) and connected (ESTABLISHED)', () => {
    const bound = theSocket(scan.sockets, 'udp', at(LO, udpBound.port), null);
    expect(bound).toMatchObject({ family: 4, state: 'UNCONN', pid: udpBound.pid });
    const connected = theSocket(scan.sockets, 'udp', at(LO, udpConnected.port), at(LO, udpPeer.port));
    expect(connected).toMatchObject({ family: 4, state: 'ESTABLISHED', pid: udpConnected.pid });
  });

  it('sees a Unix listener by its path with its owner', () => {
    const [listener] = scan.sockets.filter((s) => s.protocol === 'unix' && s.localAddress === unixPath);
    expect(listener).toMatchObject({
      family: null,
      localPort: null,
      remoteAddress: null,
      state: 'LISTEN',
      pid: unixServer.pid,
      uid: 0,
    });
  });

  it('reports a clean scan: no malformed rows, every socket with a file behind it attributed', () => {
    expect(scan.stats.malformedRows).toBe(0);
    expect(scan.stats.hiddenProcesses).toBe(0);
    const ours = new Set(
      [v4, v6, wildcard, dualStack, fanServer, fanClients, halfServer, halfClient, udpBound].map((c) => c.pid),
    );
    expect(scan.sockets.filter((s) => s.pid !== null && ours.has(s.pid)).length).toBeGreaterThan(30);
    expect(scan.processes.find((p) => p.pid === fanServer.pid)).toMatchObject({
      name: 'node',
      user: 'root',
      uid: 0,
      ppid: process.pid,
      cwd: process.cwd(),
    });
    expect(scan.processes.find((p) => p.pid === fanServer.pid)!.command).toContain('socket-child.cjs');
  });

  it('keeps an owner found a poll late on the polls after, while nothing changes', async () => {
    // A listener replaced in one tick keeps its process's fd count. The race this covers, made
    // certain: the new socket appears after a poll has read the fds and before it reads the table,
    // so that poll shows it without an owner and the next one finds the owner. The polls after
    // must keep showing it.
    const child = await workload.start({ role: 'relisten', host: LO, port: 0, port2: 0 });
    const listenersOf = (pid: number) =>
      execFileSync('ss', ['-tlnpH'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes(`pid=${pid},`));
    const collector = new LinuxCollector();
    collector.collectSync();
    const refresh = collector.owners.refresh.bind(collector.owners);
    // The race holds only if the poll's first step did not re-read the child (its fd count
    // changed since the poll before, as it may while Node settles on a busy host): a process
    // re-read then is looked at again for new sockets in the same poll, and its owner is found at
    // once. Tried again, from a settled poll, until the first step left the child alone.
    let raced = collector.collectSync();
    let rereadFirst = true;
    let port = child.port!;
    for (let attempt = 0; attempt < 5 && rereadFirst; attempt++) {
      collector.collectSync();
      const before = port;
      collector.owners.refresh = () => {
        refresh();
        rereadFirst = collector.owners.fdsChanged(child.pid);
        process.kill(child.pid, 'SIGUSR1');
        const deadline = Date.now() + 5000;
        while (!listenersOf(child.pid).some((line) => !line.includes(`:${before} `)) && Date.now() < deadline)
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      };
      raced = collector.collectSync();
      collector.owners.refresh = refresh;
      const replaced = listenersOf(child.pid).find((line) => !line.includes(`:${before} `));
      port = Number(/:(\d+) /.exec(replaced ?? '')?.[1]);
      expect(port).not.toBe(before);
    }
    expect(rereadFirst).toBe(false);
    expect(theListener(raced.sockets, 'tcp', at(LO, port))).toMatchObject({ pid: null });
    expect(theListener(collector.collectSync().sockets, 'tcp', at(LO, port))).toMatchObject({ pid: child.pid });
    for (let i = 0; i < 3; i++)
      expect(theListener(collector.collectSync().sockets, 'tcp', at(LO, port))).toMatchObject({ pid: child.pid });
  });

  it('hands out its first table before the owners, with none guessed, and fills them in after', async () => {
    const collector = new LinuxCollector();
    const early: Scan[] = [];
    const first = await collector.collect({ early: (table) => early.push(table) });
    expect(early).toHaveLength(1);
    const [table] = early;
    expect(table.stats.ownersPending).toBe(true);
    expect(table.processes).toEqual([]);
    // Every socket is there already, none with an owner: "resolving", never a wrong one.
    expect(table.sockets.every((s) => s.pid === null && s.processName === null)).toBe(true);
    expect(theListener(table.sockets, 'tcp', at(LO, fanServer.port))).toMatchObject({ pid: null });
    const fanOut = (sockets: Socket[]) =>
      fanClients.localPorts!.map((port) => theSocket(sockets, 'tcp', at(LO, fanServer.port), at(LO, port)));
    expect(fanOut(table.sockets).map((s) => s.pid)).toEqual(Array(12).fill(null));
    const unixListener = table.sockets.find((s) => s.protocol === 'unix' && s.localAddress === unixPath);
    expect(unixListener).toMatchObject({ pid: null, state: 'LISTEN' });
    // The scan's result has the owners, on its own rows: the table handed out is left as it was.
    expect(first.stats.ownersPending).toBeUndefined();
    expect(theListener(first.sockets, 'tcp', at(LO, fanServer.port))).toMatchObject({ pid: fanServer.pid });
    expect(fanOut(first.sockets).map((s) => s.pid)).toEqual(Array(12).fill(fanServer.pid));
    expect(table.sockets.every((s) => s.pid === null)).toBe(true);
    // Once owners are known, a scan finds new ones as fast as its sockets: nothing early.
    const second = await collector.collect({ early: (t) => early.push(t) });
    expect(early).toHaveLength(1);
    expect(theListener(second.sockets, 'tcp', at(LO, fanServer.port))).toMatchObject({ pid: fanServer.pid });
  });
  it('names a process by what it runs after an exec, not by what it started as', async () => {
    // Node's stdio pipes are Unix socket pairs: the shell owns sockets, so a poll reads it as "sh";
    // then it execs node (same pid, same start time), which listens.
    const child = spawn(
      'sh',
      [
        '-c',
        `read go; exec "${process.execPath}" "${join(HELPERS, 'socket-child.cjs')}" '{"role":"listen","host":"127.0.0.1"}'`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      const collector = new LinuxCollector();
      await eventually(() =>
        collector.collectSync().processes.find((p) => p.pid === child.pid)?.name === 'sh' ? true : undefined,
      );
      const ready = new Promise<{ port: number }>((resolve) =>
        createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { port: number })),
      );
      child.stdin!.write('go\n');
      const { port } = await ready;
      const scan = collector.collectSync();
      expect(theListener(scan.sockets, 'tcp', at(LO, port))).toMatchObject({ pid: child.pid, processName: 'node' });
      expect(scan.processes.find((p) => p.pid === child.pid)).toMatchObject({
        name: 'node',
        command: expect.stringContaining('socket-child.cjs'),
      });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('reads the same sockets through netlink as through /proc, field by field', () => {
    // The test's sockets, by their whole identity; others on a busy host change between the reads.
    const children = [v4, v6, wildcard, dualStack, dualClient, fanServer, fanClients, backlog, pending];
    children.push(halfServer, halfClient, twServer, twClient, udpPeer, udpBound, udpConnected);
    // Traffic figures are netlink's alone (/proc has none): compared without them.
    const key = (s: Scan['sockets'][number]) => JSON.stringify({ ...s, traffic: undefined });
    const netlink = new LinuxCollector();
    const proc = new LinuxCollector({ engine: 'proc' });
    netlink.collectSync();
    proc.collectSync();
    const viaNetlink = netlink.collectSync();
    const viaProc = proc.collectSync();
    // Ours: what the test's processes hold, and the ownerless ends of their connections (TIME_WAIT,
    // queued), found by a whole endpoint of theirs — a port alone also matches the busy host's
    // sockets on the same number at another address (its ::1 server once shared a client's port).
    // An ownerless socket is ours by its local endpoint only where that is one of our servers': a
    // client's ephemeral port is reused at once by the busy host's own connections to elsewhere
    // (one of those, closed between the two reads, once showed in /proc's only).
    const ourPids = new Set(children.map((c) => c.pid));
    const endpoints = new Set<string>();
    const servers = new Set<string>();
    for (const s of viaNetlink.sockets)
      if (s.protocol !== 'unix' && s.pids.some((pid) => ourPids.has(pid))) {
        const endpoint =
          s.localAddress === '0.0.0.0' || s.localAddress === '::'
            ? `*|${s.localPort}`
            : `${s.localAddress}|${s.localPort}`;
        endpoints.add(endpoint);
        if (s.state === 'LISTEN' || s.protocol === 'udp') servers.add(endpoint);
      }
    const ours = (s: Scan['sockets'][number]) =>
      s.protocol !== 'unix' &&
      (s.pids.some((pid) => ourPids.has(pid)) ||
        servers.has(`${s.localAddress}|${s.localPort}`) ||
        servers.has(`*|${s.localPort}`) ||
        endpoints.has(`${s.remoteAddress}|${s.remotePort}`));
    expect(viaNetlink.stats.engine).toBe('netlink');
    expect(netlink.engineReason).toBeNull();
    expect(viaProc.stats.engine).toBe('proc');
    const a = viaNetlink.sockets.filter(ours);
    expect(a.length).toBeGreaterThan(40);
    // Every kind: listeners v4/v6/dual-stack, established, SYN_SENT, FIN_WAIT2/CLOSE_WAIT, TIME_WAIT, UDP.
    const kinds = new Set(a.map((s) => `${s.protocol} ${s.state}`));
    expect(kinds).toEqual(new Set(viaProc.sockets.filter(ours).map((s) => `${s.protocol} ${s.state}`)));
    expect(kinds).toContain('tcp TIME_WAIT'); // the ownerless ends are still found
    expect(a.map(key).sort()).toEqual(viaProc.sockets.filter(ours).map(key).sort());
  });

  it('agrees with ss -tuanp taken at the same moment on (protocol, local, remote, state, pids)', () => {
    // The test's sockets: those its processes hold, and the ownerless ones it made by their 4-tuple
    // (the TIME_WAIT end, connections queued behind the never-accepting listener). Other sockets of
    // a busy host change between the two reads and are not ours to compare.
    const children = [v4, v6, wildcard, dualStack, dualClient, fanServer, fanClients, backlog, pending];
    children.push(halfServer, halfClient, twServer, twClient, udpPeer, udpBound, udpConnected);
    const ourPids = new Set(children.map((c) => c.pid));
    const pair = (local: string, remote: string | null) => `${local} ${remote ?? '*'}`;
    const ownerless = new Set([
      pair(formatEndpoint(LO, twClient.localPort!), formatEndpoint(LO, twServer.port!)),
      ...pending.localPorts!.map((p) => pair(formatEndpoint(LO, backlog.port!), formatEndpoint(LO, p))),
    ]);
    type Row = { protocol: string; local: string; remote: string | null; state: string; pids: number[] };
    const mine = (r: Row) => r.pids.some((pid) => ourPids.has(pid)) || ownerless.has(pair(r.local, r.remote));
    const asKey = (r: Row) => `${r.protocol} ${pair(r.local, r.remote)} ${r.state} ${r.pids.join(',')}`;

    const collector = new LinuxCollector();
    const ours = collector.collectSync().sockets;
    const theirs = readSs();
    const porthole = ours
      .filter((s) => s.protocol !== 'unix')
      .map((s): Row => ({
        protocol: s.protocol,
        local: formatEndpoint(s.localAddress, s.localPort),
        remote: s.remoteAddress === null ? null : formatEndpoint(s.remoteAddress, s.remotePort),
        state: s.state,
        pids: s.pids,
      }))
      .filter(mine)
      .map(asKey);
    const ss = theirs.filter(mine).map(asKey);
    expect(porthole.length).toBeGreaterThan(40);
    expect(porthole.sort()).toEqual(ss.sort());
  });
});

describe('a dump the kernel marks interrupted on every try', () => {
  it('is kept, counted in the scan and said in the snapshot summary, never an empty table', async () => {
    const opening = SockDiagReader.shared();
    if (!opening.ok) throw new Error(opening.reason);
    // The kernel sets NLM_F_DUMP_INTR only when its hash changes mid-dump, which no test can time:
    // the real reader's real TCP dump is taken and marked as the kernel would mark it.
    const real = opening.reader.dumpTcpInSteps.bind(opening.reader);
    const spy = vi.spyOn(opening.reader, 'dumpTcpInSteps').mockImplementation(function* (
      ...args: Parameters<SockDiagReader['dumpTcpInSteps']>
    ) {
      return { ...(yield* real(...args)), interrupted: true };
    });
    try {
      const marked = await new LinuxCollector({ traffic: false }).collect();
      expect(marked.stats.engine).toBe('netlink');
      expect(marked.stats.interruptedDumps).toBe(1);
      // Its rows are there: the listener of this workload on 127.0.0.1 among them.
      expect(theListener(marked.sockets, 'tcp', at(LO, v4.port)).pid).toBe(v4.pid);
      const summary = toText(buildSnapshot(marked, hostInfo(), new Date())).split('\n')[0];
      expect(summary).toContain('1 tables changed while read');
    } finally {
      spy.mockRestore();
    }
    expect((await new LinuxCollector({ traffic: false }).collect()).stats.interruptedDumps).toBeUndefined();
  });
});

describe('both TCP tables in one walk of the kernel table', () => {
  const ours = (rows: InetRow[]) => {
    const ports = new Set([v4.port, v6.port, wildcard.port, dualStack.port, fanServer.port, twServer.port]);
    return rows.filter((r) => ports.has(r.localPort) || (r.remotePort !== null && ports.has(r.remotePort)));
  };
  const keyOf = (r: InetRow) =>
    `${r.family} ${r.localAddress}:${r.localPort} ${r.remoteAddress}:${r.remotePort} ${r.state} ${r.inode}`;

  it("gives each family's rows, IPv4 and IPv6, TIME_WAIT among them", async () => {
    const opening = SockDiagReader.open();
    if (!opening.ok) throw new Error(opening.reason);
    try {
      // The workload holds still; a pair of readings that raced a TIME_WAIT's end is taken again.
      let both: string[] = [];
      let each: string[] = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        both = ours(opening.reader.dumpTcp(undefined, true).rows).map(keyOf).sort();
        each = ours([...opening.reader.dump('tcp', 4).rows, ...opening.reader.dump('tcp', 6).rows])
          .map(keyOf)
          .sort();
        if (JSON.stringify(both) === JSON.stringify(each)) break;
      }
      expect(both).toEqual(each);
      expect(both.some((k) => k.startsWith('6 ::1:'))).toBe(true);
      expect(both.some((k) => k.startsWith('4 ') && k.includes(' TIME_WAIT 0'))).toBe(true);
    } finally {
      opening.reader.close();
    }
  });

  it('falls back to a dump of each family when the kernel refuses it, still through netlink', async () => {
    const opening = SockDiagReader.shared();
    if (!opening.ok) throw new Error(opening.reason);
    const spy = vi.spyOn(opening.reader, 'dumpTcpInSteps').mockImplementation(function* () {
      throw new KernelRefusal('the kernel refused the tcp dump (errno 22)');
    });
    try {
      const collector = new LinuxCollector({ traffic: false });
      for (let i = 0; i < 2; i++) {
        // A new listener each time: the tables are read, not kept (its counters moved).
        const listener = await workload.start({ role: 'listen', host: '::1' });
        const scan = await collector.collect();
        expect(scan.stats.engine).toBe('netlink');
        expect(collector.engineReason).toBeNull();
        expect(theListener(scan.sockets, 'tcp', at('::1', listener.port)).pid).toBe(listener.pid);
        expect(theListener(scan.sockets, 'tcp', at(LO, v4.port)).pid).toBe(v4.pid);
      }
      expect(spy).toHaveBeenCalledTimes(1); // refused once: not asked again
    } finally {
      spy.mockRestore();
    }
  });

  it('asks again after a failure that is not a refusal (a read that timed out)', async () => {
    const opening = SockDiagReader.shared();
    if (!opening.ok) throw new Error(opening.reason);
    const real = opening.reader.dumpTcpInSteps.bind(opening.reader);
    let calls = 0;
    const spy = vi.spyOn(opening.reader, 'dumpTcpInSteps').mockImplementation(function* (
      ...args: Parameters<SockDiagReader['dumpTcpInSteps']>
    ) {
      if (calls++ === 0) throw new Error('netlink recv failed (errno 11)');
      return yield* real(...args);
    });
    try {
      const collector = new LinuxCollector({ traffic: false });
      for (let i = 0; i < 2; i++) {
        const listener = await workload.start({ role: 'listen', host: '::1' }); // read, not kept (as above)
        const scan = await collector.collect();
        expect(scan.stats.engine).toBe('netlink');
        expect(theListener(scan.sockets, 'tcp', at('::1', listener.port)).pid).toBe(listener.pid);
      }
      expect(spy).toHaveBeenCalledTimes(2); // the first failed (each family read instead), the second asked again
    } finally {
      spy.mockRestore();
    }
  });
});

describe('a TCP dump in steps', () => {
  // Enough connections that the kernel's answers (with tcp_info) fill several reads.
  let many: ChildInfo;
  beforeAll(async () => {
    many = await workload.start({ role: 'connect', host: '127.0.0.1', port: fanServer.port, count: 300 });
  }, 30_000);
  const keys = (rows: InetRow[]) =>
    rows
      .filter((r) => r.remotePort === fanServer.port || r.localPort === fanServer.port)
      .map((r) => r.inode)
      .sort();

  it('yields between reads, and a dump asked meanwhile is answered whole by a spare reader', () => {
    const opening = SockDiagReader.open();
    if (!opening.ok) throw new Error(opening.reason);
    const reader = opening.reader;
    try {
      const steps = reader.dumpTcpInSteps(undefined, true, 0);
      expect(steps.next().done).toBe(false); // a read done, more to come
      // Meanwhile (the event loop's turn): another dump on the same reader, and a Unix one.
      const meanwhile = reader.dumpTcp(undefined, true);
      expect(reader.dumpUnix().rows.length).toBeGreaterThan(0);
      let yields = 1;
      let step = steps.next();
      for (; !step.done; step = steps.next()) yields++;
      expect(yields).toBeGreaterThan(1);
      const stepped = keys(step.value.rows);
      expect(stepped.length).toBeGreaterThanOrEqual(600 + 1); // both ends of 300 connections, and the listener
      expect(keys(meanwhile.rows)).toEqual(stepped);
      expect(many.localPorts).toHaveLength(300);
    } finally {
      reader.close();
    }
  });

  it('leaves the reader usable when given up on midway: the rest of the dump is read', () => {
    const opening = SockDiagReader.open();
    if (!opening.ok) throw new Error(opening.reason);
    const reader = opening.reader;
    try {
      const whole = keys(reader.dumpTcp(undefined, true).rows);
      const steps = reader.dumpTcpInSteps(undefined, true, 0);
      expect(steps.next().done).toBe(false);
      steps.return(undefined as never);
      // Without the rest read, the kernel answers EBUSY; a stale answer would be taken as this dump's.
      expect(keys(reader.dumpTcp(undefined, true).rows)).toEqual(whole);
    } finally {
      reader.close();
    }
  });
});
