// Layout (issue 14, part 3), in Chromium: a details panel belongs to its view; the panel widens
// (drag or keyboard) and a cut-off value is whole on hover; Unix sockets have their own columns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCREENSHOTS, servedUiSuite } from '../helpers/browser';
import { Workload, type ChildInfo } from '../helpers/workload';

const workload = new Workload();
const dir = mkdtempSync(join(tmpdir(), 'porthole-layout-'));
const unixPath = join(dir, 'a-rather-long-name-for-a-unix-socket-so-that-it-needs-room.sock');
let server: ChildInfo;

const suite = servedUiSuite(['--interval', '500'], {
  prepare: async () => {
    server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 2 });
    await workload.start({ role: 'unixListen', path: unixPath });
  },
  stop: async () => {
    await workload.stop();
    rmSync(dir, { recursive: true, force: true });
  },
});

describe('layout', () => {
  it('keeps each view’s details panel with its view', async () => {
    await suite.page.getByTestId('tab-listeners').click();
    await suite.page.getByTestId(`listener-tcp:${server.port}`).click();
    await suite.page.getByTestId('fanout').waitFor();
    await suite.page.getByTestId('tab-connections').click();
    expect(await suite.page.getByTestId('details').count()).toBe(0);
    await suite.page.getByTestId('tab-listeners').click();
    expect(await suite.page.getByTestId('fanout').textContent()).toContain(`tcp port ${server.port}`);
  });

  it('widens the details panel by keyboard, and shows a cut-off value whole on hover', async () => {
    const width = async () => (await suite.page.getByTestId('details').boundingBox())!.width;
    const before = await width();
    await suite.page.getByTestId('panel-resizer').focus();
    for (let i = 0; i < 5; i++) await suite.page.keyboard.press('ArrowLeft');
    expect(await width()).toBeGreaterThanOrEqual(before + 100 - 1);
    const owner = suite.page.getByTestId('fanout-process').first().locator('.owner-text');
    expect(await owner.getAttribute('title')).toMatch(/node .*\(pid \d+\)/);
    await suite.page.screenshot({ path: join(SCREENSHOTS, 'layout-wide-panel.png') });
  });

  it('lists Unix sockets in their own table: path, type, owner — not in the Port column', async () => {
    const row = suite.page.getByTestId(`unix-listener-${unixPath}`);
    await row.waitFor({ timeout: 5000 });
    expect(await row.getByTestId('unix-type').textContent()).toBe('stream');
    expect(await row.textContent()).toContain('node');
    expect(await suite.page.getByTestId('listeners').textContent()).not.toContain(unixPath);
    await row.scrollIntoViewIfNeeded();
    await suite.page.screenshot({ path: join(SCREENSHOTS, 'layout-unix-listeners.png') });
  });
});
