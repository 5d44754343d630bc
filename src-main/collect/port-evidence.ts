// Gathers what the port doctor reasons from: the sockets on the port with their owners, the
// owners' containers, TIME_WAIT timers, real binds, and free ports nearby. The one place the
// CLI's `who` and the UI's Port Doctor get it from.

import { readFileSync } from 'node:fs';
import type { Scan } from '../shared/contract';
import {
  diagnosePort,
  type BindAttempt,
  type Diagnosis,
  type DoctorRequest,
  type PortEvidence,
} from '../track/port-doctor';
import { createCollector, type Collector } from '.';
import { probeBind, probeStrictTcpBind } from './bind-probe';
import { containerFromProxyCommand } from './containers/cgroup';
import { readTimeWaitRemaining } from './linux/time-wait';

const ALL_INTERFACES = ['0.0.0.0', '::'];
const NEARBY_WANTED = 3;
const NEARBY_TRIES = 40;

function unprivilegedPortStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim()) || 1024;
  } catch {
    return 1024;
  }
}

/** The addresses a bind must take: both stacks' wildcards for "all interfaces". */
const addressesOf = (request: DoctorRequest) => (request.address === null ? ALL_INTERFACES : [request.address]);

async function bindAll(request: DoctorRequest, port: number): Promise<BindAttempt[]> {
  const binds: BindAttempt[] = [];
  for (const address of addressesOf(request)) binds.push(await probeBind(request.protocol, address, port));
  return binds;
}

const usable = (binds: BindAttempt[]) =>
  binds.some((b) => b.outcome === 'free') && binds.every((b) => b.outcome === 'free' || b.outcome === 'EADDRNOTAVAIL');

/** What a table holds on the requested port: its sockets, their owners and their containers. */
function onThePort(request: DoctorRequest, scan: Pick<Scan, 'sockets' | 'processes'>) {
  const ofProtocol = scan.sockets.filter((s) => s.protocol === request.protocol);
  const sockets = ofProtocol.filter((s) => s.localPort === request.port);
  const owners = new Set(sockets.flatMap((s) => s.pids));
  const processes = scan.processes.filter((p) => owners.has(p.pid));
  const containers: PortEvidence['containers'] = {};
  for (const p of processes) {
    // Docker's forwarder runs on the host: what it stands for is its target, not its own cgroup.
    const container = containerFromProxyCommand(p.command) ?? p.container;
    if (container) containers[p.pid] = container;
  }
  return { ofProtocol, sockets, processes, containers };
}

/**
 * The evidence of a past moment's table (`who --at`, from the history): what was on the port and
 * whose it was. No bind is tried (the moment is gone): the diagnosis follows the listeners.
 */
export function pastPortEvidence(
  request: DoctorRequest,
  scan: Pick<Scan, 'sockets' | 'processes'>,
  at: number,
): PortEvidence {
  const { sockets, processes, containers } = onThePort(request, scan);
  return {
    request,
    sockets,
    processes,
    containers,
    timeWaitRemainingMs: [],
    binds: [],
    strictBinds: [],
    freePorts: [],
    unprivilegedPortStart: unprivilegedPortStart(),
    privileged: process.getuid?.() === 0,
    at,
  };
}

/** Ports next to the requested one, nearest first, that no socket uses and a bind just took. */
async function nearbyFreePorts(request: DoctorRequest, taken: Set<number>, lowest: number): Promise<number[]> {
  const found: number[] = [];
  for (let distance = 1; distance <= NEARBY_TRIES && found.length < NEARBY_WANTED; distance++) {
    for (const port of [request.port + distance, request.port - distance]) {
      if (found.length >= NEARBY_WANTED || port < lowest || port > 65535 || taken.has(port)) continue;
      if (usable(await bindAll(request, port))) found.push(port);
    }
  }
  return found.sort((a, b) => Math.abs(a - request.port) - Math.abs(b - request.port) || a - b);
}

export async function gatherPortEvidence(
  request: DoctorRequest,
  scan: Pick<Scan, 'sockets' | 'processes' | 'publishedPorts'>,
): Promise<PortEvidence> {
  const { ofProtocol, sockets, processes, containers } = onThePort(request, scan);
  const linux = process.platform === 'linux';
  const binds = await bindAll(request, request.port);
  // Without SO_REUSEADDR a bind differs only when sockets other than listeners use the port.
  const leftovers = sockets.some((s) => s.state !== 'LISTEN' && s.remoteAddress !== null);
  const strictBinds =
    request.protocol === 'tcp' && leftovers
      ? addressesOf(request)
          .map((address) => probeStrictTcpBind(address, request.port))
          .filter((b): b is BindAttempt => b !== null)
      : [];
  const privileged = process.getuid?.() === 0;
  const unprivilegedStart = unprivilegedPortStart();
  const lowest = privileged ? 1 : unprivilegedStart;
  const verdictFree = usable(binds) && strictBinds.every((b) => b.outcome === 'free');
  // Ports taken in Porthole's own namespace: another namespace's do not stop a bind here.
  const taken = new Set(ofProtocol.filter((s) => s.netns === undefined).map((s) => s.localPort ?? 0));
  return {
    request,
    sockets,
    processes,
    containers,
    publishedPorts: (scan.publishedPorts ?? []).filter((p) => p.hostPort === request.port),
    // The kernel's timers are read only when the table shows TIME_WAIT on the port (a whole
    // /proc/net/tcp read is most of a quick answer on a busy host).
    timeWaitRemainingMs:
      linux && request.protocol === 'tcp' && sockets.some((s) => s.state === 'TIME_WAIT')
        ? readTimeWaitRemaining(request.port)
        : [],
    binds,
    strictBinds,
    freePorts: verdictFree ? [] : await nearbyFreePorts(request, taken, Math.max(lowest, 1)),
    unprivilegedPortStart: unprivilegedStart,
    privileged,
  };
}

/** Reads the table now and diagnoses the port. */
export async function examinePort(
  request: DoctorRequest,
  collector: Collector = createCollector(undefined, { port: request.port }),
): Promise<Diagnosis> {
  return diagnosePort(await gatherPortEvidence(request, await collector.collect()));
}
