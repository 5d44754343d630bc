// Event mode in the real UI (root: the kernel's TCP events): a burst of connections far shorter
// than the poll interval shows as one row with the whole chain, and each opens as its timeline.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, SCREENSHOTS } from '../helpers/browser';
import { startServe, type Served } from '../helpers/serve';
import { HELPERS, Workload } from '../helpers/workload';

const root = process.getuid?.() === 0;
const workload = new Workload();
let served: Served;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!root) return;
  served = await startServe(['--interval', '2000']);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
  await page.goto(served.url);
  await page.getByTestId('status').getByText('● live').waitFor({ timeout: 10_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await workload.stop();
});

describe.skipIf(!root)('event mode in the UI', () => {
  it('shows 50 connections shorter than the 2 s poll as one burst with its chain, within 3 s', async () => {
    // The badge appears with the first resync, which may come after the socket opens ('● live').
    const badge = page.getByTestId('event-mode');
    await badge.waitFor({ timeout: 5000 });
    expect(`${await badge.textContent()} (${await badge.getAttribute('title')})`).toContain('kernel events');
    await page.getByTestId('tab-transitions').click();
    const server = await workload.start({ role: 'closeAfterPeer', host: '127.0.0.1' });
    const started = Date.now();
    await promisify(execFile)(process.execPath, [join(HELPERS, 'short-connections.cjs'), String(server.port), '50']);
    const burst = page.getByTestId('burst').filter({ hasText: `→ 127.0.0.1:${server.port}` });
    await burst.waitFor({ timeout: 3000 });
    // Drains every 200 ms may split the burst: wait until all 50 are counted.
    await page.waitForFunction(
      (port) =>
        Array.from(document.querySelectorAll('[data-testid=burst]')).some((row) =>
          row.textContent?.includes(`50 × → 127.0.0.1:${port}`),
        ),
      server.port,
      { timeout: 3000 },
    );
    console.log(`burst of 50 short connections shown ${Date.now() - started} ms after the first began`);
    expect(await burst.textContent()).toContain('SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT');
    await burst.click();
    const chain = page.getByTestId('kernel-chain');
    await chain.waitFor();
    expect(await chain.getByTestId('chain-state').allTextContents()).toEqual([
      expect.stringMatching(/^SYN_SENT/),
      expect.stringMatching(/^ESTABLISHED/),
      expect.stringMatching(/^FIN_WAIT1/),
      expect.stringMatching(/^FIN_WAIT2/),
      expect.stringMatching(/^TIME_WAIT/),
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, 'event-mode.png') });
  });
});
