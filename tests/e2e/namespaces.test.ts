// The UI across network namespaces (issue 11), in Chromium against the real `porthole serve`: a
// "container" (a namespace of its own, behind a veth pair, in Docker's cgroup layout) whose port a
// forwarder with docker-proxy's command line publishes on the host, with host clients through it.
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openServedUi, SCREENSHOTS, type ServedUi } from '../helpers/browser';
import { asNobody } from '../helpers/cli';
import { startForwarder, TestNamespaces } from '../helpers/netns';
import { eventually, Workload, type ChildInfo } from '../helpers/workload';

const namespaces = new TestNamespaces();
const workload = new Workload();
const id = 'feed'.repeat(16);
const cgroup = `/sys/fs/cgroup/pids/docker/${id}`;
let ui: ServedUi | undefined;
let page: Page;
let name: string;
let inode: number;
let link: { host: string; inside: string };
let server: ChildInfo;
let proxy: ChildInfo;
let hostPort: number;

beforeAll(async () => {
  name = namespaces.add('ui');
  inode = namespaces.inode(name);
  link = namespaces.veth(name);
  server = await namespaces.start(workload, name, { role: 'listen', host: '0.0.0.0' });
  mkdirSync(cgroup, { recursive: true });
  writeFileSync(`${cgroup}/cgroup.procs`, String(server.pid));
  ({ proxy, hostPort } = await startForwarder(workload, { address: link.inside, port: server.port! }));
  await workload.start({ role: 'connect', host: '127.0.0.1', port: hostPort, count: 3 });
  ui = await openServedUi(['--interval', '250']);
  page = ui.page;
  await page.getByTestId('tab-listeners').click(); // the map is the first view; these tests start from Listeners
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await workload.stop();
  namespaces.cleanup();
  await eventually(() => {
    try {
      rmdirSync(cgroup);
      rmdirSync('/sys/fs/cgroup/pids/docker');
      return true;
    } catch {
      return undefined;
    }
  }).catch(() => undefined);
});

describe('the UI across network namespaces', () => {
  it('groups listeners by namespace, under a heading that names the container, with the published port', async () => {
    const inside = page.getByTestId(`listener-tcp:${server.port}@${inode}`);
    await inside.waitFor();
    const heading = page.getByTestId(`namespace-${name}`);
    expect(await heading.textContent()).toContain(`${name} — docker ${id.slice(0, 12)}`);
    expect(await inside.getByTestId('published').textContent()).toContain(
      `tcp 127.0.0.1:${hostPort} → docker ${id.slice(0, 12)} ${link.inside}:${server.port}`,
    );
    // The host port the forwarder holds says where it leads.
    const onHost = page.getByTestId(`listener-tcp:${hostPort}`);
    expect(await onHost.getByTestId('published').textContent()).toContain(`${link.inside}:${server.port}`);
    expect(await onHost.getByTestId('owner').textContent()).toContain(String(proxy.pid));
    expect(await page.getByTestId('namespace-count').textContent()).toMatch(/\d+ network namespaces/);
    await page.screenshot({ path: join(SCREENSHOTS, 'namespaces-listeners.png') });
  });

  it('follows the fan-out across namespaces: host clients → published port → container listener, and back', async () => {
    await page.getByTestId(`listener-tcp:${server.port}@${inode}`).click();
    const fanout = page.getByTestId('fanout');
    expect(await fanout.getByTestId('fanout-namespace').textContent()).toBe(`in ${name}`);
    // The forwarder's 3 connections arrive from the host's end of the veth pair.
    await eventually(async () => ((await fanout.getByTestId('fanout-total').textContent()) === '3' ? true : undefined));
    const from = fanout.getByTestId('fanout-from');
    expect(await from.textContent()).toContain('(3 connected on the host side)');
    await from.getByRole('link').click();
    expect(await fanout.locator('h3').textContent()).toContain(`tcp port ${hostPort}`);
    expect(await fanout.getByTestId('fanout-total').textContent()).toBe('3');
    const to = fanout.getByTestId('fanout-to');
    expect(await to.textContent()).toContain('(3 connected inside)');
    await to.getByRole('link').click();
    expect(await fanout.getByTestId('fanout-namespace').textContent()).toBe(`in ${name}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'namespaces-fanout.png') });
  });

  it('shows the container in the process panel', async () => {
    await page.getByTestId('fanout-socket').first().click();
    await page
      .getByTestId('connection-details')
      .getByRole('link', { name: String(server.pid) })
      .click();
    expect(await page.getByTestId('process-container').textContent()).toContain(`docker ${id.slice(0, 12)}`);
  });

  it('filters every view by namespace, and shows a Namespace column in Connections', async () => {
    await page.getByTestId('namespace-filter').selectOption(name);
    await page.getByTestId('tab-listeners').click();
    await eventually(async () =>
      (await page.getByTestId(`listener-tcp:${hostPort}`).count()) === 0 ? true : undefined,
    );
    expect(await page.getByTestId(`listener-tcp:${server.port}@${inode}`).count()).toBe(1);
    await page.getByTestId('tab-connections').click();
    const cells = await page.getByTestId('row-namespace').allTextContents();
    expect(cells.length).toBeGreaterThan(0);
    expect(new Set(cells)).toEqual(new Set([name]));
    await page.getByTestId('namespace-filter').selectOption('all');
    await page.getByTestId('tab-listeners').click();
  });
});

describe('the UI run unprivileged', () => {
  it('names in the status bar the namespaces it could not enter', async () => {
    const hidden = namespaces.add('uh'); // a bind mount only: nobody cannot enter it
    const unprivileged = await openServedUi(['--interval', '250'], asNobody());
    try {
      const status = unprivileged.page.getByTestId('unreadable-namespaces');
      await status.waitFor();
      expect(await status.textContent()).toContain(hidden);
      expect(await unprivileged.page.getByTestId('hidden-namespace-processes').textContent()).toMatch(
        /\d+ process(es)? in unknown\s+namespaces/,
      );
    } finally {
      await unprivileged.close();
      namespaces.delete(hidden);
    }
  });
});
