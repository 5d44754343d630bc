// The serve token stays with Porthole's own page (issue 10): after the page loads, the token is out
// of the address bar and the history, in no cookie, and a second local server the browser visits
// next receives nothing that lets it in — in its requests, or in any storage its page can read.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openServedUi, type ServedUi } from '../helpers/browser';

let ui: ServedUi | undefined;
let page: Page;
let other: Server;
let otherUrl: string;
/** Everything the second server was sent: request lines, headers, bodies. */
const received: string[] = [];

// A page that reports whatever this origin can read: cookies, local and session storage.
const SNOOP = `<!doctype html><script>
  fetch('/report', { method: 'POST', body: JSON.stringify({
    cookie: document.cookie, local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage),
    referrer: document.referrer }) }).then(() => { document.title = 'reported'; });
</script>`;

beforeAll(async () => {
  other = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push(`${request.method} ${request.url}\n${JSON.stringify(request.headers)}\n${body}`);
      response.writeHead(200, { 'content-type': 'text/html' }).end(request.url === '/report' ? 'ok' : SNOOP);
    });
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
  ui = await openServedUi(['--interval', '500']);
  page = ui.page;
}, 60_000);

afterAll(async () => {
  await ui?.close();
  other?.close();
});

describe('the serve token in a real browser', () => {
  it('is gone from the address bar and the history once the page has loaded, and in no cookie', async () => {
    const token = ui!.served.token;
    expect(page.url()).toBe(`http://127.0.0.1:${ui!.served.port}/`);
    expect(await page.evaluate(() => location.href)).not.toContain('token');
    expect(await page.context().cookies()).toEqual([]);
    expect(await page.evaluate(() => sessionStorage.getItem('porthole.token'))).toBe(token);
  });

  it('reaches no other local server the browser visits next, and the page still reconnects after', async () => {
    const token = ui!.served.token;
    await page.goto(otherUrl);
    await page.waitForFunction(() => document.title === 'reported', undefined, { timeout: 5000 });
    expect(received.length).toBeGreaterThanOrEqual(2);
    for (const request of received) expect(request).not.toContain(token);
    const report = JSON.parse(received.find((r) => r.startsWith('POST /report'))!.split('\n')[2]) as Record<
      string,
      string
    >;
    expect(report).toEqual({ cookie: '', local: '{}', session: '{}', referrer: '' });

    // Back on Porthole's page (no token in its URL now): the tab's own storage lets it in again.
    await page.goBack();
    await page.getByTestId('status').getByText('● live').waitFor({ timeout: 10_000 });
  });
});
