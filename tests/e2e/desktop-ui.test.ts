// Living with the app (issue 13), in Chromium against a real `porthole serve`: watch a port and be
// told when its owner exits; the theme and the last view are remembered for the next time the page
// opens.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openServedUi, SCREENSHOTS, type ServedUi } from '../helpers/browser';
import { Workload } from '../helpers/workload';

const workload = new Workload();
let ui: ServedUi | undefined;
let page: Page;

beforeAll(async () => {
  ui = await openServedUi(['--interval', '250']);
  page = ui.page;
  await page.getByTestId('status').getByText('● live').waitFor({ timeout: 10_000 });
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await workload.stop();
});

describe('living with the app', () => {
  it('watches a port from its fan-out and says when its owner is gone', async () => {
    const held = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await page.getByTestId('tab-listeners').click();
    await page.getByTestId(`listener-tcp:${held.port}`).click();
    await page.getByTestId('watch-port').click();
    await expect.poll(() => page.getByTestId('watch-port').textContent()).toContain('Stop watching');
    expect(await page.getByTestId('watching').textContent()).toContain('watching 1 port');
    await workload.stop();
    const alert = page.getByTestId('alert-latest');
    await alert.waitFor({ timeout: 5000 });
    expect(await alert.textContent()).toContain(`node (pid ${held.pid}), which held tcp port ${held.port}`);
    expect(await alert.textContent()).toContain('is gone');
    await page.screenshot({ path: join(SCREENSHOTS, 'watch-port-alert.png') });
  });

  it('remembers the theme and the last view for the next page opened', async () => {
    await page.getByTestId('theme').selectOption('dark');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.getByTestId('tab-connections').click();
    // The page opened again in the same browser profile (its token from the server's own URL).
    await page.goto(ui!.served.url);
    await page.getByTestId('status').getByText('● live').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.getByTestId('connections').waitFor();
    expect(await page.getByTestId('watching').textContent()).toContain('watching 1 port');
    await page.screenshot({ path: join(SCREENSHOTS, 'remembered-dark-connections.png') });
    await page.getByTestId('theme').selectOption('system');
  });
});
