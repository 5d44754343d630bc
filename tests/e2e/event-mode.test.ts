// Event mode in the real UI (root: the kernel's TCP events): a burst of connections far shorter
// than the poll interval shows as one row with the whole chain, and each opens as its timeline;
// exports carry the chains, and an exported file shows them again.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openServedUi, SCREENSHOTS, type ServedUi } from '../helpers/browser';
import { HELPERS, Workload, type ChildInfo } from '../helpers/workload';
import type { ConnectionChain, Snapshot } from '../../src-main/shared/contract';
import { chainPath, chainWithDurations } from '../../src-main/track/connection-chains';
import { LISTED_CHAINS } from '../../src-main/export/formats';
import { formatEndpoint } from '../../src-main/track/identity';

const root = process.getuid?.() === 0;
const workload = new Workload();
let ui: ServedUi | undefined;
let page: Page;
let server: ChildInfo;
/** The client ports of the test's own 50 connections: with the server's endpoint, their whole identity. */
let clientPorts: Set<number>;
const dir = mkdtempSync(join(tmpdir(), 'porthole-events-'));
const CLIENT_CHAIN = 'SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT';

beforeAll(async () => {
  if (!root) return;
  ui = await openServedUi(['--interval', '2000']);
  page = ui.page;
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await workload.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!root)('event mode in the UI', () => {
  it('shows 50 connections shorter than the 2 s poll as one burst with its chain, within 3 s', async () => {
    // The badge appears with the first resync, which may come after the socket opens ('● live').
    const badge = page.getByTestId('event-mode');
    await badge.waitFor({ timeout: 5000 });
    expect(`${await badge.textContent()} (${await badge.getAttribute('title')})`).toContain('kernel events');
    await page.getByTestId('tab-transitions').click();
    server = await workload.start({ role: 'closeAfterPeer', host: '127.0.0.1' });
    const started = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(HELPERS, 'short-connections.cjs'),
      String(server.port),
      '50',
    ]);
    clientPorts = new Set((JSON.parse(stdout) as { localPorts: number[] }).localPorts);
    const burst = page.getByTestId('burst').filter({ hasText: `→ 127.0.0.1:${server.port}` });
    await burst.waitFor({ timeout: 3000 });
    // Drains every 200 ms may split the burst: wait until all 50 are counted.
    await page.waitForFunction(
      (port) =>
        Array.from(document.querySelectorAll('[data-testid=burst]')).some((row) =>
          row.textContent?.includes(`50 × → 127.0.0.1:${port}`),
        ),
      server.port,
      { timeout: 3000 },
    );
    console.log(`burst of 50 short connections shown ${Date.now() - started} ms after the first began`);
    expect(await burst.textContent()).toContain(CLIENT_CHAIN);
    await burst.click();
    const chain = page.getByTestId('kernel-chain');
    await chain.waitFor();
    expect(await chain.getByTestId('chain-state').allTextContents()).toEqual([
      expect.stringMatching(/^SYN_SENT/),
      expect.stringMatching(/^ESTABLISHED/),
      expect.stringMatching(/^FIN_WAIT1/),
      expect.stringMatching(/^FIN_WAIT2/),
      expect.stringMatching(/^TIME_WAIT/),
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, 'event-mode.png') });
  });

  it('exports the short connections with their chains (JSON, text), and shows them again from the file', async () => {
    await page.getByTestId('tab-snapshots').click();
    // Text first, then JSON: every connection the text lists has ended by then, so the JSON has it too.
    await page.getByTestId('export-format').selectOption('text');
    const [text] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    await text.saveAs(join(dir, 'table.txt'));
    const report = readFileSync(join(dir, 'table.txt'), 'utf8');
    await page.getByTestId('export-format').selectOption('json');
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const file = join(dir, json.suggestedFilename());
    await json.saveAs(file);
    const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
    // With the kernel's lost count: none here (a quiet burst of 50 fits its buffer many times).
    expect(snapshot.eventMode).toEqual({ active: true, reason: null, lost: 0 });

    // The test's own connections, by their whole identity (other connections end on a busy host too).
    const ours = (c: ConnectionChain) =>
      c.localAddress === '127.0.0.1' &&
      clientPorts.has(c.localPort) &&
      c.remoteAddress === '127.0.0.1' &&
      c.remotePort === server.port;
    const made = (snapshot.chains ?? []).filter(ours);
    expect(made).toHaveLength(50);
    for (const chain of made) expect([chainPath(chain), chain.complete]).toEqual([CLIENT_CHAIN, true]);

    // The text has their burst row, and lists the newest connections (ours on a quiet host, others' on
    // a busy one) each with its chain and durations, as the JSON has them.
    expect(report).toContain(`50 × → 127.0.0.1:${server.port}`);
    const listed = [...report.matchAll(/^(tcp \S+ → \S+) +(\d+) +\d\d:\d\d:\d\d\.\d{3} +(.+)$/gm)];
    expect(listed.length).toBe(
      Math.min(LISTED_CHAINS, Number(/ended, from the kernel's events: (\d+)/.exec(report)![1])),
    );
    expect(listed.some((m) => /SYN_SENT \([\d.]+ ms\) → ESTABLISHED/.test(m[3]))).toBe(true);
    for (const [, identity, task, chainText] of listed) {
      const found = (snapshot.chains ?? []).some(
        (c) =>
          `tcp ${formatEndpoint(c.localAddress, c.localPort)} → ${formatEndpoint(c.remoteAddress, c.remotePort)}` ===
            identity &&
          String(c.pid) === task &&
          chainWithDurations(c) + (c.complete ? '' : ' (seen from the middle)') === chainText.trimEnd(),
      );
      expect(found, `${identity} ${task} ${chainText}`).toBe(true);
    }

    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('import').click()]);
    await chooser.setFiles(file);
    await page.getByTestId('source-bar').waitFor();
    await page.getByTestId('tab-transitions').click();
    expect(await page.getByTestId('recorded-chains').textContent()).toMatch(/connections that ended/);
    expect(
      await page
        .getByTestId('burst')
        .filter({ hasText: `50 × → 127.0.0.1:${server.port}` })
        .textContent(),
    ).toContain(CLIENT_CHAIN);
    expect(await page.getByTestId('feed').count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'event-mode-from-file.png') });
    await page.getByTestId('back-to-live').click();
    await page.getByTestId('source-bar').waitFor({ state: 'detached' });
  });
});
