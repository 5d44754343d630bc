// Traffic in the UI (issue 12), in Chromium against a real `porthole serve`: a loopback connection
// that streams at a known pace shows its rate in the Connections view's Sent/s column (sortable,
// busiest first), its bytes, rates and sparkline in its details, and the totals of its port.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCREENSHOTS, servedUiSuite } from '../helpers/browser';
import { Workload, type ChildInfo } from '../helpers/workload';

const RATE = 1_000_000;
const workload = new Workload();
let pair: ChildInfo;

const suite = servedUiSuite(['--interval', '500'], {
  prepare: async () => {
    pair = await workload.start({ role: 'transfer', host: '127.0.0.1', send: 3_000_000, reply: 20_000, rate: RATE });
  },
  stop: () => workload.stop(),
});

const number = (text: string | null) => {
  const match = /([\d.]+) (B|KB|MB|GB)/.exec(text ?? '');
  if (!match) return NaN;
  return Number(match[1]) * { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[match[2] as 'B'];
};

describe('traffic in the UI', () => {
  it('shows a streaming connection’s rate, sorted busiest first, with its bytes and sparkline', async () => {
    const local = `127.0.0.1:${pair.localPort}`;
    const remote = `127.0.0.1:${pair.port}`;
    await suite.page.getByTestId('tab-connections').click();
    await suite.page.getByTestId('filter').fill(`${local} ${remote}`);
    const row = suite.page
      .getByTestId('connection-row')
      .filter({ has: suite.page.locator('.c-local', { hasText: local }) });
    await row.first().waitFor({ timeout: 5000 });
    // A rate needs two readings; then the column shows the sender's pace. One reading is a timer's
    // 50 ms chunks over the time between two polls' dumps, which on a loaded host can be short
    // (2 chunks in 40 ms read as 2.4 MB/s): the median of a few readings is within a factor of two.
    // The system test checks the arithmetic of each one.
    await expect
      .poll(async () => number(await row.first().getByTestId('row-sent').textContent()), { timeout: 5000 })
      .toBeGreaterThan(0);
    const readings: number[] = [];
    for (let i = 0; i < 7; i++) {
      readings.push(number(await row.first().getByTestId('row-sent').textContent()));
      await suite.page.waitForTimeout(500);
    }
    const median = readings.sort((a, b) => a - b)[3];
    expect(median, readings.join(', ')).toBeGreaterThan(RATE * 0.5);
    expect(median, readings.join(', ')).toBeLessThan(RATE * 2);

    // Sorting by Sent/s puts the busiest first: with the filter cleared, ours leads the whole table.
    await suite.page.getByTestId('filter').fill('');
    await suite.page.getByTestId('sort-sent').click();
    await expect
      .poll(async () => suite.page.getByTestId('connection-row').first().locator('.c-local').textContent(), {
        timeout: 5000,
      })
      .toBe(local);

    await suite.page.getByTestId('connection-row').first().click();
    const sent = suite.page.getByTestId('traffic-sent');
    await sent.waitFor({ timeout: 5000 });
    expect(number(await sent.textContent())).toBeGreaterThan(3_000_000);
    await suite.page.getByTestId('traffic-sparkline').waitFor({ timeout: 5000 });
    await suite.page.screenshot({ path: join(SCREENSHOTS, 'traffic-connection.png') });
  });

  it('sums the traffic of a port’s connections in its fan-out', async () => {
    await suite.page.getByTestId('tab-listeners').click();
    await suite.page.getByTestId('filter').fill('');
    await suite.page.getByTestId(`listener-tcp:${pair.port}`).click();
    const total = suite.page.getByTestId('traffic-total');
    await total.waitFor({ timeout: 5000 });
    expect(await total.textContent()).toMatch(/Traffic of 1 connection: sent [\d.]+ KB/);
    expect(number((await total.textContent())?.split('received')[1] ?? '')).toBeGreaterThan(3_000_000);
    // Edges can say bytes a second instead of connections: one busy peer, the widest edge.
    await suite.page.getByTestId('fanout-width-by').selectOption('traffic');
    const edge = suite.page.getByTestId('fanout-picture').locator('path').first();
    expect(Number(await edge.getAttribute('stroke-width'))).toBeCloseTo(10, 0);
    await suite.page.screenshot({ path: join(SCREENSHOTS, 'traffic-port.png') });
  });
});
