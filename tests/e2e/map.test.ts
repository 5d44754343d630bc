// The machine-wide map (issue 14, part 1), in Chromium: processes → the ports they listen on →
// the peers connected (a local connection's peer is the process at its other end); filterable;
// a port opens its fan-out. It is the first view a new user sees.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCREENSHOTS, servedUiSuite } from '../helpers/browser';
import { Workload, type ChildInfo } from '../helpers/workload';

const workload = new Workload();
let server: ChildInfo;
let clients: ChildInfo;

const suite = servedUiSuite(['--interval', '500'], {
  prepare: async () => {
    server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    clients = await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 5 });
  },
  stop: () => workload.stop(),
});

describe('the machine map', () => {
  it('is the first view: process → port → the local process connected to it', async () => {
    await suite.page.getByTestId('machine-map').waitFor();
    const port = suite.page.getByTestId(`map-node-tcp:${server.port}`);
    await port.waitFor({ timeout: 5000 });
    // (Polled: the suite.page may first show a table read while the five were still connecting.)
    await expect.poll(() => port.getAttribute('aria-label')).toBe(`tcp ${server.port} 5 connections`);
    expect(await suite.page.getByTestId(`map-node-process:node (${server.pid})`).count()).toBe(1);
    await expect
      .poll(() => suite.page.getByTestId(`map-node-peer:node (${clients.pid})`).getAttribute('aria-label'))
      .toBe(`node (${clients.pid}) 5 connections`);
    await suite.page.screenshot({ path: join(SCREENSHOTS, 'map.png') });
  });

  it('filters by the filter box, and opens a port’s fan-out', async () => {
    await suite.page.getByTestId('filter').fill(String(server.port));
    await expect.poll(() => suite.page.locator('[data-testid^="map-node-tcp:"]').count()).toBe(1);
    await suite.page.getByTestId(`map-node-tcp:${server.port}`).click();
    expect(await suite.page.getByTestId('fanout').textContent()).toContain(`tcp port ${server.port}`);
    await suite.page.getByTestId('filter').fill('');
  });
});
