// The poll loop stopped (issue 27), as people see it: the privileged helper behind `serve` is
// stopped with SIGSTOP, and the status bar says at once, in words, that the table is the last one
// read and since when; once it goes on (SIGCONT), the warning goes.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openServedUi, SCREENSHOTS, type ServedUi } from '../helpers/browser';
import { PROJECT_ROOT } from '../helpers/cli';
import { helperPid } from '../helpers/serve';

let ui: ServedUi | null = null;
let stopped: number | null = null;
afterAll(async () => {
  if (stopped !== null) process.kill(stopped, 'SIGCONT');
  await ui?.close();
});

describe('the status bar while the poll loop is stopped', () => {
  it('says the privileged helper has not answered since when, and stops saying it once it goes on', async () => {
    process.env.PORTHOLE_HELPER = `command:${JSON.stringify([process.execPath, join(PROJECT_ROOT, 'out/main/helper.js')])}`;
    try {
      ui = await openServedUi(['--interval', '500', '--no-history']);
    } finally {
      delete process.env.PORTHOLE_HELPER;
    }
    const { page } = ui;
    await expect.poll(() => page.getByTestId('socket-count').textContent(), { timeout: 10_000 }).not.toBe('0 sockets');
    stopped = helperPid(ui.served.child.pid!);
    process.kill(stopped, 'SIGSTOP');
    const warning = page.getByTestId('loop-status');
    await warning.waitFor({ timeout: 10_000 });
    expect((await warning.textContent())?.trim()).toMatch(
      /^⚠ The privileged helper has not answered since \d\d:\d\d:\d\d: the table shown is as of then\.$/,
    );
    // Visible without hovering, at the narrowest width too, in both themes.
    await page.setViewportSize({ width: 1024, height: 700 });
    expect(await warning.isVisible()).toBe(true);
    await page.getByTestId('theme').selectOption('light');
    await page.screenshot({ path: join(SCREENSHOTS, 'loop-stalled-1024-light.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.getByTestId('theme').selectOption('dark');
    await page.screenshot({ path: join(SCREENSHOTS, 'loop-stalled-1440-dark.png') });
    process.kill(stopped, 'SIGCONT');
    stopped = null;
    await warning.waitFor({ state: 'detached', timeout: 10_000 });
    // It went on by itself: not restarted.
    expect(await page.getByTestId('loop-restarts').count()).toBe(0);
  });
});
