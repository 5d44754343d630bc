// npm run stress [-- --runs 10]: the stress test of tests/system/stress.test.ts, run again and again
// (issue 27). Real PostgreSQL, Redis and nginx under pgbench (16 clients), redis-benchmark (50) and
// wrk (32), 500 short connections a second beside them, both cores kept busy by two spinning
// processes; each run, every client each server reports before and after the snapshot must be in
// `porthole snapshot`, both ends, each with its real owner. Prints a line a run and the totals.
import { parseArgs } from 'node:util';
import { realServersMissing, startNginx, startPostgres, startRedis } from '../tests/helpers/real-servers';
import { stressRun } from '../tests/helpers/stress-run';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });

async function main(): Promise<void> {
  const missing = realServersMissing();
  if (missing.length > 0) {
    console.error(
      `npm run stress needs ${missing.join(', ')} (apt-get install postgresql redis-server redis-tools nginx-light wrk)`,
    );
    process.exitCode = 2;
    return;
  }
  const [postgres, redis, nginx] = await Promise.all([startPostgres(), startRedis(), startNginx()]);
  const runs = Number(values.runs);
  let failed = 0;
  try {
    console.log(
      `stress: ${runs} runs; per server: clients it reported / server ends with its owner / client ends with the tool's`,
    );
    for (let run = 1; run <= runs; run++) {
      const { outcomes, snapshotMs, sockets } = await stressRun({ postgres, redis, nginx });
      const clean = outcomes.every((o) => o.faults.length === 0 && o.reported > 0);
      if (!clean) failed++;
      console.log(
        `  run ${String(run).padStart(2)}: ` +
          outcomes.map((o) => `${o.server} ${o.reported}/${o.serverEnds}/${o.clientEnds}`).join(', ') +
          `; snapshot of ${sockets} sockets in ${snapshotMs} ms ${clean ? 'ok' : 'FAULTS'}`,
      );
      for (const o of outcomes) for (const fault of o.faults) console.log(`      ${fault}`);
    }
  } finally {
    await Promise.all([postgres.stop(), redis.stop(), nginx.stop()]);
  }
  console.log(`\nstress: ${runs - failed} of ${runs} runs found every client with its owner`);
  process.exitCode = failed === 0 ? 0 : 1;
}

void main();
