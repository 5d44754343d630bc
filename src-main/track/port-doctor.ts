// The EADDRINUSE doctor's reasoning: from the sockets on a port and the kernel's answer to a real
// bind, say in plain words who holds the port, why a bind fails, and what to do. Pure: the evidence
// is gathered elsewhere (collect/port-evidence.ts), so every case is testable from data.

import type { ContainerInfo, ProcessInfo, PublishedPort, Socket } from '../shared/contract';
import { localTime } from '../shared/local-time';
import { printable } from '../shared/printable';
import { formatEndpoint } from './identity';
import { describeContainer } from './namespaces';
import { addressScope, isListening } from './views';

export type DoctorProtocol = 'tcp' | 'udp';

export interface DoctorRequest {
  port: number;
  protocol: DoctorProtocol;
  /** The address the user wants to bind; null means "all interfaces" as a server binds by default. */
  address: string | null;
}

/** What the kernel said when Porthole really tried to bind. */
export interface BindAttempt {
  address: string;
  /** Whether SO_REUSEADDR was set, as Node, Go and most servers do for TCP. */
  reuseAddress: boolean;
  /** 'free', or the errno code (EADDRINUSE, EACCES, EADDRNOTAVAIL, …). */
  outcome: string;
}

export type { ContainerInfo };
export { describeContainer };

export interface PortEvidence {
  request: DoctorRequest;
  /** Every socket of the protocol whose local port is the requested one. */
  sockets: Socket[];
  processes: ProcessInfo[];
  /** Container of an owning pid, when it differs from Porthole's own. */
  containers: Record<number, ContainerInfo>;
  /** Host ports the container runtime forwards into a container, for this port (absent: none known). */
  publishedPorts?: PublishedPort[];
  /** Milliseconds until each TIME_WAIT socket on the port expires, by its local→remote endpoints. */
  timeWaitRemainingMs: number[];
  /** The bind(s) the user asked about: one per address (both stacks for "all interfaces"). */
  binds: BindAttempt[];
  /** The same bind without SO_REUSEADDR, when leftovers on the port might make it differ. */
  strictBinds: BindAttempt[];
  /** Nearby ports a bind just succeeded on. */
  freePorts: number[];
  /** The lowest port an unprivileged process may bind (net.ipv4.ip_unprivileged_port_start). */
  unprivilegedPortStart: number;
  /** Whether Porthole runs as root (so a refused owner lookup is not the reason for pid null). */
  privileged: boolean;
  /**
   * A past moment (ms) rebuilt from the history (`who --at`): no bind can be tried then, so the
   * verdict follows the listeners recorded at that moment. Absent: now, with real binds.
   */
  at?: number;
}

export type Verdict = 'free' | 'in-use' | 'denied';

export interface ListenerFinding {
  socket: Socket;
  endpoint: string;
  scope: string;
  process: ProcessInfo | null;
  /** Every process holding the socket (a forked server's workers share it). */
  owners: ProcessInfo[];
  container: ContainerInfo | null;
  /** Why this listener stands in the way of the requested bind; null when it does not. */
  blocks: string | null;
  /** Where a runtime's forwarder on this port sends connections (docker-proxy). */
  forwardsTo: PublishedPort | null;
}

/** A listener on the port inside another network namespace: no conflict with a bind here. */
export interface ElsewhereFinding {
  socket: Socket;
  endpoint: string;
  /** The namespace's name (container, `ip netns`…). */
  namespace: string;
  process: ProcessInfo | null;
  container: ContainerInfo | null;
  /** The host port that leads to it, when the runtime publishes one. */
  publishedAs: PublishedPort | null;
}

export interface Diagnosis {
  request: DoctorRequest;
  verdict: Verdict;
  /** One sentence: the answer. */
  summary: string;
  listeners: ListenerFinding[];
  /** Listeners on the same port in other network namespaces (containers): they do not conflict. */
  elsewhere: ElsewhereFinding[];
  /** Published ports for this host port without a host listener (forwarded by NAT rules). */
  natPublished: PublishedPort[];
  /**
   * TIME_WAIT leftovers on the port; `effect`: what they do to a bind, as the kernel answered the
   * real binds (never the textbook's answer beside a refusal that says otherwise).
   */
  timeWait: { count: number; clearsInMs: number | null; effect: string };
  /** Connected sockets still using the port as their local end (a dead server's children, clients). */
  connected: Socket[];
  binds: BindAttempt[];
  strictBinds: BindAttempt[];
  /** What to do, most direct first. */
  advice: string[];
  freePorts: number[];
}

