// Builds the app once before the tests that spawn the real CLI and the real poll worker, and makes
// the host busy for the whole run (issue 16): ≥ 20,000 TIME_WAIT sockets before the first test and a
// steady trickle of short connections during the suite, so a test that finds a socket by one port,
// or leans on a quiet table, fails here and not on a user's machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const TIME_WAIT_GOAL = 20_000;
/** Short connections per second during the suite (~6,000 more TIME_WAIT at any time after a minute). */
const TRICKLE_PER_SECOND = 100;

interface FirstPhase {
  made: number;
  failed: number;
  initialMs: number;
  /** TIME_WAIT sockets on the host, and those of them with at least 30 s left. */
  timeWait: number;
  freshTimeWait: number;
}

function startLoad(): Promise<{ child: ChildProcess; made: () => number; first: FirstPhase }> {
  const script = join(__dirname, 'helpers', 'background-load.cjs');
  const child = spawn(process.execPath, [script, String(TIME_WAIT_GOAL), String(TRICKLE_PER_SECOND)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let made = 0;
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const report = JSON.parse(line) as { made: number } & Partial<FirstPhase>;
      made = report.made;
      if (report.initialMs !== undefined) resolve({ child, made: () => made, first: report as FirstPhase });
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
  const { made, failed, initialMs, timeWait, freshTimeWait } = load.first;
  const firstPhase = `${made} connections (${failed} failed) in ${initialMs} ms`;
  if (freshTimeWait < TIME_WAIT_GOAL) {
    load.child.kill('SIGKILL');
    throw new Error(
      `background load: only ${freshTimeWait} TIME_WAIT sockets with 30 s left after ${firstPhase} (want ≥ ${TIME_WAIT_GOAL}); is the machine out of ports?`,
    );
  }
  console.log(
    `background load: ${timeWait} TIME_WAIT sockets before the suite (${freshTimeWait} with 30 s or more left; ${firstPhase}), ${TRICKLE_PER_SECOND} short connections/s during it (pid ${load.child.pid})`,
  );
  return () => {
    console.log(`background load: ${load.made()} short connections made in all`);
    load.child.stdin!.end();
    load.child.kill('SIGKILL');
  };
}
