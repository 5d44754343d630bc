// Event-to-UI latency, end to end: the real `porthole serve` with kernel events, the real UI in
// Debian's Chromium, and short loopback connections at `rate` a second. For each connection, from
// the moment its chain ended in the kernel (the last step's timestamp, read back from the UI's own
// JSON export) to the first animation frame after the UI's burst row counted it.
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Snapshot } from '../src-main/shared/contract';
import { openServedUi } from '../tests/helpers/browser';
import { Workload } from '../tests/helpers/workload';

export type EventToUi =
  | { available: false; reason: string }
  | { available: true; made: number; shown: number; medianMs: number; p99Ms: number; maxMs: number };

/** (wall-clock ms, burst label, count) each time a burst row changed, taken at the next frame. */
type Sample = [number, string, number];

export async function benchEventToUi(helpers: string, rate: number, seconds: number): Promise<EventToUi> {
  // Recording, as serve does by default, into a history of its own: not the user's, and not one
  // an earlier part of the bench has filled.
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-'));
  const ui = await openServedUi(['--interval', '1000', '--history', join(dir, 'history.sqlite')]).catch(
    (error: unknown) => {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    },
  );
  const { page } = ui;
  const churn = new Workload(helpers);
  try {
    const badge = page.getByTestId('event-mode');
    await badge.waitFor({ timeout: 10_000 });
    if (!(await badge.textContent())?.includes('kernel events'))
      return { available: false, reason: (await badge.getAttribute('title')) ?? 'unknown' };
    // The page settled first: a first table goes out before its owners, which follow as a change
    // of every socket (at 50,000 sockets, seconds for a page to apply under the load), and the
    // deltas held meanwhile come after. What is measured is a page that keeps up, not its start
    // (the first render is measured on its own).
    await page.getByTestId('owners-resolving').waitFor({ state: 'detached', timeout: 60_000 });
    await page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          // Two seconds without a task of over 250 ms (a poll's delta under the load takes ~100 ms).
          let quietSince = performance.now();
          new PerformanceObserver((list) => {
            if (list.getEntries().some((e) => e.duration > 250)) quietSince = performance.now();
          }).observe({ type: 'longtask' });
          const check = () => (performance.now() - quietSince >= 2000 ? resolve() : setTimeout(check, 100));
          setTimeout(resolve, 30_000);
          check();
        }),
    );
    await page.getByTestId('tab-transitions').click();
    await page.evaluate(() => {
      const samples: Sample[] = [];
      (globalThis as unknown as { __samples: Sample[] }).__samples = samples;
      new MutationObserver(() =>
        requestAnimationFrame(() => {
          const now = performance.timeOrigin + performance.now();
          for (const row of Array.from(document.querySelectorAll('[data-testid=burst] td:first-child'))) {
            const match = /^(\d+) × (.+)$/.exec(row.textContent?.trim() ?? '');
            if (match) samples.push([now, match[2], Number(match[1])]);
          }
        }),
      ).observe(document.body, { subtree: true, childList: true, characterData: true });
    });

    const { port } = await churn.run(process.execPath, [join(helpers, 'connection-rate.cjs'), String(rate)]);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    await churn.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the last drains and deltas

    // The chains as the UI holds them, through its own export.
    await page.getByTestId('tab-snapshots').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const file = join(dir, 'export.json');
    await download.saveAs(file);
    const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
    const ends = (snapshot.chains ?? [])
      .filter((c) => c.remotePort === port && c.remoteAddress === '127.0.0.1')
      .map((c) => c.steps[c.steps.length - 1].at)
      .sort((a, b) => a - b);

    const label = `→ 127.0.0.1:${port}`;
    const samples = (await page.evaluate(() => (globalThis as unknown as { __samples: Sample[] }).__samples)).filter(
      (s) => s[1] === label,
    );
    // The k-th connection to end was shown by the first frame whose row counted at least k.
    const latencies: number[] = [];
    let sample = 0;
    for (let k = 1; k <= ends.length; k++) {
      while (sample < samples.length && samples[sample][2] < k) sample++;
      if (sample === samples.length) break;
      latencies.push(samples[sample][0] - ends[k - 1]);
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    return {
      available: true,
      made: ends.length,
      shown: latencies.length,
      medianMs: at(0.5),
      p99Ms: at(0.99),
      maxMs: latencies.at(-1) ?? NaN,
    };
  } finally {
    await churn.stop();
    await ui.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
