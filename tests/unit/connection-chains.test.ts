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
  formatMs,
  groupChains,
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
});
