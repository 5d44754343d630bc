// Real charts (issue 14, part 2), in Chromium: connections by state over time with a time axis,
// values and a legend, new connections a second; dragging a time range filters the feed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCREENSHOTS, servedUiSuite } from '../helpers/browser';
import { Workload } from '../helpers/workload';

const workload = new Workload();
let serverPort = 0;

const suite = servedUiSuite(['--interval', '250'], {
  stop: () => workload.stop(),
});

describe('charts', () => {
  it('draws sockets by state and new connections a second, with axes and a legend', async () => {
    await suite.page.getByTestId('tab-transitions').click();
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 20 });
    serverPort = server.port!;
    const chart = suite.page.getByTestId('state-chart');
    await chart.waitFor();
    // uPlot's legend names every series; its axes carry time and value labels.
    const legend = await chart.locator('.u-legend').textContent();
    for (const label of ['ESTABLISHED', 'TIME_WAIT', 'new connections / s']) expect(legend).toContain(label);
    // Three axes (time, sockets, new a second), drawn on the canvas with their labels.
    await expect.poll(async () => chart.locator('.u-axis').count()).toBe(3);
    // Off the chart the legend shows the latest values: ESTABLISHED counts our 40 sockets at least,
    // once a poll has seen them (a busy host may take a few). As people read it: uPlot groups
    // thousands ("1,234" on a host busy with other tests' sockets).
    const value = (series: number) => chart.locator('.u-legend .u-series').nth(series).locator('.u-value');
    const established = async () => {
      const text = (await value(1).textContent()) ?? '';
      expect(text).toMatch(/^\d{1,3}(,\d{3})*$/);
      return Number(text.replaceAll(',', ''));
    };
    await expect.poll(established, { timeout: 10_000 }).toBeGreaterThanOrEqual(40);
    // On it, the values at the time under the cursor. (Not the latest: at 250 ms a poll, samples are
    // a fraction of a pixel apart, and the cursor's pixel is seconds of them.)
    const box = (await chart.locator('.u-over').boundingBox())!;
    await suite.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    expect(await value(0).textContent()).toMatch(/^\d{4}-\d\d-\d\d \d{1,2}:\d\d(am|pm)$/);
    await established(); // a count then, as people read it
    await suite.page.screenshot({ path: join(SCREENSHOTS, 'charts-states.png') });
  });

  it('filters the feed to a time range dragged across the chart', async () => {
    const chart = suite.page.getByTestId('state-chart');
    const box = (await chart.locator('.u-over').boundingBox())!;
    await suite.page.mouse.move(box.x + 2, box.y + box.height / 2);
    await suite.page.mouse.down();
    await suite.page.mouse.move(box.x + box.width / 3, box.y + box.height / 2, { steps: 5 });
    await suite.page.mouse.up();
    const range = suite.page.getByTestId('feed-range');
    await range.waitFor();
    expect(await range.textContent()).toMatch(/Showing changes from .+ to .+/);
    await suite.page.screenshot({ path: join(SCREENSHOTS, 'charts-range.png') });
    await suite.page.getByTestId('feed-range-clear').click();
    expect(await suite.page.getByTestId('feed-range').count()).toBe(0);
  });

  it('draws a port’s connections over time in its details', async () => {
    await suite.page.getByTestId('tab-listeners').click();
    await suite.page.getByTestId(`listener-tcp:${serverPort}`).click();
    const chart = suite.page.getByTestId('connections-over-time');
    await chart.waitFor({ timeout: 5000 });
    // The latest value (the cursor off the chart) is the port's live count the panel gives above it:
    // our 20 connections once a poll has them all, and on a busy host whatever else uses the same
    // port number (another process's IPv6 socket, say): the two counts agree, whatever they are.
    const latest = chart.locator('.u-legend .u-series').nth(1).locator('.u-value');
    const total = suite.page.getByTestId('fanout-total');
    await expect
      .poll(async () => [await latest.textContent(), await total.textContent()], { timeout: 10_000 })
      .toSatisfy(([chartCount, panelCount]) => chartCount === panelCount && Number(panelCount) >= 20);
    await suite.page.screenshot({ path: join(SCREENSHOTS, 'charts-port.png') });
  });
});
