// Assembles the kernel's TCP state changes into one chain per connection, with timestamps:
// SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT. Pure: fed by the tracer, tested with
// recorded event lines.
//
// Two quirks of the tracepoint are handled here. A connect() reports CLOSE → SYN_SENT before the
// kernel has picked the local port (sport=0): it is matched to the SYN_SENT → … event that follows
// with the same addresses, destination port and task. And a socket that enters TIME_WAIT is
// replaced by a timewait socket, so the tracepoint reports FIN_WAIT2 → CLOSE (or CLOSING → CLOSE):
// that CLOSE is the TIME_WAIT the poll then sees, and is recorded as such.

import type { ConnectionChain, TcpState } from '../shared/contract';

export type { ConnectionChain };
import { formatEndpoint } from './identity';

/** One state change as the kernel's tracepoint reports it (collect/linux/tcp-state-events.ts). */
export interface KernelTcpEvent {
  /** Wall-clock time in ms since the epoch (from the kernel's monotonic timestamp). */
  at: number;
  /** The task in whose context the change happened (often, not always, the socket's owner). */
  pid: number;
  family: 4 | 6;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  from: TcpState;
  to: TcpState;
}

const OPENING: ReadonlySet<string> = new Set(['CLOSE', 'LISTEN']);
const ENTERS_TIME_WAIT: ReadonlySet<string> = new Set(['FIN_WAIT2', 'CLOSING']);

export class ChainAssembler {
  private readonly open = new Map<string, ConnectionChain>();
  /** connect()s whose local port is not known yet, by local address, remote end and task. */
  private readonly connecting = new Map<string, KernelTcpEvent[]>();

  /** Folds one event in; returns the chain when this event ended it. */
  push(event: KernelTcpEvent): ConnectionChain | null {
    if (event.to === 'LISTEN' || (event.from === 'LISTEN' && event.to === 'CLOSE')) return null; // listeners come from polls
    if (event.from === 'CLOSE' && event.to === 'SYN_SENT' && event.localPort === 0) {
      const pendingKey = this.pendingKey(event);
      const list = this.connecting.get(pendingKey) ?? [];
      list.push(event);
      this.connecting.set(pendingKey, list);
      return null;
    }
    const key = `tcp|${formatEndpoint(event.localAddress, event.localPort)}|${formatEndpoint(event.remoteAddress, event.remotePort)}`;
    let chain = this.open.get(key);
    if (!chain) {
      chain = {
        key,
        localAddress: event.localAddress,
        localPort: event.localPort,
        remoteAddress: event.remoteAddress,
        remotePort: event.remotePort,
        pid: event.pid,
        steps: [],
        complete: OPENING.has(event.from) || event.from === 'SYN_SENT' || event.from === 'SYN_RECV',
      };
      if (event.from === 'SYN_SENT') {
        const connect = this.takeConnect(event);
        if (connect) chain.steps.push({ state: 'SYN_SENT', at: connect.at });
        else chain.complete = false;
      } else if (event.from === 'SYN_RECV') {
        chain.steps.push({ state: 'SYN_RECV', at: event.at });
      } else if (!OPENING.has(event.from)) {
        chain.steps.push({ state: event.from, at: event.at });
      }
      this.open.set(key, chain);
    }
    if (event.to === 'CLOSE') {
      chain.steps.push({ state: ENTERS_TIME_WAIT.has(event.from) ? 'TIME_WAIT' : 'CLOSED', at: event.at });
      this.open.delete(key);
      return chain;
    }
    chain.steps.push({ state: event.to, at: event.at });
    return null;
  }

  /** Chains still open (connections alive now), for a view of what is in progress. */
  inProgress(): ConnectionChain[] {
    return [...this.open.values()];
  }

  /** Forgets what never finished within `maxAgeMs` (a missed close must not grow memory). */
  prune(now: number, maxAgeMs: number): void {
    for (const [key, chain] of this.open)
      if (now - chain.steps[chain.steps.length - 1].at > maxAgeMs) this.open.delete(key);
    for (const [key, list] of this.connecting) {
      const kept = list.filter((e) => now - e.at <= maxAgeMs);
      if (kept.length === 0) this.connecting.delete(key);
      else this.connecting.set(key, kept);
    }
  }