/** TIME_WAIT lasts TCP_TIMEWAIT_LEN on Linux: 60 s, not tunable. */
export const TIME_WAIT_MS = 60_000;

const WILDCARDS = new Set(['0.0.0.0', '::']);

function familyOf(address: string): 4 | 6 {
  return address.includes(':') && !address.startsWith('::ffff:') ? 6 : 4;
}

function isDualStackWildcard(socket: Socket): boolean {
  return socket.localAddress === '::';
}

/** Why an existing listener prevents binding `wanted` (null = all interfaces); null if it does not. */
export function whyBlocks(listener: Socket, wanted: string | null): string | null {
  const here = formatEndpoint(listener.localAddress, listener.localPort);
  const held = listener.localAddress;
  if (wanted === null) {
    return `a bind to all interfaces needs the port free on every address, and ${here} holds it`;
  }
  const wantedPlain = wanted.replace(/^::ffff:/, '');
  if (held === wanted || held.replace(/^::ffff:/, '') === wantedPlain) return `${here} is the very address asked for`;
  const wantedFamily = familyOf(wanted);
  if (held === '0.0.0.0' && wantedFamily === 4)
    return `${here} listens on every IPv4 address, which includes ${wanted}`;
  if (isDualStackWildcard(listener))
    return wantedFamily === 6
      ? `${here} listens on every IPv6 address, which includes ${wanted}`
      : `${here} is dual-stack: it takes IPv4 too (unless it set IPV6_V6ONLY), which includes ${wanted}`;
  if (WILDCARDS.has(wanted)) {
    const sameFamily = familyOf(held) === wantedFamily || (wanted === '::' && familyOf(held) === 4);
    if (sameFamily) return `a wildcard bind to ${wanted} conflicts with the specific listener ${here}`;
  }
  return null;
}

function describeProcess(process: ProcessInfo | null, socket: Socket, privileged: boolean): string {
  if (process)
    return `${printable(process.name)} (pid ${process.pid}${process.user ? `, user ${printable(process.user)}` : ''})`;
  if (privileged) return `a process Porthole could not see (uid ${socket.uid ?? '?'})`;
  return `a process of uid ${socket.uid ?? '?'} (run as root to see which)`;
}

function describeElsewhere(finding: ElsewhereFinding): string {
  const container = describeContainer(finding.container);
  if (!container) return finding.namespace;
  // A namespace named after its container says it once.
  return container.startsWith(finding.namespace) ? container : `${finding.namespace}: ${container}`;
}

function outcomeWords(outcome: string): string {
  switch (outcome) {
    case 'free':
      return 'succeeded';
    case 'EADDRINUSE':
      return 'failed with EADDRINUSE (address already in use)';
    case 'EACCES':
      return 'failed with EACCES (permission denied)';
    case 'EADDRNOTAVAIL':
      return 'failed with EADDRNOTAVAIL (no such address on this machine)';
    default:
      return `failed with ${outcome}`;
  }
}

