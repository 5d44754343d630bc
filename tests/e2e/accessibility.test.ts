// Accessibility and themes (issue 14): axe-core in Chromium on every view, light and dark, with a
// port's details open: no serious or critical violation; the controls reachable by keyboard with
// a visible focus; a screenshot of every view in both themes.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openServedUi, SCREENSHOTS, seriousAxeViolations, type ServedUi } from '../helpers/browser';
import { Workload } from '../helpers/workload';

const VIEWS = ['map', 'listeners', 'connections', 'transitions', 'doctor', 'snapshots'] as const;
const workload = new Workload();
let ui: ServedUi | undefined;
let page: Page;
let port: number;

beforeAll(async () => {
  const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
  await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 3 });
  port = server.port!;
  ui = await openServedUi(['--interval', '500']);
  page = ui.page;
}, 60_000);

afterAll(async () => {
  await page
    ?.getByTestId('theme')
    .selectOption('system')
    .catch(() => undefined);
  await ui?.close();
  await workload.stop();
});

const seriousViolations = () => seriousAxeViolations(page);

describe('accessibility', () => {
  for (const theme of ['light', 'dark'] as const)
    it(`has no serious or critical axe violation on any view, ${theme}`, async () => {
      await page.getByTestId('theme').selectOption(theme);
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
      for (const view of VIEWS) {
        await page.getByTestId(`tab-${view}`).click();
        await page.waitForTimeout(200);
        expect(await seriousViolations(), `${view}, ${theme}`).toEqual([]);
        await page.screenshot({ path: join(SCREENSHOTS, `view-${view}-${theme}.png`) });
      }
      // With a port's details open too.
      await page.getByTestId('tab-listeners').click();
      await page.getByTestId(`listener-tcp:${port}`).click();
      await page.getByTestId('fanout').waitFor();
      expect(await seriousViolations(), `port details, ${theme}`).toEqual([]);
      await page.screenshot({ path: join(SCREENSHOTS, `view-port-details-${theme}.png`) });
    });

  it('reaches the view tabs and the filter by keyboard, with a visible focus', async () => {
    // Reached by the keyboard (a focus the keyboard moved is the one shown).
    await page.getByTestId('tab-listeners').focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { id: el.dataset.testid, outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    expect(outline.id).toBe('tab-listeners');
    expect(outline.outline).not.toBe('none');
    expect(outline.width).toBeGreaterThan(0);
    // Tab moves on through the tabs to the next control; Enter opens a view.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.testid)).toBe('tab-connections');
    await page.keyboard.press('Enter');
    await page.getByTestId('connections').waitFor();
  });
});