  private pendingKey(event: KernelTcpEvent): string {
    return `${event.pid}|${event.localAddress}|${formatEndpoint(event.remoteAddress, event.remotePort)}`;
  }

  private takeConnect(event: KernelTcpEvent): KernelTcpEvent | undefined {
    // The SYN_SENT → … change may come from softirq context on behalf of another task: match by
    // addresses first, preferring the same task.
    const exact = this.connecting.get(this.pendingKey(event));
    if (exact?.length) return exact.shift();
    const suffix = `|${event.localAddress}|${formatEndpoint(event.remoteAddress, event.remotePort)}`;
    for (const [key, list] of this.connecting) if (key.endsWith(suffix) && list.length) return list.shift();
    return undefined;
  }
}

/** Finished connections to (or of) one endpoint, shown as one line: a burst is not 10,000 rows. */
export interface ChainGroup {
  /** `→ 127.0.0.1:8080` for connections made to it, `127.0.0.1:8080 ←` for ones accepted on it. */
  label: string;
  count: number;
  /** The most common chain, e.g. SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT. */
  path: string;
  /** How many followed another path (a reset, a timeout). */
  otherPaths: number;
  medianMs: number;
  maxMs: number;
  first: number;
  last: number;
  /** A few of them, oldest first, to open one. */
  examples: ConnectionChain[];
}

export const chainPath = (chain: ConnectionChain) => chain.steps.map((s) => s.state).join(' → ');
/** Event-mode durations are often below a millisecond: one decimal place below 10 ms. */
export const formatMs = (ms: number) => `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
/** A chain with the time spent in each state: `SYN_SENT (0.1 ms) → ESTABLISHED (0.2 ms) → … → TIME_WAIT`. */
export const chainWithDurations = (chain: ConnectionChain) =>
  chain.steps
    .map((s, i) => (i + 1 < chain.steps.length ? `${s.state} (${formatMs(chain.steps[i + 1].at - s.at)})` : s.state))
    .join(' → ');
export const chainDuration = (chain: ConnectionChain) =>
  chain.steps.length === 0 ? 0 : chain.steps[chain.steps.length - 1].at - chain.steps[0].at;

/** How long a group's connections lasted: one duration, or the median and the longest. */
export const groupDuration = (g: ChainGroup) =>
  g.count === 1 ? formatMs(g.medianMs) : `median ${formatMs(g.medianMs)}, max ${formatMs(g.maxMs)}`;

function groupLabel(chain: ConnectionChain): string {
  const accepted = chain.steps[0]?.state === 'SYN_RECV';
  return accepted
    ? `${formatEndpoint(chain.localAddress, chain.localPort)} ←`
    : `→ ${formatEndpoint(chain.remoteAddress, chain.remotePort)}`;
}

export function groupChains(chains: readonly ConnectionChain[], examples = 5): ChainGroup[] {
  const groups = new Map<string, ConnectionChain[]>();
  for (const chain of chains) {
    const label = groupLabel(chain);
    const list = groups.get(label);
    if (list) list.push(chain);
    else groups.set(label, [chain]);
  }
  return [...groups.entries()]
    .map(([label, list]) => {
      const paths = new Map<string, number>();
      for (const chain of list) paths.set(chainPath(chain), (paths.get(chainPath(chain)) ?? 0) + 1);
      const [path, common] = [...paths.entries()].sort((a, b) => b[1] - a[1])[0];
      const durations = list.map(chainDuration).sort((a, b) => a - b);
      return {
        label,
        count: list.length,
        path,
        otherPaths: list.length - common,
        medianMs: durations[durations.length >> 1],
        maxMs: durations[durations.length - 1],
        first: list[0].steps[0]?.at ?? 0,
        last: list[list.length - 1].steps.at(-1)?.at ?? 0,
        examples: list.slice(0, examples),
      };
    })
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
}