export function describeBind(request: DoctorRequest, bind: BindAttempt): string {
  const endpoint = formatEndpoint(bind.address, request.port);
  const reuse = request.protocol === 'tcp' ? (bind.reuseAddress ? ' with SO_REUSEADDR' : ' without SO_REUSEADDR') : '';
  return `bind(${request.protocol} ${endpoint})${reuse} ${outcomeWords(bind.outcome)}`;
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))} s`;
}

/** Binds that tell something: an address this machine does not have is not a verdict on the port. */
function decisive(binds: BindAttempt[], request: DoctorRequest): BindAttempt[] {
  const relevant =
    request.address === null
      ? binds.filter((b) => b.outcome !== 'EADDRNOTAVAIL' && b.outcome !== 'EAFNOSUPPORT')
      : binds;
  return relevant.length > 0 ? relevant : binds;
}

/** What TIME_WAIT leftovers do to a bind, from the kernel's answers to the binds just tried. */
function timeWaitEffect(blockEvenReuse: boolean, strictFails: boolean, strictBinds: readonly BindAttempt[]): string {
  if (blockEvenReuse) return 'The kernel refused a bind here even with SO_REUSEADDR while they last';
  if (strictFails)
    return 'They block a bind without SO_REUSEADDR (the kernel refused it below); with it, the bind works';
  if (strictBinds.length > 0) return 'They do not block a bind here (the kernel took it without SO_REUSEADDR too)';
  return 'A bind without SO_REUSEADDR may fail while they last (not tried: python3 is not installed)';
}

export function diagnosePort(evidence: PortEvidence): Diagnosis {
  const { request } = evidence;
  const processes = new Map(evidence.processes.map((p) => [p.pid, p]));
  const portLabel = `${request.protocol} port ${request.port}${request.address === null ? '' : ` on ${request.address}`}`;

  // A bind happens in Porthole's own namespace: only its sockets can conflict with it.
  const here = evidence.sockets.filter((s) => s.netns === undefined);
  const published = (evidence.publishedPorts ?? []).filter(
    (p) => p.protocol === request.protocol && p.hostPort === request.port,
  );
  const containerOf = (socket: Socket, process: ProcessInfo | null): ContainerInfo | null =>
    (socket.pid === null ? null : (evidence.containers[socket.pid] ?? null)) ?? process?.container ?? null;
  const listeners: ListenerFinding[] = here.filter(isListening).map((socket) => {
    const process = socket.pid === null ? null : (processes.get(socket.pid) ?? null);
    const forwardsTo = published.find((p) => p.hostAddress === socket.localAddress) ?? null;
    return {
      socket,
      endpoint: formatEndpoint(socket.localAddress, socket.localPort),
      scope: `${addressScope(socket.localAddress)} ${socket.family === 4 ? 'IPv4' : isDualStackWildcard(socket) ? 'dual-stack' : 'IPv6'}`,
      process,
      owners: socket.pids.map((pid) => processes.get(pid)).filter((p): p is ProcessInfo => p !== undefined),
      container: forwardsTo?.container ?? containerOf(socket, process),
      blocks: whyBlocks(socket, request.address),
      forwardsTo,
    };
  });
  const elsewhere: ElsewhereFinding[] = evidence.sockets
    .filter((s) => s.netns !== undefined && isListening(s))
    .map((socket) => {
      const process = socket.pid === null ? null : (processes.get(socket.pid) ?? null);
      return {
        socket,
        endpoint: formatEndpoint(socket.localAddress, socket.localPort),
        namespace: socket.netnsName ?? `net:[${socket.netns}]`,
        process,
        container: containerOf(socket, process),
        publishedAs:
          (evidence.publishedPorts ?? []).find(
            (p) => p.netns === socket.netns && p.port === socket.localPort && p.protocol === socket.protocol,
          ) ?? null,
      };
    });
  const natPublished = published.filter((p) => !listeners.some((l) => l.forwardsTo === p));
  const timeWaitSockets = here.filter((s) => s.state === 'TIME_WAIT');
  const clearsInMs =
    timeWaitSockets.length === 0
      ? null
      : evidence.timeWaitRemainingMs.length > 0
        ? Math.max(...evidence.timeWaitRemainingMs)
        : TIME_WAIT_MS;
  const connected = here.filter((s) => !isListening(s) && s.state !== 'TIME_WAIT' && s.remoteAddress !== null);

  const binds = decisive(evidence.binds, request);
  const blockers = listeners.filter((l) => l.blocks !== null);
  const past = evidence.at !== undefined;
  const denied = binds.some((b) => b.outcome === 'EACCES');
  // Then, the listeners recorded say it; now, the kernel's answer to a real bind does.
  const inUse = past ? blockers.length > 0 : binds.some((b) => b.outcome !== 'free' && b.outcome !== 'EACCES');
  const verdict: Verdict = inUse ? 'in-use' : denied ? 'denied' : 'free';
  const strictFails = evidence.strictBinds.some((b) => b.outcome === 'EADDRINUSE');

  const advice: string[] = [];
  for (const finding of blockers) {
    const who = describeProcess(finding.process, finding.socket, evidence.privileged);
    if (finding.forwardsTo) {
      const target = finding.forwardsTo;
      advice.push(
        `Stop the container ${describeContainer(target.container) ?? `at ${target.address ?? '?'}`} that publishes ${finding.endpoint} → ${formatEndpoint(target.address ?? '?', target.port)}, or publish it on another host port (-p ${evidence.freePorts[0] ?? request.port + 1}:${target.port}).`,
      );
    } else if (finding.container) {
      advice.push(
        `Stop the container (${describeContainer(finding.container)}) that publishes ${finding.endpoint}, or map it to another port.`,
      );
    } else if (finding.process) {
      advice.push(`Stop ${who}: porthole kill ${request.port}${request.protocol === 'udp' ? '/udp' : ''}`);
    } else {
      advice.push(`Stop ${who}, which holds ${finding.endpoint}.`);
    }
  }
  // The bind with SO_REUSEADDR (Node's, as most servers') refused with nothing listening: the
  // leftovers block even that, and setting SO_REUSEADDR is no way out.
  const reuseFails = binds.some((b) => b.reuseAddress && b.outcome === 'EADDRINUSE');
  if (verdict === 'in-use' && blockers.length === 0 && timeWaitSockets.length > 0) {
    advice.push(
      reuseFails
        ? `Wait ${seconds(clearsInMs ?? TIME_WAIT_MS)} for the TIME_WAIT sockets to clear: the kernel refused the bind even with SO_REUSEADDR.`
        : `Wait ${seconds(clearsInMs ?? TIME_WAIT_MS)} for the TIME_WAIT sockets to clear, or set SO_REUSEADDR before bind.`,
    );
  } else if (strictFails && timeWaitSockets.length > 0) {
    advice.push(
      `A server that binds without SO_REUSEADDR fails for up to ${seconds(clearsInMs ?? TIME_WAIT_MS)} more: set SO_REUSEADDR (Node, Go and Python's socketserver do), or wait.`,
    );
  }
  if (denied) {
    advice.push(
      `Ports below ${evidence.unprivilegedPortStart} need root or CAP_NET_BIND_SERVICE: use a port ≥ ${evidence.unprivilegedPortStart}, or grant the capability (setcap cap_net_bind_service=+ep <program>).`,
    );
  }
  if (verdict !== 'free' && evidence.freePorts.length > 0) {
    advice.push(`Or use a free port nearby (a bind just succeeded): ${evidence.freePorts.join(', ')}.`);
  }

  for (const p of natPublished)
    advice.push(
      `${describeContainer(p.container) ?? 'A container'} is published on ${formatEndpoint(p.hostAddress, p.hostPort)} by NAT rules: connections to that address reach the container, not a server bound here.`,
    );

  let summary: string;
  if (verdict === 'free') {
    summary = strictFails
      ? `${portLabel} is free to bind with SO_REUSEADDR; without it the TIME_WAIT leftovers still block it.`
      : listeners.length > 0
        ? `${portLabel} is free to bind: the listeners on this port are on other addresses.`
        : elsewhere.length > 0
          ? `${portLabel} is free to bind here, but ${describeElsewhere(elsewhere[0])} listens on ${elsewhere[0].endpoint} inside its own network namespace${elsewhere.length > 1 ? ` (and ${elsewhere.length - 1} more elsewhere)` : ''}: no conflict with a bind here.`
          : `${portLabel} is free to bind.`;
  } else if (verdict === 'denied') {
    summary = `${portLabel} is privileged: binding it needs root or CAP_NET_BIND_SERVICE.`;
  } else if (blockers.length > 0) {
    const first = blockers[0];
    const forward = first.forwardsTo
      ? `, forwarding to ${describeContainer(first.forwardsTo.container) ?? 'a container'} ${formatEndpoint(first.forwardsTo.address ?? '?', first.forwardsTo.port)}`
      : '';
    summary = `${portLabel} is in use: ${describeProcess(first.process, first.socket, evidence.privileged)} listens on ${first.endpoint}${forward}${blockers.length > 1 ? ` (and ${blockers.length - 1} more)` : ''}.`;
  } else if (timeWaitSockets.length > 0) {
    summary = `${portLabel} is held only by ${timeWaitSockets.length} TIME_WAIT socket(s): no process to stop; they clear within ${seconds(clearsInMs ?? TIME_WAIT_MS)}.`;
  } else if (connected.length > 0) {
    summary = `${portLabel} is in use by ${connected.length} connected socket(s) that still have it as their local port.`;
  } else {
    summary = `${portLabel} is not free to bind, though no socket on it is visible (a namespace Porthole could not read, or it just changed).`;
  }

  if (past) {
    // What to do is a question of now: the processes of then may be gone, or be others.
    advice.length = 0;
    advice.push(
      `This is the port at that moment, from the history; what holds it now: porthole who ${request.port}${request.protocol === 'udp' ? '/udp' : ''}`,
    );
    summary = `At ${localTime(evidence.at!)} (from the history): ${summary}`;
  }

  return {
    request,
    verdict,
    summary,
    listeners,
    elsewhere,
    natPublished,
    timeWait: {
      count: timeWaitSockets.length,
      clearsInMs,
      effect: timeWaitEffect(reuseFails && blockers.length === 0, strictFails, evidence.strictBinds),
    },
    connected,
    binds: evidence.binds,
    strictBinds: evidence.strictBinds,
    advice,
    freePorts: evidence.freePorts,
  };
}

