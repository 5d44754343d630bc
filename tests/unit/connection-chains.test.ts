// Event mode's pure half: trace lines recorded from this kernel's sock:inet_sock_set_state
// (tests/fixtures/tracefs: a short v4 connection, one reset by the server, a short v6 connection and
// a refused connect, with their listeners) parsed and assembled into one chain per connection.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTraceLine } from '../../src-main/collect/linux/tcp-state-events';
import {
  ChainAssembler,
  chainPath,
  chainWithDurations,
  chainDuration,
  ChainGroups,
  formatMs,
  groupChains,
  type ChainGroup,
  type ConnectionChain,
  type KernelTcpEvent,
} from '../../src-main/track/connection-chains';

const RECORDED = readFileSync(join(__dirname, '..', 'fixtures', 'tracefs', 'inet_sock_set_state.trace'), 'utf8');
/** The trace clock read 2633.000 s at 10:00:00 UTC. */
const OFFSET_MS = Date.parse('2026-11-24T10:00:00Z') - 2_633_000;

const events = (text = RECORDED): KernelTcpEvent[] =>
  text.split('\n').flatMap((line) => parseTraceLine(line, OFFSET_MS) ?? []);

function assemble(list: KernelTcpEvent[]): ConnectionChain[] {
  const assembler = new ChainAssembler();
  return list.flatMap((event) => assembler.push(event) ?? []);
}

const summary = (c: ConnectionChain) =>
  `${c.localAddress}:${c.localPort} ${c.remoteAddress}:${c.remotePort} ${chainPath(c)}${c.complete ? '' : ' (partial)'}`;

describe('trace lines', () => {
  it('parses every event of the recording and nothing of its header', () => {
    const parsed = events();
    expect(parsed).toHaveLength(34);
    expect(parsed[2]).toEqual({
      at: expect.any(Number),
      pid: 7241,
      family: 4,
      localAddress: '127.0.0.1',
      localPort: 43344,
      remoteAddress: '127.0.0.1',
      remotePort: 38519,
      from: 'SYN_SENT',
      to: 'ESTABLISHED',
    });
    expect(parsed[2].at).toBeCloseTo(Date.parse('2026-11-24T10:00:00.032Z') + 0.479, 6);
  });

  it('takes IPv6 addresses from the v6 fields (the v4 ones hold leftovers)', () => {
    const v6 = events().filter((e) => e.family === 6);
    expect(v6).toHaveLength(12);
    expect(new Set(v6.flatMap((e) => [e.localAddress, e.remoteAddress]))).toEqual(new Set(['::1', '::']));
  });

  it('returns null for lost-event notices, other protocols, unknown states and truncated lines', () => {
    const line = RECORDED.split('\n').find((l) => l.includes('newstate=TCP_ESTABLISHED'))!;
    expect(parseTraceLine('CPU:1 [LOST 12 EVENTS]', 0)).toBeNull();
    expect(parseTraceLine(line.replace('IPPROTO_TCP', 'IPPROTO_SCTP'), 0)).toBeNull();
    expect(parseTraceLine(line.replace('newstate=TCP_ESTABLISHED', 'newstate=TCP_BOUND_INACTIVE'), 0)).toBeNull();
    expect(parseTraceLine(line.slice(0, 120), 0)).toBeNull();
    expect(parseTraceLine('', 0)).toBeNull();
  });
});

