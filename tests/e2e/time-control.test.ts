// The UI's time control and a port's timeline (issue 26), in Chromium over a real `serve` that
// records its history: a listener that has gone is shown again, with its owner, at a moment it
// held its port; back at "now" it is gone; a port's day lists who held it; connections past the
// recording budget are said as a count.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openServedUi, SCREENSHOTS, type ServedUi } from '../helpers/browser';
import { PROJECT_ROOT } from '../helpers/cli';
import { portOutsideEphemeralRange } from '../helpers/real-servers';
import { Workload, type ChildInfo } from '../helpers/workload';

const IMAGES = process.env.PORTHOLE_DOCS_IMAGES ? join(PROJECT_ROOT, 'docs', 'images') : SCREENSHOTS;
const dir = mkdtempSync(join(tmpdir(), 'porthole-time-'));
const gone = new Workload();
const still = new Workload();
let ui: ServedUi;
let earlier: ChildInfo;
let later: ChildInfo;
let heldAt: number;

beforeAll(async () => {
  // A budget of 2 new connections a minute: the busy host's short ones are kept only as counts.
  ui = await openServedUi(['--interval', '250', '--history', join(dir, 'history.sqlite'), '--history-budget', '2']);
  // Ports no other socket is given meanwhile (the later listener would otherwise often get the
  // earlier one's, freed a moment before, on a host full of TIME_WAIT).
  earlier = await gone.start({ role: 'listen', host: '127.0.0.1', port: await portOutsideEphemeralRange() });
  await ui.page.getByTestId('tab-listeners').click();
  await ui.page.getByTestId(`listener-tcp:${earlier.port}`).waitFor();
  // Five connections to it: past the budget, kept as a count (they end with it, before a minute).
  await gone.start({ role: 'connect', host: '127.0.0.1', port: earlier.port, count: 5 });
  // Recorded for a while (the recorder writes each poll), then gone; another takes its place.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  heldAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await gone.stop();
  later = await still.start({ role: 'listen', host: '127.0.0.1', port: await portOutsideEphemeralRange() });
  await ui.page.getByTestId(`listener-tcp:${earlier.port}`).waitFor({ state: 'detached' });
  await ui.page.getByTestId(`listener-tcp:${later.port}`).waitFor();
}, 60_000);
afterAll(async () => {
  await ui?.close();
  await still.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the time control', () => {
  it('shows the table as it was at a past moment, with the owner of a listener gone since', async () => {
    const { page } = ui;
    await page.getByTestId('time-control').fill(new Date(heldAt).toISOString());
    await page.getByTestId('time-control').press('Enter');
    await page.getByTestId('past-time').waitFor();
    expect(await page.getByTestId('source-bar').textContent()).toContain('from the history, read-only');
    // Said, not silently missing: that minute's connections past the budget, as a count.
    expect(await page.getByTestId('past-folded').textContent()).toMatch(
      /^\+ [\d,]+ short connections that minute, kept only as a count$/,
    );
    const row = page.getByTestId(`listener-tcp:${earlier.port}`);
    await row.waitFor();
    expect(await row.textContent()).toContain(String(earlier.pid));
    expect(await page.getByTestId(`listener-tcp:${later.port}`).count()).toBe(0);
    for (const [width, height, theme] of [
      [1024, 700, 'light'],
      [1440, 900, 'dark'],
    ] as const) {
      await page.setViewportSize({ width, height });
      await page.getByTestId('theme').selectOption(theme);
      await page.screenshot({ path: join(SCREENSHOTS, `time-control-${width}-${theme}.png`) });
    }
    await page.screenshot({ path: join(IMAGES, 'time-control.png') });
    // "now": live again, the gone listener gone.
    await page.getByTestId('back-to-live').click();
    await page.getByTestId(`listener-tcp:${later.port}`).waitFor();
    expect(await page.getByTestId(`listener-tcp:${earlier.port}`).count()).toBe(0);
    expect(await page.getByTestId('time-control').inputValue()).toBe('');
  });

  it('says why it cannot show a moment, and stays where it was', async () => {
    const { page } = ui;
    await page.getByTestId('time-control').fill('25:99');
    await page.getByTestId('time-control').press('Enter');
    const error = page.getByTestId('time-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('a moment is "15:12", "10 min ago" or an ISO time');
    expect(await page.getByTestId('source-bar').count()).toBe(0);
    await page.getByTestId('time-control').fill('2 days ago');
    await page.getByTestId('time-control').press('Enter');
    await expect.poll(() => error.textContent()).toContain('the history starts at');
  });
});

describe('a recording cut from the history', () => {
  it('replays a range: the gone listener at its start, the new one by its end', async () => {
    const { page } = ui;
    await page.getByTestId('tab-snapshots').click();
    await page.getByTestId('cut-since').fill(new Date(heldAt).toISOString());
    await page.getByTestId('cut-until').fill('now');
    await page.getByTestId('cut-replay').click();
    await page.getByTestId('replay-slider').waitFor();
    await page.getByTestId('tab-listeners').click();
    await page.getByTestId(`listener-tcp:${earlier.port}`).waitFor();
    expect(await page.getByTestId(`listener-tcp:${later.port}`).count()).toBe(0);
    await page.getByTestId('replay-speed').selectOption('64');
    await page.getByTestId('replay-play').click();
    await page.getByTestId(`listener-tcp:${later.port}`).waitFor({ timeout: 5000 });
    await page.getByTestId(`listener-tcp:${earlier.port}`).waitFor({ state: 'detached' });
    await page.getByTestId('back-to-live').click();
  });
});

describe('the recording setting', () => {
  it('turns the host’s recorder off and on again, and the status bar says when it is off', async () => {
    const { page } = ui;
    await page.getByTestId('tab-snapshots').click();
    const box = page.getByTestId('history-recording');
    await expect.poll(() => page.getByTestId('history-state').textContent()).toMatch(/^recording — .*history\.sqlite$/);
    expect(await box.isChecked()).toBe(true);
    await box.uncheck();
    await page.getByTestId('status').getByTestId('history-status').waitFor();
    expect(await page.getByTestId('history-status').textContent()).toBe('history off');
    await expect.poll(() => ui.served.stderr.some((l) => l.startsWith('porthole: recording turned off'))).toBe(true);
    await box.check();
    // What serve said is the why of a recorder that did not start again.
    await page
      .getByTestId('history-status')
      .waitFor({ state: 'detached' })
      .catch((error: Error) => {
        throw new Error(`${error.message}\nserve said:\n${ui.served.stderr.join('\n')}`);
      });
    expect(await page.getByTestId('history-state').textContent()).toMatch(/^recording — /);
  });
});

describe('a port’s timeline', () => {
  it('lists who held the port over the day, with pid, from the history', async () => {
    const { page } = ui;
    await page.getByTestId('tab-listeners').click();
    await page.getByTestId(`listener-tcp:${later.port}`).click();
    // Still held: the use that runs to now (turning the recorder off and on above ended one span).
    const use = page.getByTestId('port-timeline-use').filter({ hasText: '→ now' });
    await use.waitFor();
    expect(await use.textContent()).toMatch(new RegExp(`\\d\\d:\\d\\d → now node \\(${later.pid}\\)`));
    await page.screenshot({ path: join(SCREENSHOTS, 'port-timeline.png') });
  });
});
