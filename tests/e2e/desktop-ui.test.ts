// Living with the app (issue 13), in Chromium against a real `porthole serve`: watch a port and be
// told when its owner exits; the theme and the last view are remembered for the next time the suite.page
// opens.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCREENSHOTS, servedUiSuite } from '../helpers/browser';
import { Workload } from '../helpers/workload';

const workload = new Workload();

const suite = servedUiSuite(['--interval', '250'], {
  stop: () => workload.stop(),
});

describe('living with the app', () => {
  it('watches a port from its fan-out and says when its owner is gone', async () => {
    const held = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await suite.page.getByTestId('tab-listeners').click();
    await suite.page.getByTestId(`listener-tcp:${held.port}`).click();
    await suite.page.getByTestId('watch-port').click();
    await expect.poll(() => suite.page.getByTestId('watch-port').textContent()).toContain('Stop watching');
    expect(await suite.page.getByTestId('watching').textContent()).toContain('watching 1 port');
    await workload.stop();
    const alert = suite.page.getByTestId('alert-latest');
    await alert.waitFor({ timeout: 5000 });
    expect(await alert.textContent()).toContain(`node (pid ${held.pid}), which held tcp port ${held.port}`);
    expect(await alert.textContent()).toContain('is gone');
    await suite.page.screenshot({ path: join(SCREENSHOTS, 'watch-port-alert.png') });
  });

  it('remembers the theme and the last view for the next suite.page opened', async () => {
    await suite.page.getByTestId('theme').selectOption('dark');
    expect(await suite.page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await suite.page.getByTestId('tab-connections').click();
    // The suite.page opened again in the same browser profile (its token from the server's own URL).
    await suite.page.goto(suite.ui.served.url);
    await suite.page.getByTestId('status').getByText('● live').waitFor({ timeout: 10_000 });
    expect(await suite.page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await suite.page.getByTestId('connections').waitFor();
    expect(await suite.page.getByTestId('watching').textContent()).toContain('watching 1 port');
    await suite.page.screenshot({ path: join(SCREENSHOTS, 'remembered-dark-connections.png') });
    await suite.page.getByTestId('theme').selectOption('system');
  });
});
