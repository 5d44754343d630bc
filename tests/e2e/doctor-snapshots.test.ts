// The Port Doctor, stopping a process, and snapshots in the real UI (headless Chromium against the
// real `porthole serve`, real loopback sockets): diagnose a port from its listener row, stop its
// owner after a confirmation naming its command line, export, open a snapshot read-only, compare it
// with the live table, record and replay.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Snapshot } from '../../src-main/shared/contract';
import { at, socketsAt, theListener } from '../helpers/identity';
import { parseRecording } from '../../src-main/export/import-recording';
import { openServedUi, SCREENSHOTS, type ServedUi } from '../helpers/browser';
import { eventually, Workload, type ChildInfo } from '../helpers/workload';
import { runPorthole } from '../helpers/cli';

const workload = new Workload();
const dir = mkdtempSync(join(tmpdir(), 'porthole-ui-'));
let ui: ServedUi | undefined;
let page: Page;
let pageErrors: string[];
let server: ChildInfo;
const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });

beforeAll(async () => {
  server = await workload.start({ role: 'listen', host: '127.0.0.1' });
  ui = await openServedUi(['--interval', '250']);
  ({ page, pageErrors } = ui);
  await page.getByTestId('tab-listeners').click(); // the map is the first view; these tests start from Listeners
  await page.getByTestId(`listener-tcp:${server.port}`).waitFor({ timeout: 10_000 });
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await workload.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Port Doctor and process actions in the UI', () => {
  it('diagnoses a port opened from its listener row, with the owner and the kernel’s answer', async () => {
    await page.getByTestId(`doctor-tcp:${server.port}`).click();
    const summary = page.getByTestId('doctor-summary');
    await summary.waitFor();
    expect(await summary.textContent()).toContain(`tcp port ${server.port} is in use: node (pid ${server.pid}`);
    expect(await page.getByTestId('doctor-listener').textContent()).toMatch(/socket-child\.cjs/);
    expect(await page.getByTestId('port-doctor').textContent()).toMatch(/failed with EADDRINUSE/);
    expect(await page.getByTestId('doctor-advice').textContent()).toMatch(/nearby/);
    await shot('port-doctor');

    // Bad input is explained, not sent.
    await page.getByTestId('doctor-port').fill('70000');
    await page.getByTestId('doctor-run').click();
    expect(await page.getByTestId('doctor-error').textContent()).toMatch(/out of range/);
    await page.getByTestId('doctor-port').fill(String(server.port));
    for (const address of ['999.1.1.1', 'example.com']) {
      await page.getByTestId('doctor-address').fill(address);
      await page.getByTestId('doctor-run').click();
      expect(await page.getByTestId('doctor-error').textContent()).toContain(`"${address}" is not an IP address`);
    }
    await page.getByTestId('doctor-address').fill('');
  });

  it('stops the owner only after a confirmation naming it and its command line', async () => {
    const victim = await workload.start({ role: 'listen', host: '127.0.0.1' });
    await page.getByTestId('tab-listeners').click();
    await page.getByTestId(`doctor-tcp:${victim.port}`).waitFor({ timeout: 5000 });
    await page.getByTestId(`doctor-tcp:${victim.port}`).click();
    await page.getByTestId('doctor-listener').waitFor();
    await page.getByTestId('stop-process').first().click();
    const confirm = page.getByTestId('stop-confirm');
    expect(await confirm.textContent()).toMatch(
      new RegExp(`Stop node \\(pid ${victim.pid}\\)\\?[^]*socket-child\\.cjs`),
    );
    await shot('stop-confirm');
    await page.getByTestId('stop-cancel').click();
    expect(runPorthole(['who', String(victim.port)]).status).toBe(1);

    await page.getByTestId('stop-process').first().click();
    await page.getByTestId('stop-confirm-button').click();
    await page.getByTestId('stop-result').waitFor();
    expect(await page.getByTestId('stop-result').textContent()).toMatch(
      new RegExp(`pid ${victim.pid} ended after SIGTERM`),
    );
    expect(runPorthole(['who', String(victim.port)]).status).toBe(0);
  });
});

