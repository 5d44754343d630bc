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
  const groups = new ChainGroups(examples);
  for (const chain of chains) groups.add(chain);
  return groups.current();
}

/** One group as it is kept: its chains in the order they came, and what its summary needs. */
interface GroupState {
  label: string;
  chains: ConnectionChain[];
  /** Chains before this index have been removed (the oldest go first). */
  head: number;
  /** Chains by path, in the order each path first came. */
  paths: Map<string, number>;
  /** Every chain's duration, sorted (the median and the longest are read off it). */
  durations: number[];
  /** The summary as last made; null once a chain came or went. */
  summary: ChainGroup | null;
}

/** Labels in the reader's order (as localeCompare, with one collator made once). */
const LABELS = new Intl.Collator();

/** Where `value` goes in the sorted `list` (before any equal one). */
function bisect(list: number[], value: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Finished connections grouped by endpoint (groupChains), kept up to date chain by chain: the live
 * view adds what each delta finished and removes the oldest past its bound, and only the groups
 * that changed are summed again (a burst of 20,000 is not grouped anew a few times a second).
 * Groups are ordered by size, then by label.
 */
export class ChainGroups {
  private readonly groups = new Map<string, GroupState>();
  private order: ChainGroup[] | null = [];

  constructor(private readonly examples = 5) {}

  add(chain: ConnectionChain): void {
    const label = groupLabel(chain);
    let group = this.groups.get(label);
    if (!group) {
      group = { label, chains: [], head: 0, paths: new Map(), durations: [], summary: null };
      this.groups.set(label, group);
    }
    group.chains.push(chain);
    const path = chainPath(chain);
    group.paths.set(path, (group.paths.get(path) ?? 0) + 1);
    const duration = chainDuration(chain);
    group.durations.splice(bisect(group.durations, duration), 0, duration);
    group.summary = null;
    this.order = null;
  }

  /** Removes a chain added before; the oldest of its group is found at once. */
  remove(chain: ConnectionChain): void {
    const group = this.groups.get(groupLabel(chain));
    if (!group) return;
    const at = group.chains[group.head] === chain ? group.head : group.chains.indexOf(chain, group.head);
    if (at < 0) return;
    if (at === group.head) group.head++;
    else group.chains.splice(at, 1);
    // Keep the removed head from growing without bound.
    if (group.head > 1024 && group.head * 2 > group.chains.length) {
      group.chains = group.chains.slice(group.head);
      group.head = 0;
    }
    const path = chainPath(chain);
    const left = (group.paths.get(path) ?? 1) - 1;
    if (left > 0) group.paths.set(path, left);
    else group.paths.delete(path);
    group.durations.splice(bisect(group.durations, chainDuration(chain)), 1);
    if (group.chains.length === group.head) this.groups.delete(group.label);
    group.summary = null;
    this.order = null;
  }

  current(): ChainGroup[] {
    if (this.order) return this.order;
    const summaries: ChainGroup[] = [];
    for (const group of this.groups.values()) summaries.push((group.summary ??= this.summary(group)));
    return (this.order = summaries.sort((a, b) => b.count - a.count || LABELS.compare(a.label, b.label)));
  }

  private summary(group: GroupState): ChainGroup {
    const count = group.chains.length - group.head;
    let common = 0;
    for (const n of group.paths.values()) common = Math.max(common, n);
    // The most common path; of several as common, the one that came first of the chains kept.
    const tied = new Set([...group.paths].filter(([, n]) => n === common).map(([p]) => p));
    let path = tied.values().next().value ?? '';
    if (tied.size > 1)
      for (let i = group.head; i < group.chains.length; i++) {
        const candidate = chainPath(group.chains[i]);
        if (tied.has(candidate)) {
          path = candidate;
          break;
        }
      }
    const oldest = group.chains[group.head];
    const newest = group.chains[group.chains.length - 1];
    return {
      label: group.label,
      count,
      path,
      otherPaths: count - common,
      medianMs: group.durations[group.durations.length >> 1],
      maxMs: group.durations[group.durations.length - 1],
      first: oldest.steps[0]?.at ?? 0,
      last: newest.steps.at(-1)?.at ?? 0,
      examples: group.chains.slice(group.head, group.head + this.examples),
    };
  }
}
