// Real charts (issue 14, part 2), in Chromium: connections by state over time with a time axis,
// values and a legend, new connections a second; dragging a time range filters the feed.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openServedUi, SCREENSHOTS, type ServedUi } from '../helpers/browser';
import { Workload } from '../helpers/workload';

const workload = new Workload();
let ui: ServedUi | undefined;
let page: Page;
let serverPort = 0;

beforeAll(async () => {
  ui = await openServedUi(['--interval', '250']);
  page = ui.page;
  await page.getByTestId('status').getByText('● live').waitFor({ timeout: 10_000 });
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await workload.stop();
});

describe('charts', () => {
  it('draws sockets by state and new connections a second, with axes and a legend', async () => {
    await page.getByTestId('tab-transitions').click();
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 20 });
    serverPort = server.port!;
    const chart = page.getByTestId('state-chart');
    await chart.waitFor();
    // uPlot's legend names every series; its axes carry time and value labels.
    const legend = await chart.locator('.u-legend').textContent();
    for (const label of ['ESTABLISHED', 'TIME_WAIT', 'new connections / s']) expect(legend).toContain(label);
    // Three axes (time, sockets, new a second), drawn on the canvas with their labels.
    await expect.poll(async () => chart.locator('.u-axis').count()).toBe(3);
    // Hovering shows the values at that time in the legend: ESTABLISHED counts our 40 sockets at least.
    await page.waitForTimeout(1500);
    const box = (await chart.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    const established = await chart.locator('.u-legend .u-series').nth(1).locator('.u-value').textContent();
    expect(Number(established)).toBeGreaterThanOrEqual(40);
    await page.screenshot({ path: join(SCREENSHOTS, 'charts-states.png') });
  });

  it('filters the feed to a time range dragged across the chart', async () => {
    const chart = page.getByTestId('state-chart');
    const box = (await chart.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const range = page.getByTestId('feed-range');
    await range.waitFor();
    expect(await range.textContent()).toMatch(/Showing changes from .+ to .+/);
    await page.screenshot({ path: join(SCREENSHOTS, 'charts-range.png') });
    await page.getByTestId('feed-range-clear').click();
    expect(await page.getByTestId('feed-range').count()).toBe(0);
  });

  it('draws a port’s connections over time in its details', async () => {
    await page.getByTestId('tab-listeners').click();
    await page.getByTestId(`listener-tcp:${serverPort}`).click();
    const chart = page.getByTestId('connections-over-time');
    await chart.waitFor({ timeout: 5000 });
    const box = (await chart.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    expect(await chart.locator('.u-legend .u-series').nth(1).locator('.u-value').textContent()).toBe('20');
    await page.screenshot({ path: join(SCREENSHOTS, 'charts-port.png') });
  });
});
