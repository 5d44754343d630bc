// Debian's Chromium driven by playwright-core (never a downloaded browser).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
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
    // Open means live: the page has its first table, which every test starts from.
    await page.getByTestId('status').getByText('● live').waitFor({ timeout: 10_000 });
    return { page, served, pageErrors, close };
  } catch (error) {
    // No browser, or the page would not load: the server must not outlive the test.
    await close();
    throw error;
  }
}

/**
 * The real UI for one test file: `porthole serve` with `serveArgs` and Chromium, opened (live)
 * before the file's tests — after `prepare`, e.g. the sockets the page should find — and closed
 * after them, with `stop` (a workload) after that.
 */
export function servedUiSuite(
  serveArgs: string[],
  options: { prepare?: () => Promise<void>; stop?: () => Promise<void> } = {},
): { ui: ServedUi; page: Page } {
  const suite = {} as { ui: ServedUi; page: Page };
  beforeAll(async () => {
    await options.prepare?.();
    suite.ui = await openServedUi(serveArgs);
    suite.page = suite.ui.page;
  }, 60_000);
  afterAll(async () => {
    await suite.ui?.close();
    await options.stop?.();
  });
  return suite;
}

/** axe's serious and critical violations on the page now, one line each (axe injected on first use). */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  // The page's CSP refuses inline scripts; axe is evaluated through the browser's own protocol.
  if (!(await page.evaluate(() => 'axe' in globalThis)))
    await page.evaluate(readFileSync(join(PROJECT_ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  // Runs in the page (globalThis is its window; this file is also type-checked without the DOM).
  return page.evaluate(async () => {
    const { axe, document } = globalThis as unknown as {
      document: unknown;
      axe: {
        run(context: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }>;
      };
    };
    const result = await axe.run(document);
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}
