// Fidelity under contention (issue 27): real PostgreSQL, Redis and nginx under their own load tools,
// 500 short connections a second beside them and both cores busy; every client each server
// reports is in Porthole's snapshot, both ends, each with the owner the server (or the tool) has.
// `npm run stress` runs the same ten times and prints the figures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realServersMissing, startNginx, startPostgres, startRedis } from '../helpers/real-servers';
import { stressRun, type StressServers } from '../helpers/stress-run';

const missing = realServersMissing();
let servers: StressServers | null = null;

beforeAll(async () => {
  if (missing.length > 0) return;
  const [postgres, redis, nginx] = await Promise.all([startPostgres(), startRedis(), startNginx()]);
  servers = { postgres, redis, nginx };
}, 120_000);
afterAll(async () => {
  if (servers) await Promise.all(Object.values(servers).map((s) => s.stop()));
});

describe('a snapshot under a real server load and CPU contention', () => {
  it.skipIf(missing.length > 0)(
    `finds every client PostgreSQL, Redis and nginx report, with its owner${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`,
    async () => {
      const { outcomes } = await stressRun(servers!);
      for (const outcome of outcomes) {
        expect(outcome.reported, outcome.server).toBeGreaterThan(0);
        expect(outcome.faults, outcome.server).toEqual([]);
        expect(outcome.serverEnds).toBe(outcome.reported);
        expect(outcome.clientEnds).toBe(outcome.reported);
      }
      // The load tools hold their connections: 16 pgbench clients, 50 redis-benchmark, 32 wrk.
      expect(outcomes.map((o) => o.reported)).toEqual([16, 50, 32]);
    },
    60_000,
  );
});