describe('snapshots in the UI', () => {
  let exported: string;

  it('exports the live table as JSON and Markdown downloads', async () => {
    await page.getByTestId('tab-snapshots').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    exported = join(dir, download.suggestedFilename());
    await download.saveAs(exported);
    const snapshot = JSON.parse(readFileSync(exported, 'utf8')) as Snapshot;
    expect(snapshot.format).toBe('porthole.snapshot');
    expect(snapshot.sockets).toContainEqual(expect.objectContaining({ localPort: server.port, pid: server.pid }));

    await page.getByTestId('export-format').selectOption('markdown');
    const [markdown] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    expect(markdown.suggestedFilename()).toMatch(/\.md$/);
    const path = join(dir, 'table.md');
    await markdown.saveAs(path);
    expect(readFileSync(path, 'utf8')).toMatch(new RegExp(`\\| tcp \\| 127\\.0\\.0\\.1:${server.port} \\|`));
  });

  it('opens a snapshot read-only in the same views, and refuses a hostile one with the reason', async () => {
    // The snapshot holds a listener that does not exist live.
    const snapshot = JSON.parse(readFileSync(exported, 'utf8')) as Snapshot;
    const listener = theListener(snapshot.sockets, 'tcp', at('127.0.0.1', server.port));
    snapshot.sockets.push({ ...listener, localPort: 1, inode: 4242 });
    const file = join(dir, 'before.json');
    writeFileSync(file, JSON.stringify(snapshot));
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('import').click()]);
    await chooser.setFiles(file);
    await page.getByTestId('source-bar').waitFor();
    expect(await page.getByTestId('source-bar').textContent()).toMatch(/Snapshot before\.json.*read-only/);
    await page.getByTestId('tab-listeners').click();
    await page.getByTestId('listener-tcp:1').waitFor();
    await shot('snapshot-read-only');
    await page.getByTestId('back-to-live').click();
    await page.getByTestId('listener-tcp:1').waitFor({ state: 'detached' });

    await page.getByTestId('tab-snapshots').click();
    const [hostile] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('import').click()]);
    await hostile.setFiles(join(__dirname, '..', 'fixtures', 'hostile-snapshots', 'proto-socket.json'));
    expect(await page.getByTestId('snapshots-error').textContent()).toMatch(/"__proto__" is not allowed/);
    expect(await page.evaluate(() => (Object.prototype as Record<string, unknown>).isAdmin === undefined)).toBe(true);
  });

  it('compares a snapshot with the live table', async () => {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('compare-before').click()]);
    await chooser.setFiles(join(dir, 'before.json'));
    await page.getByTestId('compare-live').click();
    const closed = page.getByTestId('comparison-Listeners closed');
    await closed.waitFor();
    expect(await closed.textContent()).toMatch(/tcp 127\.0\.0\.1:1 node/);
    await shot('compare');
  });

  it('records the live stream and replays it with a slider', async () => {
    await page.getByTestId('record').click();
    const late = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const recorded = async () =>
      Number(/\((\d+) messages\)/.exec((await page.getByTestId('record').textContent()) ?? '')?.[1] ?? 0);
    await eventually(async () => ((await recorded()) > 3 ? true : undefined), 5000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('record').click()]);
    const recording = join(dir, download.suggestedFilename());
    await download.saveAs(recording);
    expect(recording).toMatch(/\.ndjson$/);
    const messages = parseRecording(readFileSync(recording, 'utf8'));
    expect(messages[0].type).toBe('resync');
    const added = messages.flatMap((m) =>
      m.type === 'delta' ? socketsAt(m.delta.added, 'tcp', at('127.0.0.1', late.port), null) : [],
    );
    expect(added).toMatchObject([{ state: 'LISTEN', pid: late.pid }]);

    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('import').click()]);
    await chooser.setFiles(recording);
    await page.getByTestId('replay-slider').waitFor();
    await page.getByTestId('tab-listeners').click();
    // At the start of the recording the late listener did not exist yet; at its end it does.
    expect(await page.getByTestId(`listener-tcp:${late.port}`).count()).toBe(0);
    await page.getByTestId('replay-speed').selectOption('64');
    await page.getByTestId('replay-play').click();
    await page.getByTestId(`listener-tcp:${late.port}`).waitFor({ timeout: 5000 });
    await shot('replay');
    // Back to the start with the slider: the listener is gone again.
    await page.getByTestId('replay-slider').fill('0');
    await page.getByTestId(`listener-tcp:${late.port}`).waitFor({ state: 'detached', timeout: 2000 });
    await page.getByTestId('back-to-live').click();
    await page.getByTestId(`listener-tcp:${late.port}`).waitFor({ timeout: 3000 });
    expect(pageErrors).toEqual([]);
  });
});
