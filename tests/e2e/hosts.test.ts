// Several machines side by side in one UI (serve --source), in Chromium: two "machines" (network
// namespaces, each with its own `porthole serve` and token, reached through a tunnel as over
// `ssh -L`) linked to each other, alpha's client talking to beta's server. The page shows each
// machine's state, a Host column and filter, and beta's port's fan-out names the process at the
// other end on alpha. alpha killed mid-stream turns stale in the page.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openServedUi, SCREENSHOTS, seriousAxeViolations, type ServedUi } from '../helpers/browser';
import { Machines, type Machine } from '../helpers/machines';
import { TestNamespaces } from '../helpers/netns';
import { eventually, Workload, type ChildInfo } from '../helpers/workload';

const root = process.getuid?.() === 0;

describe.runIf(root)('several machines in one UI', () => {
  const namespaces = new TestNamespaces();
  const workload = new Workload();
  const machines = new Machines(namespaces, workload);
  let alpha: Machine;
  let beta: Machine;
  let link: { a: string; b: string };
  let server: ChildInfo;
  let client: ChildInfo;
  let ui: ServedUi | undefined;
  let page: Page;

  beforeAll(async () => {
    [alpha, beta] = await Promise.all([machines.add('alpha'), machines.add('beta')]);
    link = machines.link(alpha, beta);
    server = await namespaces.start(workload, beta.netns, { role: 'listen', host: link.b });
    client = await namespaces.start(workload, alpha.netns, {
      role: 'connect',
      host: link.b,
      port: server.port,
      count: 3,
    });
    ui = await openServedUi(['--interval', '500', '--source', `alpha=${alpha.url}`, '--source', `beta=${beta.url}`]);
    page = ui.page;
  }, 90_000);

  afterAll(async () => {
    await ui?.close();
    await machines.stop();
    await workload.stop();
    namespaces.cleanup();
  }, 60_000);

  it('shows every machine’s state, and its listeners side by side with a Host column', async () => {
    for (const name of ['alpha', 'beta'])
      await page.locator(`[data-testid="host-${name}"][data-state="connected"]`).waitFor({ timeout: 30_000 });
    await page.getByTestId('tab-listeners').click();
    const row = page.getByTestId(`listener-tcp:${server.port}#beta`);
    await row.waitFor({ timeout: 15_000 });
    expect((await row.getByTestId('listener-host').textContent())?.trim()).toBe('beta');
    expect(await row.getByTestId('owner').textContent()).toContain(String(server.pid));
    // This machine's listeners are there too, under its own name.
    const local = (await page.getByTestId('host-local').textContent())!.trim().split(/\s+/)[1];
    await page.getByTestId('listener-host').filter({ hasText: local }).first().waitFor();
    expect(await page.getByTestId('listener-host').filter({ hasText: local }).count()).toBeGreaterThan(0);
    // The Port Doctor frees ports on this machine only: a source's listener has no Doctor button.
    expect(await row.getByRole('button', { name: 'Doctor' }).count()).toBe(0);
  });

  it('draws beta’s port with its peers named by the process at the other end, on alpha', async () => {
    await page.getByTestId(`listener-tcp:${server.port}#beta`).click();
    const fanout = page.getByTestId('fanout');
    expect(await fanout.getByTestId('fanout-host').textContent()).toBe('on beta');
    await eventually(
      async () => ((await fanout.getByTestId('fanout-total').textContent()) === '3' ? true : undefined),
      15_000,
    );
    const group = fanout.getByTestId('fanout-group');
    await eventually(async () => ((await group.count()) === 1 ? true : undefined), 15_000);
    // A source is connected from its first message, the table before its first poll: its clients
    // (the other ends) arrive a poll later, and the group is named then.
    const named = `${link.a} · node (${client.pid}) on alpha 3 connections`;
    await eventually(async () => ((await group.getAttribute('aria-label')) === named ? true : undefined), 15_000);
    expect(await group.getAttribute('aria-label')).toBe(named);
    await page.screenshot({ path: join(SCREENSHOTS, 'hosts-side-by-side.png') });
  });

  it('filters to one machine, in the Connections view and the map', async () => {
    await page.getByTestId('tab-connections').click();
    await page.getByTestId('host-filter').selectOption('alpha');
    await page.getByTestId('filter').fill(link.b);
    const hosts = page.getByTestId('row-host');
    // alpha's three clients (and, as alpha's serve runs as root, beta's namespace read from alpha too).
    await eventually(async () => ((await hosts.count()) >= 3 ? true : undefined), 15_000);
    expect(new Set(await hosts.allTextContents())).toEqual(new Set(['alpha']));
    expect(await page.getByTestId('row-count').textContent()).toMatch(/^\d+ of \d+ sockets$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'hosts-connections.png') });
    // The map of beta: its port, and the process on alpha as the peer.
    await page.getByTestId('host-filter').selectOption('beta');
    await page.getByTestId('filter').fill(String(server.port));
    await page.getByTestId('tab-map').click();
    const map = page.getByTestId('machine-map');
    await map.getByText(`tcp ${server.port} on beta`).waitFor({ timeout: 15_000 });
    await map.getByText(`node (${client.pid}) on alpha`).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'hosts-map.png') });
    await page.getByTestId('host-filter').selectOption({ label: 'all machines' });
    await page.getByTestId('filter').fill('');
  });

  it('marks a machine killed mid-stream stale with its reason, and connected again once it is back', async () => {
    alpha.kill();
    const chip = page.locator('[data-testid="host-alpha"][data-state="stale"]');
    await chip.waitFor({ timeout: 20_000 });
    expect(await chip.getByTestId('host-reason').textContent()).toMatch(/connection lost/);
    await page.locator('[data-testid="host-beta"][data-state="connected"]').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'hosts-stale.png') });
    // Its rows stay, said to be not current.
    await page.getByTestId('tab-listeners').click();
    await page.getByTestId('listener-host').filter({ hasText: 'alpha (not current)' }).first().waitFor();
    expect(
      await page
        .getByTestId('listener-host')
        .filter({ hasText: /^\s*beta\s*$/ })
        .count(),
    ).toBeGreaterThan(0);
    // The machines bar and the Host column keep to the same contrast and naming rules, both themes.
    for (const theme of ['light', 'dark'] as const) {
      await page.getByTestId('theme').selectOption(theme);
      expect(await seriousAxeViolations(page), theme).toEqual([]);
    }
    await page.getByTestId('theme').selectOption('system');
    // Started again (this also clears the kernel-event instance the killed one left).
    await alpha.restart();
    await page.locator('[data-testid="host-alpha"][data-state="connected"]').waitFor({ timeout: 40_000 });
    expect(ui!.pageErrors).toEqual([]);
  }, 90_000);
});
