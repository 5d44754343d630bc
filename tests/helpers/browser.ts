// Debian's Chromium driven by playwright-core (never a downloaded browser).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT } from './cli';
import { startServe } from './serve';

export const SCREENSHOTS = join(PROJECT_ROOT, 'test-results', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface ServedUi {
  page: Page;
  /** Uncaught errors of the page, since before it loaded. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** The real UI in Chromium: `porthole serve` with `serveArgs`, one page at the app's window size. */
export async function openServedUi(serveArgs: string[]): Promise<ServedUi> {
  const served = await startServe(serveArgs);
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1360, height: 860 }, acceptDownloads: true });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(served.url);
  return {
    page,
    pageErrors,
    close: async () => {
      await browser.close();
      await served.stop();
    },
  };
}
