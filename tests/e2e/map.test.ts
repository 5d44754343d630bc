// The machine-wide map (issue 14, part 1), in Chromium: processes → the ports they listen on →
// the peers connected (a local connection's peer is the process at its other end); filterable;
// a port opens its fan-out. It is the first view a new user sees.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openServedUi, SCREENSHOTS, type ServedUi } from '../helpers/browser';
import { Workload, type ChildInfo } from '../helpers/workload';

const workload = new Workload();
let ui: ServedUi | undefined;
let page: Page;
let server: ChildInfo;
let clients: ChildInfo;

beforeAll(async () => {
  server = await workload.start({ role: 'listen', host: '127.0.0.1' });
  clients = await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 5 });
  ui = await openServedUi(['--interval', '500']);
  page = ui.page;
  await page.getByTestId('status').getByText('● live').waitFor({ timeout: 10_000 });
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await workload.stop();
});

describe('the machine map', () => {
  it('is the first view: process → port → the local process connected to it', async () => {
    await page.getByTestId('machine-map').waitFor();
    const port = page.getByTestId(`map-node-tcp:${server.port}`);
    await port.waitFor({ timeout: 5000 });
    // (Polled: the page may first show a table read while the five were still connecting.)
    await expect.poll(() => port.getAttribute('aria-label')).toBe(`tcp ${server.port} 5 connections`);
    expect(await page.getByTestId(`map-node-process:node (${server.pid})`).count()).toBe(1);
    await expect
      .poll(() => page.getByTestId(`map-node-peer:node (${clients.pid})`).getAttribute('aria-label'))
      .toBe(`node (${clients.pid}) 5 connections`);
    await page.screenshot({ path: join(SCREENSHOTS, 'map.png') });
  });

  it('filters by the filter box, and opens a port’s fan-out', async () => {
    await page.getByTestId('filter').fill(String(server.port));
    await expect.poll(() => page.locator('[data-testid^="map-node-tcp:"]').count()).toBe(1);
    await page.getByTestId(`map-node-tcp:${server.port}`).click();
    expect(await page.getByTestId('fanout').textContent()).toContain(`tcp port ${server.port}`);
    await page.getByTestId('filter').fill('');
  });
});
