// A process may name itself anything: a name ending in U+202E (RIGHT-TO-LEFT OVERRIDE) made its
// pid read backwards in the browser UI, and ESC or a newline reached the page raw. The real UI in
// Chromium, a real process renamed with prctl: every view shows the escaped form the CLI prints.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openServedUi, type ServedUi } from '../helpers/browser';
import { HELPERS, Workload } from '../helpers/workload';

const workload = new Workload();
let ui: ServedUi | undefined;
let page: Page;
// 15 bytes at most (comm): "ev\x1bl" then U+202E (3 bytes) then "x".
const NAME = 'ev\u001bil\u202ex';
let held: { pid: number; port: number };

beforeAll(async () => {
  held = (await workload.run('python3', [join(HELPERS, 'named-listener.py'), NAME])) as unknown as typeof held;
  ui = await openServedUi(['--interval', '250']);
  page = ui.page;
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await workload.stop();
});

/** Every text node and attribute value of the page: where a raw control or bidi character could hide. */
const pageText = () =>
  page.evaluate(() => {
    const parts: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent ?? '');
      else for (const attribute of Array.from((node as Element).attributes)) parts.push(attribute.value);
    }
    return parts.join('\n');
  });
const RAW = /[\u001b\u202e]/;

describe('a hostile process name in the UI', () => {
  it('shows it escaped in Listeners and Connections, its pid whole', async () => {
    await page.getByTestId('tab-listeners').click();
    const row = page.getByTestId(`listener-tcp:${held.port}`);
    await row.waitFor({ timeout: 10_000 });
    // The row names it by its command line (python3 named-listener.py NAME), cut to fit; the whole
    // of it, on hover, escaped; the pid whole beside it.
    expect(await row.textContent()).toContain(String(held.pid));
    const text = await pageText();
    expect(text).toContain('ev\\x1bil\\u202ex');
    expect(text).not.toMatch(RAW);

    await page.getByTestId('tab-connections').click();
    await page.getByTestId('filter').fill(`port:${held.port}`);
    const process = page.getByTestId('connections').getByText(String(held.pid)).first();
    await process.waitFor({ timeout: 5000 });
    expect(await pageText()).toContain('ev\\x1bil\\u202ex');
    expect(await pageText()).not.toMatch(RAW);
  });

  it('shows it escaped in the Port Doctor, which names the owner', async () => {
    await page.getByTestId('tab-listeners').click();
    await page.getByTestId(`doctor-tcp:${held.port}`).click();
    await page.getByTestId('doctor-summary').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('doctor-listener').textContent()).toContain('ev\\x1bil\\u202ex');
    expect(await pageText()).not.toMatch(RAW);
  });
});
