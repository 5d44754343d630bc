// The real UI in headless Chromium against the real `porthole serve`, watching real loopback
// sockets: a listener with 12 clients, connections stuck in SYN_SENT, and a connection that closes.
// Every change must show within 3 s. Screenshots of each view go to test-results/screenshots.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openServedUi, SCREENSHOTS, type ServedUi } from '../helpers/browser';
import { Workload, type ChildInfo } from '../helpers/workload';

const WITHIN = 3000;
const workload = new Workload();
let ui: ServedUi | undefined;
let page: Page;
let pageErrors: string[];

async function until(check: () => Promise<boolean>, what: string, timeout = WITHIN): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeout) throw new Error(`${what}: not shown within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });

beforeAll(async () => {
  ui = await openServedUi(['--interval', '250']);
  ({ page, pageErrors } = ui);
  await page.getByTestId('tab-listeners').click(); // the map is the first view; these tests start from Listeners
  await page.waitForFunction(
    () => !document.querySelector('[data-testid=socket-count]')?.textContent?.startsWith('0 '),
  );
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await workload.stop();
});

describe('the live UI in Chromium', () => {
  let server: ChildInfo;
  let clients: ChildInfo;

  it('shows the poll interval the host runs at (serve --interval 250), not a default', async () => {
    expect(await page.getByLabel('Poll interval').inputValue()).toBe('250');
  });

  it('says in the status bar how the socket table is read (netlink here, as root on Linux)', async () => {
    const engine = page.getByTestId('engine');
    await engine.waitFor({ timeout: 5000 });
    expect(await engine.textContent()).toBe('netlink');
    expect(await engine.getAttribute('title')).toContain('netlink sock_diag');
  });

  it('shows a new listener with its owning pid and its 12 connections within 3 s', async () => {
    server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    clients = await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 12 });
    const row = page.getByTestId(`listener-tcp:${server.port}`);
    await until(
      async () => (await row.count()) === 1 && (await row.getByTestId('connection-count').textContent()) === '12',
      'listener with 12 connections',
    );
    expect(await row.getByTestId('owner').textContent()).toContain(String(server.pid));
    expect(await row.textContent()).toContain('loopback');
    await shot('listeners');
  });

  it('opens the port\u2019s fan-out: 12 sockets, each told apart by its remote end', async () => {
    await page.getByTestId(`listener-tcp:${server.port}`).click();
    await until(async () => (await page.getByTestId('fanout-total').textContent()) === '12', 'fan-out of 12');
    // The address itself: the peer's name (localhost, from /etc/hosts) follows it once resolved.
    const remotes = await page.getByTestId('fanout-socket').locator('td:first-child .address').allTextContents();
    expect(remotes).toHaveLength(12);
    expect(new Set(remotes).size).toBe(12);
    for (const port of clients.localPorts!) expect(remotes).toContain(`127.0.0.1:${port}`);
    await shot('fanout');
  });

  it('shows connections waiting in SYN_SENT within 3 s', async () => {
    const backlog = await workload.neverAccepting('127.0.0.1');
    await workload.start({ role: 'connectPending', host: '127.0.0.1', port: backlog.port, count: 4 });
    await page.getByTestId('tab-connections').click();
    await page.getByTestId('filter').fill(`127.0.0.1:${backlog.port} SYN_SENT`);
    await until(async () => (await page.getByTestId('connection-row').count()) >= 1, 'SYN_SENT row', 5000);
    expect(await page.getByTestId('connection-row').first().textContent()).toContain('SYN_SENT');
    await shot('connections-syn-sent');
  });

  it('follows a closing connection through its states to TIME_WAIT within 3 s', async () => {
    const target = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const client = await workload.start({ role: 'connect', host: '127.0.0.1', port: target.port, count: 1 });
    const local = `127.0.0.1:${client.localPorts![0]}`;
    await page.getByTestId('filter').fill(`${local} 127.0.0.1:${target.port}`);
    // Both ends match: pick the client's, whose local end is `local`.
    const clientRow = page.getByTestId('connection-row').filter({ has: page.locator('.c-local', { hasText: local }) });
    await until(async () => (await clientRow.count()) === 1, 'the connection');
    await clientRow.click();
    await until(async () => (await page.getByTestId('timeline-state').count()) >= 1, 'its timeline');
    expect(await page.getByTestId('timeline-state').first().textContent()).toContain('ESTABLISHED');

    process.kill(client.pid, 'SIGUSR2'); // the client closes first: its side ends in TIME_WAIT
    const took = await until(
      async () => ((await page.getByTestId('timeline-state').last().textContent()) ?? '').includes('TIME_WAIT'),
      'TIME_WAIT in the timeline',
    );
    const states = await page.getByTestId('timeline-state').allTextContents();
    expect(states[0]).toContain('ESTABLISHED');
    expect(states.at(-1)).toContain('TIME_WAIT');
    expect(took).toBeLessThanOrEqual(WITHIN);
    expect(await page.getByTestId('connection-details').textContent()).toContain(`last held by pid ${client.pid}`);
    await shot('connection-timeline');

    await page.getByTestId('filter').fill(`${local} 127.0.0.1:${target.port}`);
    await page.getByTestId('tab-transitions').click();
    await until(async () => ((await page.getByTestId('feed').textContent()) ?? '').includes('TIME_WAIT'), 'the feed');
    await shot('transitions');
  });

  it('runs the renderer without Node: no require, no process; the CSP blocks inline script', async () => {
    expect(
      await page.evaluate(() => [
        typeof (window as unknown as { require?: unknown }).require,
        typeof (window as unknown as { process?: unknown }).process,
      ]),
    ).toEqual(['undefined', 'undefined']);
    const violated = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true });
          const script = document.createElement('script');
          script.textContent = 'window.__inlineRan = true';
          document.body.appendChild(script);
          setTimeout(() => resolve('no violation'), 1000);
        }),
    );
    expect(violated).toMatch(/^script-src/);
    expect(await page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan)).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });

  it('keyboard: / focuses the filter, arrows move, Enter opens details', async () => {
    await page.getByTestId('tab-connections').click();
    await page.getByTestId('filter').fill('');
    await page.getByTestId('filter').blur();
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('filter');
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByTestId('connection-details').waitFor({ timeout: WITHIN });
  });
});
