// The port doctor's pure parts: port specs, which listener blocks which bind, the advice and the
// summary from evidence, containers from cgroup files, TIME_WAIT timers from /proc/net/tcp text.
import { describe, expect, it } from 'vitest';
import {
  diagnosePort,
  diagnosisText,
  ownersToStop,
  parsePortSpec,
  whyBlocks,
  type PortEvidence,
} from '../../src-main/track/port-doctor';
import { containerFromCgroup, containerFromProxyCommand } from '../../src-main/collect/containers/cgroup';
import { timeWaitRemaining } from '../../src-main/collect/linux/time-wait';
import { tcp } from '../helpers/sockets';

const node = {
  pid: 100,
  ppid: 1,
  name: 'node',
  command: 'node server.js',
  user: 'dev',
  uid: 1000,
  startedAt: '2026-11-24T09:00:00.000Z',
  cwd: '/app',
};

function evidence(over: Partial<PortEvidence>): PortEvidence {
  return {
    request: { port: 3000, protocol: 'tcp', address: null },
    sockets: [],
    processes: [node],
    containers: {},
    timeWaitRemainingMs: [],
    binds: [{ address: '0.0.0.0', reuseAddress: true, outcome: 'free' }],
    strictBinds: [],
    freePorts: [],
    unprivilegedPortStart: 1024,
    privileged: true,
    ...over,
  };
}

describe('parsePortSpec', () => {
  it('reads ports with an optional protocol and explains what it refuses', () => {
    expect(parsePortSpec('3000')).toEqual({ ok: true, port: 3000, protocol: 'tcp' });
    expect(parsePortSpec('53/UDP')).toEqual({ ok: true, port: 53, protocol: 'udp' });
    expect(parsePortSpec('65535/tcp')).toEqual({ ok: true, port: 65535, protocol: 'tcp' });
    expect(parsePortSpec('0')).toMatchObject({ ok: false, reason: expect.stringMatching(/any free port/) });
    expect(parsePortSpec('65536')).toMatchObject({ ok: false, reason: expect.stringMatching(/out of range/) });
    for (const bad of ['abc', '-1', '3e3', '30 00', '', '80/icmp', '0x50'])
      expect(parsePortSpec(bad)).toMatchObject({ ok: false, reason: expect.stringMatching(/is not a port/) });
  });
});

describe('whyBlocks', () => {
  it('knows which listener stands in the way of which bind', () => {
    const cases: [string, string | null, RegExp | null][] = [
      ['127.0.0.1:3000', '127.0.0.1', /very address/],
      ['127.0.0.1:3000', '127.0.0.2', null],
      ['127.0.0.1:3000', '::1', null],
      ['127.0.0.1:3000', '0.0.0.0', /wildcard bind to 0\.0\.0\.0 conflicts/],
      ['127.0.0.1:3000', '::', /wildcard bind to :: conflicts/],
      ['0.0.0.0:3000', '192.168.1.5', /every IPv4 address/],
      ['0.0.0.0:3000', '::1', null],
      ['[::]:3000', '127.0.0.1', /dual-stack/],
      ['[::]:3000', '::1', /every IPv6 address/],
      ['[::1]:3000', '127.0.0.1', null],
      ['[::ffff:127.0.0.1]:3000', '127.0.0.1', /very address/],
      ['127.0.0.1:3000', null, /all interfaces/],
    ];
    for (const [listener, wanted, reason] of cases) {
      const why = whyBlocks(tcp(listener, null), wanted);
      if (reason === null) expect(why, `${listener} vs ${wanted}`).toBeNull();
      else expect(why, `${listener} vs ${wanted}`).toMatch(reason);
    }
  });
});

