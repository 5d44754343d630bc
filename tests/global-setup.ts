// Builds the app once before the tests that spawn the real CLI and the real poll worker, and makes
// the host busy for the whole run (issue 16): ≥ 20,000 TIME_WAIT sockets before the first test and a
// steady trickle of short connections during the suite, so a test that finds a socket by one port,
// or leans on a quiet table, fails here and not on a user's machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const TIME_WAIT_GOAL = 20_000;
/** Connections in the first burst: a few more than the goal, as loopback may reuse some TIME_WAIT ports at once. */
const INITIAL_CONNECTIONS = 21_000;
/** Short connections per second during the suite (~6,000 more TIME_WAIT at any time after a minute). */
const TRICKLE_PER_SECOND = 100;

/** TIME_WAIT rows (state 06) in the host's TCP tables. */
export function countTimeWait(): number {
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'latin1').split('\n')) if (line.trim().split(/\s+/)[3] === '06') count++;
  }
  return count;
}

function startLoad(): Promise<{ child: ChildProcess; made: () => number }> {
  const script = join(__dirname, 'helpers', 'background-load.cjs');
  const child = spawn(process.execPath, [script, String(INITIAL_CONNECTIONS), String(TRICKLE_PER_SECOND)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let made = 0;
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const report = JSON.parse(line) as { made: number; initialMs?: number };
      made = report.made;
      if (report.initialMs !== undefined) resolve({ child, made: () => made });
    });
    child.once('exit', (code) => reject(new Error(`background load exited ${code} before it was ready`)));
  });
}

export default async function setup(): Promise<() => void> {
  execFileSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build'], { stdio: 'ignore' });

  // A developer may run a quick local pass without it; CI always runs with it.
  if (process.env.PORTHOLE_TEST_LOAD === 'off' && !process.env.CI) {
    console.log('background load: off (PORTHOLE_TEST_LOAD=off)');
    return () => {};
  }
  const load = await startLoad();
  const timeWait = countTimeWait();
  if (timeWait < TIME_WAIT_GOAL) {
    load.child.kill('SIGKILL');
    throw new Error(
      `background load: only ${timeWait} TIME_WAIT sockets (want ≥ ${TIME_WAIT_GOAL}); is the machine out of ports?`,
    );
  }
  console.log(
    `background load: ${timeWait} TIME_WAIT sockets before the suite, ${TRICKLE_PER_SECOND} short connections/s during it (pid ${load.child.pid})`,
  );
  return () => {
    console.log(`background load: ${load.made()} short connections made in all; ${countTimeWait()} TIME_WAIT now`);
    load.child.stdin!.end();
    load.child.kill('SIGKILL');
  };
}
