// Sorting the Connections list by a column applies at once, not at the next poll, and the filter
// then matches the rows it shows (each row's search text is kept by its place in the sorted list).
// The poll is 10 s apart so that a click is not rescued by the next table.
import { describe, expect, it } from 'vitest';
import { servedUiSuite } from '../helpers/browser';
import { Workload, type ChildInfo } from '../helpers/workload';

const workload = new Workload();
const servers: ChildInfo[] = [];
const suite = servedUiSuite(['--interval', '10000'], {
  prepare: async () => {
    for (let i = 0; i < 3; i++) servers.push(await workload.start({ role: 'listen', host: '127.0.0.1' }));
  },
  stop: () => workload.stop(),
});

const ports = async () =>
  (await suite.page.getByTestId('connection-row').locator('.c-local').allTextContents()).map((t) =>
    Number([...t.matchAll(/:(\d+)/g)].at(-1)?.[1] ?? NaN),
  );

describe('sorting Connections', () => {
  it('orders the rows by the column clicked at once, both ways, and filters what it shows', async () => {
    await suite.page.getByTestId('tab-connections').click();
    // Flat, so the rows are in the sort's order alone.
    const byProcess = suite.page.getByLabel('by process');
    if (await byProcess.isChecked()) await byProcess.uncheck();
    await suite.page.getByTestId('filter').fill('127.0.0.1');
    await expect.poll(async () => (await ports()).length, { timeout: 10_000 }).toBeGreaterThan(2);
    const ascending = await ports();
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await suite.page.getByTestId('sort-local').click(); // the same column again: descending
    await expect
      .poll(
        async () => {
          const shown = await ports();
          return shown.length > 2 && shown.every((p, i) => i === 0 || shown[i - 1] >= p);
        },
        { timeout: 2_000 },
      )
      .toBe(true);
    // Each row shown matches the filter's words (they are looked for in the text of its own row).
    const port = String(servers[1].port);
    await suite.page.getByTestId('filter').fill(`127.0.0.1:${port}`);
    await expect.poll(async () => (await ports()).length, { timeout: 2_000 }).toBeGreaterThan(0);
    expect(new Set(await ports())).toEqual(new Set([servers[1].port]));
  });
});
