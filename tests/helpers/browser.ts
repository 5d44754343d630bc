// Debian's Chromium driven by playwright-core (never a downloaded browser).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT } from './cli';
import { startServe, type Served } from './serve';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findChromium } = require('../../scripts/test-prerequisites.cjs') as { findChromium(): string | null };

export const SCREENSHOTS = join(PROJECT_ROOT, 'test-results', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const executablePath = findChromium();
  if (!executablePath) throw new Error('No Chromium found: apt-get install chromium, or set CHROME_PATH');
  return chromium.launch({
    executablePath,
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
  served: Served;
  /** Uncaught errors of the page, since before it loaded. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** The real UI in Chromium: `porthole serve` with `serveArgs`, one page at the app's window size. */
export async function openServedUi(serveArgs: string[], prefix: string[] = []): Promise<ServedUi> {
  const served = await startServe(serveArgs, [], prefix);
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close().catch(() => {});
    await served.stop();
  };
  try {
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1360, height: 860 }, acceptDownloads: true });
    // A step that cannot happen fails with its locator named, well before the test's own timeout.
    page.setDefaultTimeout(10_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(served.url);
    return { page, served, pageErrors, close };
  } catch (error) {
    // No browser, or the page would not load: the server must not outlive the test.
    await close();
    throw error;
  }
}
