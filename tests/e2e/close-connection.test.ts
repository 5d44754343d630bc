// Closing one connection from the UI (root): the confirmation names both ends and the owner,
// Cancel leaves it open, Close aborts it (its process gets ECONNABORTED, the peer a reset).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openServedUi, SCREENSHOTS, type ServedUi } from '../helpers/browser';
import { HELPERS } from '../helpers/workload';

const root = process.getuid?.() === 0;
let ui: ServedUi | undefined;
let page: Page;
let holder: ChildProcess | undefined;

beforeAll(async () => {
  if (!root) return;
  ui = await openServedUi(['--interval', '250']);
  page = ui.page;
}, 60_000);

afterAll(async () => {
  holder?.kill('SIGKILL');
  await ui?.close();
});

describe.skipIf(!root)('closing a connection in the UI', () => {
  it('asks with both ends and the owner, and closes only that connection', async () => {
    holder = spawn('python3', [join(HELPERS, 'abort-pair.py')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: holder.stdout! })[Symbol.asyncIterator]();
    const conn = JSON.parse((await lines.next()).value as string) as {
      pid: number;
      listenPort: number;
      clientPort: number;
    };
    const outcome = lines.next().then((l) => (l.done ? {} : (JSON.parse(l.value as string) as Record<string, string>)));
    const local = `127.0.0.1:${conn.clientPort}`;
    const remote = `127.0.0.1:${conn.listenPort}`;

    await page.getByTestId('tab-connections').click();
    await page.getByTestId('filter').fill(`${local} ${remote}`);
    // Both ends shown with their owner before one is picked: an end whose owner is found a poll
    // later moves into its process's group, and a click aimed at one row landed on the other.
    const owners = page.getByTestId('connection-row').locator('.c-process .pid');
    await expect
      .poll(async () => (await owners.allTextContents()).filter((t) => t === String(conn.pid)).length)
      .toBe(2);
    const row = page.getByTestId('connection-row').filter({ has: page.locator('.c-local', { hasText: local }) });
    await row.first().click();
    await page.getByTestId('close-connection').click();
    const dialog = page.getByTestId('close-confirm');
    expect(await dialog.textContent()).toContain(`tcp ${local} → ${remote}`);
    expect(await dialog.textContent()).toContain(`python3 (pid ${conn.pid})`);
    await page.screenshot({ path: join(SCREENSHOTS, 'close-connection-confirm.png') });
    await page.getByTestId('close-cancel').click();
    expect(await page.getByTestId('close-confirm').count()).toBe(0);

    await page.getByTestId('close-connection').click();
    await page.getByTestId('close-confirm-button').click();
    const result = page.getByTestId('close-result');
    await result.waitFor({ timeout: 5000 });
    expect(await result.textContent()).toContain(`Closed tcp ${local} → ${remote}`);
    expect(await outcome).toEqual({ client: 'ECONNABORTED', server: 'ECONNRESET' });
  });
});
