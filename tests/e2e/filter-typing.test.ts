// Typing in the Connections filter a key at a time narrows the last result (and reads each row's
// search text by its place in the table) instead of filtering the whole table again: the rows it
// shows must be those that filling in the whole text at once shows. On a snapshot (a table that
// does not change between keystrokes, so every keystroke narrows), in headless Chromium against
// the real `porthole serve`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Snapshot, Socket } from '../../src-main/shared/contract';
import { openServedUi, type ServedUi } from '../helpers/browser';
import { runPorthole } from '../helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'porthole-filter-'));
let ui: ServedUi | undefined;
let page: Page;

/** 3,000 connections of three made-up servers, from 10.0.<a>.<b>, beside the machine's own table. */
function madeUp(i: number): Socket {
  const server = i % 3;
  return {
    protocol: 'tcp',
    family: 4,
    localAddress: '127.0.0.1',
    localPort: 41000 + server,
    remoteAddress: `10.0.${(i >> 8) & 255}.${i & 255}`,
    remotePort: 50000 + (i % 10000),
    state: i % 7 === 0 ? 'TIME_WAIT' : 'ESTABLISHED',
    pid: i % 7 === 0 ? null : 7000 + server,
    processName: i % 7 === 0 ? null : `zq-svc-${server}`,
    uid: 1000,
    inode: i % 7 === 0 ? 0 : 900000 + i,
    pids: i % 7 === 0 ? [] : [7000 + server],
    lastPid: null,
  };
}

beforeAll(async () => {
  const file = join(dir, 'table.json');
  const written = runPorthole(['snapshot', '--format', 'json', '--output', file]);
  expect(written.status, written.stderr).toBe(0);
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  snapshot.sockets.push(...Array.from({ length: 3000 }, (_, i) => madeUp(i)));
  writeFileSync(file, JSON.stringify(snapshot));
  ui = await openServedUi([]);
  page = ui.page;
  await page.getByTestId('tab-snapshots').click();
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('import').click()]);
  await chooser.setFiles(file);
  await page.getByTestId('source-bar').waitFor();
  await page.getByTestId('tab-connections').click();
  await page.getByTestId('connections').waitFor();
}, 60_000);

afterAll(async () => {
  await ui?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** "N of M sockets", and the rows in view (their cells' text). */
async function shown(): Promise<{ count: string; rows: string[] }> {
  const count = (await page.getByTestId('row-count').textContent()) ?? '';
  const rows = await page
    .getByTestId('connection-row')
    .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).innerText.replace(/\s+/g, ' ')));
  return { count, rows };
}

describe('typing in the Connections filter', () => {
  it.each([
    // Narrows from all 3,000 to one server's 857 live rows and their leftovers, then to its peers in 10.0.1.x.
    'zq-svc-1 10.0.1.',
    // A word that every made-up row holds first (the result stays the table), then one that cuts it.
    '127.0.0.1:4100 10.0.2',
    // A term after words: terms do not narrow (port:4100 then port:41001 match other rows).
    'zq port:41001',
  ])('shows, a key at a time, what filling in "%s" at once shows', async (text) => {
    const filter = page.getByTestId('filter');
    await filter.fill('');
    await filter.pressSequentially(text, { delay: 30 });
    await page.waitForTimeout(200);
    const typed = await shown();
    await filter.fill('');
    await filter.fill(text);
    await page.waitForTimeout(200);
    const filled = await shown();
    expect(typed).toEqual(filled);
    expect(filled.rows.length).toBeGreaterThan(0);
  });

  it('counts what a key at a time narrowed to: one server, its peers in 10.0.1.x', async () => {
    const filter = page.getByTestId('filter');
    await filter.fill('');
    await filter.pressSequentially('zq-svc-1 10.0.1.', { delay: 30 });
    // Made-up rows i with i % 3 === 1, an owner (i % 7 !== 0) and i >> 8 === 1 (256 ≤ i < 512).
    const expected = Array.from({ length: 3000 }, (_, i) => i).filter(
      (i) => i % 3 === 1 && i % 7 !== 0 && i >> 8 === 1,
    ).length;
    await expect
      .poll(async () => (await page.getByTestId('row-count').textContent())?.match(/^([\d,]+) of/)?.[1])
      .toBe(String(expected));
  });
});