describe('chains', () => {
  it('assembles each connection from connect or accept to its end, and ignores listeners', () => {
    expect(assemble(events()).map(summary)).toEqual([
      '127.0.0.1:43344 127.0.0.1:38519 SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT',
      '127.0.0.1:38519 127.0.0.1:43344 SYN_RECV → ESTABLISHED → CLOSE_WAIT → LAST_ACK → CLOSED',
      // Reset by the server: both ends close straight from ESTABLISHED.
      '127.0.0.1:46455 127.0.0.1:43706 SYN_RECV → ESTABLISHED → CLOSED',
      '127.0.0.1:43706 127.0.0.1:46455 SYN_SENT → ESTABLISHED → CLOSED',
      '::1:51828 ::1:42405 SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT',
      '::1:42405 ::1:51828 SYN_RECV → ESTABLISHED → CLOSE_WAIT → LAST_ACK → CLOSED',
      // Refused: nobody listens on port 1.
      '127.0.0.1:47322 127.0.0.1:1 SYN_SENT → CLOSED',
    ]);
  });

  it('dates SYN_SENT from the connect() reported before the kernel picked the local port', () => {
    const [client] = assemble(events());
    expect(client.key).toBe('tcp|127.0.0.1:43344|127.0.0.1:38519');
    expect(client.steps[0].at).toBeCloseTo(Date.parse('2026-11-24T10:00:00.032Z') + 0.397, 6);
    expect(client.steps.map((s) => s.at)).toEqual([...client.steps.map((s) => s.at)].sort((a, b) => a - b));
    expect(chainWithDurations(client)).toBe(
      'SYN_SENT (0.1 ms) → ESTABLISHED (1.3 ms) → FIN_WAIT1 (0.7 ms) → FIN_WAIT2 (0.0 ms) → TIME_WAIT',
    );
  });

  it('marks a connection seen from the middle as partial', () => {
    // Started before the recording: its connect and handshake are missing.
    const late = events().filter((e) => !(e.remotePort === 38519 && (e.localPort === 0 || e.to === 'ESTABLISHED')));
    const client = assemble(late).find((c) => c.localPort === 43344)!;
    expect(summary(client)).toBe(
      '127.0.0.1:43344 127.0.0.1:38519 ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT (partial)',
    );
  });

  it('forgets connections with no change for longer than the age limit', () => {
    const assembler = new ChainAssembler();
    const list = events();
    const opening = list.slice(0, 5); // connect and accept of the first connection, nothing more
    for (const event of opening) assembler.push(event);
    expect(
      assembler
        .inProgress()
        .map((c) => c.localPort)
        .sort(),
    ).toEqual([38519, 43344]);
    assembler.prune(opening[4].at + 1000, 10_000);
    expect(assembler.inProgress()).toHaveLength(2);
    assembler.prune(opening[4].at + 10_001, 10_000);
    expect(assembler.inProgress()).toEqual([]);
  });

  it('groups a burst to one endpoint into one row with its most common chain and durations', () => {
    const chains = assemble(events());
    const burst: ConnectionChain[] = Array.from({ length: 1000 }, (_, i) => ({
      ...chains[0],
      key: `tcp|127.0.0.1:${20000 + i}|127.0.0.1:38519`,
      localPort: 20000 + i,
      steps: chains[0].steps.map((s) => ({ ...s, at: s.at + i })),
    }));
    const groups = groupChains([...burst, chains[1], chains[6]]);
    expect(groups.map((g) => [g.label, g.count, g.path, g.otherPaths])).toEqual([
      ['→ 127.0.0.1:38519', 1000, 'SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT', 0],
      ['→ 127.0.0.1:1', 1, 'SYN_SENT → CLOSED', 0],
      ['127.0.0.1:38519 ←', 1, 'SYN_RECV → ESTABLISHED → CLOSE_WAIT → LAST_ACK → CLOSED', 0],
    ]);
    expect(formatMs(groups[0].medianMs)).toBe('2.1 ms');
    expect(groups[0].examples).toHaveLength(5);
  });

  it('kept chain by chain as they come and the oldest go, equals grouping what is left anew', () => {
    const base = assemble(events());
    let seed = 3;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const make = (i: number): ConnectionChain => {
      const like = base[random(base.length)];
      const port = [38519, 1, 8080][random(3)];
      return {
        ...like,
        key: `tcp|127.0.0.1:${20000 + i}|127.0.0.1:${port}`,
        remotePort: like.steps[0]?.state === 'SYN_RECV' ? like.remotePort : port,
        localPort: like.steps[0]?.state === 'SYN_RECV' ? port : 20000 + i,
        steps: like.steps
          .slice(0, 1 + random(like.steps.length))
          .map((step, k) => ({ ...step, at: i * 10 + k * random(50) })),
      };
    };
    // The grouping as it was first written: every chain grouped anew (the oracle).
    const anew = (chains: ConnectionChain[]): ChainGroup[] => {
      const groups = new Map<string, ConnectionChain[]>();
      for (const chain of chains) {
        const label = groupChains([chain])[0].label;
        groups.set(label, [...(groups.get(label) ?? []), chain]);
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
            examples: list.slice(0, 5),
          };
        })
        .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
    };
    const kept = new ChainGroups();
    let live: ConnectionChain[] = [];
    for (let round = 0; round < 200; round++) {
      const added = Array.from({ length: random(40) }, () => make(round * 100 + random(100)));
      for (const chain of added) kept.add(chain);
      live = [...live, ...added];
      // The oldest go (as the live view bounds them), and now and then one from the middle.
      for (const old of live.slice(0, Math.max(0, live.length - 300))) kept.remove(old);
      live = live.slice(-300);
      if (random(10) === 0 && live.length > 10) {
        const [gone] = live.splice(random(live.length), 1);
        kept.remove(gone);
      }
      expect(kept.current()).toEqual(anew(live));
    }
    expect(groupChains(live)).toEqual(anew(live));
  });
});