describe('diagnosePort', () => {
  it('points at the container, not the pid, when a container publishes the port', () => {
    const d = diagnosePort(
      evidence({
        sockets: [tcp('0.0.0.0:3000', null, { pid: 100, pids: [100] })],
        containers: { 100: { runtime: 'docker-proxy', id: 'for the container at 172.17.0.2:80' } },
        binds: [{ address: '0.0.0.0', reuseAddress: true, outcome: 'EADDRINUSE' }],
        freePorts: [3001],
      }),
    );
    expect(d.verdict).toBe('in-use');
    expect(d.advice[0]).toMatch(/Stop the container \(docker-proxy for the container at 172\.17\.0\.2:80\)/);
    expect(d.advice[1]).toMatch(/free port nearby.*3001/);
    expect(diagnosisText(d)).toMatch(/container docker-proxy for the container at 172\.17\.0\.2:80/);
  });

  it('lists every owner of a shared listener once, and says who it cannot see', () => {
    const worker = { ...node, pid: 101, ppid: 100 };
    const d = diagnosePort(
      evidence({
        sockets: [
          tcp('0.0.0.0:3000', null, { pids: [100, 101] }),
          tcp('[::]:3000', null, { pid: null, pids: [], processName: null, uid: 0, inode: 77 }),
        ],
        processes: [node, worker],
        binds: [{ address: '0.0.0.0', reuseAddress: true, outcome: 'EADDRINUSE' }],
        privileged: false,
      }),
    );
    expect(ownersToStop(d).map((p) => p.pid)).toEqual([100, 101]);
    expect(d.advice).toContainEqual(expect.stringMatching(/a process of uid 0 \(run as root to see which\)/));
    expect(diagnosisText(d)).toMatch(/shared {3}with pids 101/);
  });

  it('keeps hostile text from the process table out of the terminal', () => {
    const evil = { ...node, name: 'x\u001b[2J', command: 'a\nFAKE LINE', cwd: '/tmp/\u0007' };
    const text = diagnosisText(
      diagnosePort(
        evidence({
          sockets: [tcp('127.0.0.1:3000', null)],
          processes: [evil],
          binds: [{ address: '0.0.0.0', reuseAddress: true, outcome: 'EADDRINUSE' }],
        }),
      ),
    );
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(text).toContain('a\\nFAKE LINE');
  });

  it('says what TIME_WAIT leftovers do as the kernel answered, never the textbook against it', () => {
    const leftovers = [1, 2].map((i) =>
      tcp('127.0.0.1:3000', `127.0.0.1:${50000 + i}`, { state: 'TIME_WAIT', pid: null, pids: [], inode: 0 }),
    );
    const strict = (outcome: string) => [{ address: '0.0.0.0', reuseAddress: false, outcome }];
    // Even the bind with SO_REUSEADDR refused, nothing listening: no advice to set it, no claim it helps.
    const refused = diagnosePort(
      evidence({
        sockets: leftovers,
        timeWaitRemainingMs: [30_000],
        binds: [{ address: '0.0.0.0', reuseAddress: true, outcome: 'EADDRINUSE' }],
        strictBinds: strict('EADDRINUSE'),
      }),
    );
    expect(refused.verdict).toBe('in-use');
    expect(refused.timeWait.effect).toMatch(/refused a bind here even with SO_REUSEADDR/);
    expect(refused.advice.join(' ')).not.toMatch(/set SO_REUSEADDR/);
    expect(diagnosisText(refused)).not.toMatch(/block a bind without SO_REUSEADDR/);
    // With SO_REUSEADDR it works, without it not: that is what is said.
    const strictOnly = diagnosePort(evidence({ sockets: leftovers, strictBinds: strict('EADDRINUSE') }));
    expect(strictOnly.timeWait.effect).toMatch(/block a bind without SO_REUSEADDR .*with it, the bind works/);
    // Both binds worked: they block nothing here.
    const harmless = diagnosePort(evidence({ sockets: leftovers, strictBinds: strict('free') }));
    expect(harmless.timeWait.effect).toMatch(/do not block a bind here/);
    expect(diagnosisText(harmless)).toMatch(/They do not block a bind here .*; they clear by themselves within/);
  });

  it('ignores an address family this machine lacks when all interfaces are asked about', () => {
    const d = diagnosePort(
      evidence({
        binds: [
          { address: '0.0.0.0', reuseAddress: true, outcome: 'free' },
          { address: '::', reuseAddress: true, outcome: 'EAFNOSUPPORT' },
        ],
      }),
    );
    expect(d.verdict).toBe('free');
  });
});

describe('containers', () => {
  it('recognises the container runtimes in cgroup paths (v1 and v2)', () => {
    const id = 'a'.repeat(12) + 'b'.repeat(52);
    expect(containerFromCgroup(`0::/system.slice/docker-${id}.scope\n`)).toEqual({
      runtime: 'docker',
      id: 'aaaaaaaaaaaa',
      fullId: id,
    });
    expect(containerFromCgroup(`12:memory:/docker/${id}\n0::/\n`)).toMatchObject({
      runtime: 'docker',
      id: 'aaaaaaaaaaaa',
    });
    expect(containerFromCgroup(`0::/machine.slice/libpod-${id}.scope/container\n`)).toMatchObject({
      runtime: 'podman',
    });
    expect(
      containerFromCgroup(
        `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-${id}.scope\n`,
      ),
    ).toMatchObject({ runtime: 'kubernetes' });
    expect(containerFromCgroup('0::/lxc.payload.web1/init.scope\n')).toMatchObject({ runtime: 'lxc', id: 'web1' });
    expect(containerFromCgroup('0::/user.slice/user-1000.slice/session-2.scope\n')).toBeNull();
    expect(containerFromCgroup('4:memory:/process_api/76fe20596df699214628a691ca8fbc4a\n0::/\n')).toBeNull();
  });

  it('reads the container behind a docker-proxy from its command line', () => {
    expect(
      containerFromProxyCommand(
        '/usr/bin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80',
      ),
    ).toEqual({ runtime: 'docker-proxy', id: 'for the container at 172.17.0.2:80' });
    expect(containerFromProxyCommand('node docker-proxy.js')).toBeNull();
  });
});

describe('timeWaitRemaining', () => {
  it('reads the timer of TIME_WAIT rows on the port, in ms', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:0BB8 0100007F:C350 06 00000000:00000000 03:00000F9F 00000000     0        0 0 3 0000000000000000',
      '   1: 0100007F:0BB8 0100007F:C351 06 00000000:00000000 03:00000010 00000000     0        0 0 3 0000000000000000',
      '   2: 0100007F:0BB9 0100007F:C352 06 00000000:00000000 03:00000F00 00000000     0        0 0 3 0000000000000000',
      '   3: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 555 1 0000000000000000',
      '   4: garbage',
    ].join('\n');
    expect(timeWaitRemaining(text, 3000)).toEqual([39_990, 160]);
  });
});
