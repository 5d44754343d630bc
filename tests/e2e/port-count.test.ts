// One count per port, in Chromium: a port with 4 live connections and 30 ended ones left in
// TIME_WAIT on its side reads 4 in Listeners, its fan-out and the map, and its leftovers are a
// separate, named count (views.ts's isLiveConnection is the one definition). Screenshots at
// 1024×700 and 1440×900 in both themes.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCREENSHOTS, servedUiSuite } from '../helpers/browser';
import { eventually, Workload } from '../helpers/workload';

const ended = new Workload();
const live = new Workload();
const ENDED = 30;
const LIVE = 4;
let port = 0;

const suite = servedUiSuite(['--interval', '500'], {
  prepare: async () => {
    // A server that closes first: each connection's server side lingers in TIME_WAIT on its port.
    const closing = await ended.start({ role: 'halfCloseServer', host: '127.0.0.1' });
    port = closing.port!;
    await ended.start({ role: 'connect', host: '127.0.0.1', port, count: ENDED });
    await eventually(() => {
      const out = execFileSync('ss', ['-Htan', 'state', 'time-wait', `sport = :${port}`], { encoding: 'utf8' });
      return out.trim().split('\n').filter(Boolean).length === ENDED ? true : undefined;
    }, 10_000);
    await ended.stop();
    // The same port listened on again (SO_REUSEADDR, as Node sets it), with live clients.
    await live.start({ role: 'listen', host: '127.0.0.1', port });
    await live.start({ role: 'connect', host: '127.0.0.1', port, count: LIVE });
  },
  stop: () => live.stop(),
});

describe('Connections', () => {
  it('opens on TCP and UDP; Unix sockets are a choice of their own', async () => {
    const page = suite.page;
    await page.getByTestId('tab-connections').click();
    const protocols = () => page.getByTestId('connection-row').locator('.c-protocol').allTextContents();
    await expect.poll(async () => (await protocols()).length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect((await protocols()).filter((p) => !/^(tcp|udp)6?$/.test(p))).toEqual([]);
    await page.getByTestId('quick-protocol').selectOption('unix');
    // Chromium itself holds Unix sockets: there are always some to show.
    await expect.poll(async () => (await protocols()).every((p) => p.startsWith('unix'))).toBe(true);
    expect((await protocols()).length).toBeGreaterThan(0);
    await page.getByTestId('quick-protocol').selectOption('inet');
  });

  it('is a grid to assistive technology: headers, and each rendered row where it stands', async () => {
    const page = suite.page;
    const grid = page.getByRole('grid', { name: 'Connections' });
    // Grouped by process (the default): a header row per process, its cell across every column.
    const header = grid.getByTestId('process-group').first();
    expect(await header.getByRole('gridcell').count()).toBe(1);
    expect(Number(await header.getByRole('gridcell').getAttribute('aria-colspan'))).toBe(
      await grid.getByRole('columnheader').count(),
    );
    expect(await header.getByRole('button').getAttribute('aria-expanded')).toBe('true');
    // Flat: a row per socket.
    await page.getByTestId('group-by-process').uncheck();
    const shown = Number((await page.getByTestId('row-count').textContent())!.split(' ')[0]);
    expect(Number(await grid.getAttribute('aria-rowcount'))).toBe(shown + 1);
    expect(await grid.getByRole('columnheader').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('Process'), expect.stringContaining('Remote')]),
    );
    expect(await grid.getByRole('columnheader', { name: /Local/ }).getAttribute('aria-sort')).toBe('ascending');
    const rows = grid.getByRole('row');
    expect(await rows.first().getAttribute('aria-rowindex')).toBe('1');
    expect(await rows.nth(1).getAttribute('aria-rowindex')).toBe('2');
    expect(await rows.nth(1).getByRole('gridcell').count()).toBe(await grid.getByRole('columnheader').count());
    await page.getByTestId('group-by-process').check();
  });
});

describe('names people read', () => {
  it('shows a registered port by its service name, in Listeners and its fan-out', async () => {
    const page = suite.page;
    // The first of these a test may bind now (a real PostgreSQL or Redis may hold one).
    let known: { port: number; name: string } | null = null;
    for (const [port, name] of [
      [5432, 'postgresql'],
      [6379, 'redis'],
      [3306, 'mysql'],
      [5672, 'amqp'],
    ] as const) {
      try {
        await live.start({ role: 'listen', host: '127.0.0.1', port });
        known = { port, name };
        break;
      } catch {
        // taken: the next
      }
    }
    expect(known, 'one of 5432, 6379, 3306, 5672 free to bind').not.toBeNull();
    await page.getByTestId('tab-listeners').click();
    const row = page.getByTestId(`listener-tcp:${known!.port}`);
    await expect.poll(() => row.getByTestId('service-name').textContent(), { timeout: 10_000 }).toContain(known!.name);
    // Whole, inside its cell: a name cut short is no name.
    const name = (await row.getByTestId('service-name').boundingBox())!;
    const cell = (await row.locator('td.port').boundingBox())!;
    expect(name.x + name.width).toBeLessThanOrEqual(cell.x + cell.width + 0.5);
    expect(await row.getByTestId('service-name').evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
    await row.click();
    expect(await page.getByTestId('fanout-service').textContent()).toBe(`(${known!.name})`);
  });
});

describe('one count per port', () => {
  it('reads the live connections in Listeners, the fan-out and the map; ended ones apart', async () => {
    const page = suite.page;
    await page.getByTestId('tab-listeners').click();
    const row = page.getByTestId(`listener-tcp:${port}`);
    await expect.poll(() => row.getByTestId('connection-count').textContent(), { timeout: 10_000 }).toBe(String(LIVE));
    expect((await row.getByTestId('leftover-count').textContent())?.trim()).toMatch(new RegExp(`^\\+ ${ENDED} ended$`));
    await row.click();
    const fanout = page.getByTestId('fanout');
    await expect.poll(() => fanout.getByTestId('fanout-total').textContent()).toBe(String(LIVE));
    expect(await fanout.getByTestId('fanout-leftovers').textContent()).toContain(`${ENDED} ended`);
    for (const [width, height] of [
      [1024, 700],
      [1440, 900],
    ])
      for (const theme of ['light', 'dark'] as const) {
        await page.setViewportSize({ width, height });
        await page.emulateMedia({ colorScheme: theme });
        await page.screenshot({ path: join(SCREENSHOTS, `port-count-${width}-${theme}.png`) });
        // The status bar stays one line, nothing pushed out of it.
        const status = page.getByTestId('status');
        expect((await status.boundingBox())!.height, `status bar at ${width} px`).toBeLessThan(40);
        expect(await status.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
      }
    await page.emulateMedia({ colorScheme: null });
    await page.getByTestId('tab-map').click();
    await expect
      .poll(() => page.getByTestId(`map-node-tcp:${port}`).getAttribute('aria-label'))
      .toBe(`tcp ${port} ${LIVE} connections`);
  });
});
