// A table sent before its owners were looked up (stats.ownersPending: the first table of a poll
// loop) says "resolving…" where an owner will be, never "no visible owner" and never a guess. The
// machine's real table, as it would come before its owners, opened as a snapshot in headless
// Chromium against the real `porthole serve`; the live table beside it has its owners.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Snapshot } from '../../src-main/shared/contract';
import { openServedUi, type ServedUi } from '../helpers/browser';
import { runPorthole } from '../helpers/cli';
import { Workload } from '../helpers/workload';

const dir = mkdtempSync(join(tmpdir(), 'porthole-resolving-'));
const workload = new Workload();
let ui: ServedUi | undefined;
let page: Page;
let port = 0;

beforeAll(async () => {
  const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
  await workload.start({ role: 'connect', host: '127.0.0.1', port: server.port, count: 2 });
  port = server.port!;
  const file = join(dir, 'table.json');
  const written = runPorthole(['snapshot', '--format', 'json', '--output', file]);
  expect(written.status, written.stderr).toBe(0);
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  for (const s of snapshot.sockets) Object.assign(s, { pid: null, processName: null, pids: [], lastPid: null });
  snapshot.processes = [];
  snapshot.stats = { ...snapshot.stats, unattributed: 0, hiddenProcesses: 0, ownersPending: true };
  writeFileSync(file, JSON.stringify(snapshot));
  ui = await openServedUi([]);
  page = ui.page;
  await page.getByTestId('tab-connections').click();
  await page.getByTestId('connections').waitFor();
  await page.getByTestId('filter').fill(`port:${port}`);
  await page.getByTestId('connection-row').first().waitFor();
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await workload.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ownerCells = () =>
  page
    .getByTestId('connection-row')
    .evaluateAll((rows) =>
      rows.map((row) => (row.querySelector('.c-process [data-testid="owner-name"]') as HTMLElement).innerText),
    );

describe('a table sent before its owners', () => {
  it('live, after its owners are found, names them', async () => {
    // The live table's first message may still be on screen: its owners follow within a poll.
    await expect.poll(ownerCells).toEqual(Array(5).fill('node socket-child.cjs'));
    await expect(page.getByTestId('owners-resolving').count()).resolves.toBe(0);
  });

  it('says "resolving…" in every owner cell, on the process line and in the status bar', async () => {
    await page.getByTestId('tab-snapshots').click();
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('import').click()]);
    await chooser.setFiles(join(dir, 'table.json'));
    await page.getByTestId('source-bar').waitFor();
    await page.getByTestId('tab-connections').click();
    await page.getByTestId('filter').fill(`port:${port}`);
    await page.getByTestId('connection-row').first().waitFor();
    expect(await ownerCells()).toEqual(Array(5).fill('resolving…'));
    await expect(page.getByTestId('process-group').first().innerText()).resolves.toContain('resolving…');
    await expect(page.getByText('no visible owner').count()).resolves.toBe(0);
    await expect(page.getByTestId('owners-resolving').innerText()).resolves.toBe('resolving owners…');
    await page.getByTestId('tab-listeners').click();
    const row = page.getByTestId('listeners').locator('tbody tr', { hasText: `${port} tcp` });
    await expect(row.getByTestId('owner').innerText()).resolves.toBe('resolving…');
  });
});