/** The diagnosis as lines a person reads in a terminal or a bug report. */
export function diagnosisText(diagnosis: Diagnosis): string {
  const { request } = diagnosis;
  const lines = [diagnosis.summary, ''];
  if (diagnosis.listeners.length > 0) {
    lines.push('Listening on this port:');
    for (const l of diagnosis.listeners) {
      lines.push(`  ${request.protocol} ${l.endpoint}  (${l.scope})`);
      if (l.process) {
        const p = l.process;
        lines.push(`    process  ${printable(p.name)}, pid ${p.pid}${p.ppid !== null ? `, parent ${p.ppid}` : ''}`);
        if (l.owners.length > 1)
          lines.push(
            `    shared   with pids ${l.owners
              .slice(1)
              .map((o) => o.pid)
              .join(', ')}`,
          );
        if (p.command) lines.push(`    command  ${printable(p.command)}`);
        if (p.cwd) lines.push(`    cwd      ${printable(p.cwd)}`);
        lines.push(
          `    user     ${printable(String(p.user ?? p.uid ?? '?'))}${p.startedAt ? `, started ${p.startedAt}` : ''}`,
        );
      } else {
        lines.push(`    process  unknown (uid ${l.socket.uid ?? '?'}): not permitted to see it`);
      }
      if (l.container) lines.push(`    container ${printable(describeContainer(l.container) ?? '')}`);
      if (l.forwardsTo)
        lines.push(
          `    forwards to ${formatEndpoint(l.forwardsTo.address ?? '?', l.forwardsTo.port)} (${l.forwardsTo.via})`,
        );
      if (l.blocks) lines.push(`    blocks   ${l.blocks}`);
    }
    lines.push('');
  }
  if (diagnosis.elsewhere.length > 0) {
    lines.push('In other network namespaces (no conflict with a bind here):');
    for (const e of diagnosis.elsewhere) {
      const who = e.process ? `${printable(e.process.name)} (pid ${e.process.pid})` : 'owner unknown';
      const via = e.publishedAs
        ? `, published on ${formatEndpoint(e.publishedAs.hostAddress, e.publishedAs.hostPort)}`
        : '';
      lines.push(`  ${request.protocol} ${e.endpoint}  in ${printable(describeElsewhere(e))}: ${who}${via}`);
    }
    lines.push('');
  }
  if (diagnosis.timeWait.count > 0) {
    lines.push(
      `TIME_WAIT: ${diagnosis.timeWait.count} socket(s) left by closed connections; no process owns them. ${diagnosis.timeWait.effect}; they clear by themselves within ${seconds(diagnosis.timeWait.clearsInMs ?? TIME_WAIT_MS)}.`,
      '',
    );
  }
  if (diagnosis.connected.length > 0) {
    lines.push(`Connected sockets with local port ${request.port}: ${diagnosis.connected.length}.`, '');
  }
  if (diagnosis.binds.length > 0 || diagnosis.strictBinds.length > 0) {
    lines.push('What the kernel says:');
    for (const bind of [...diagnosis.binds, ...diagnosis.strictBinds]) lines.push(`  ${describeBind(request, bind)}`);
  } else lines.push('No bind was tried: a past moment, answered from the listeners recorded then.');
  if (diagnosis.advice.length > 0) {
    lines.push('', 'What to do:');
    for (const advice of diagnosis.advice) lines.push(`  - ${advice}`);
  }
  return lines.join('\n') + '\n';
}

/** Parses `3000`, `3000/tcp`, `53/udp`: the reason when it is not a port one can bind. */
export function parsePortSpec(
  spec: string,
): { ok: true; port: number; protocol: DoctorProtocol } | { ok: false; reason: string } {
  const match = /^(\S+?)(?:\/(tcp|udp))?$/i.exec(spec.trim());
  const text = match?.[1] ?? spec;
  if (!match || !/^\d+$/.test(text))
    return {
      ok: false,
      reason: `"${spec}" is not a port: give a number from 1 to 65535, optionally with /tcp or /udp`,
    };
  const port = Number(text);
  if (port === 0) return { ok: false, reason: 'port 0 means "any free port" to bind(): give a port from 1 to 65535' };
  if (port > 65535) return { ok: false, reason: `port ${port} is out of range: ports go from 1 to 65535` };
  return { ok: true, port, protocol: (match[2]?.toLowerCase() ?? 'tcp') as DoctorProtocol };
}

/** The processes a "stop the owner" would signal: owners of the listeners in the way, once each. */
export function ownersToStop(diagnosis: Diagnosis): ProcessInfo[] {
  const owners = new Map<number, ProcessInfo>();
  for (const finding of diagnosis.listeners)
    if (finding.blocks) for (const owner of finding.owners) owners.set(owner.pid, owner);
  return [...owners.values()].sort((a, b) => a.pid - b.pid);
}
