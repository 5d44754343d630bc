// The UI at a glance, in Chromium at 1024×700 and 1440×900 in both themes, on a host with a second
// network namespace listening on the same port as a server with 4 live connections and 300 ended
// ones left in TIME_WAIT: Connections opens on TCP, grouped by process, every owner named under a
// "Process" header, no header overlapping another, no IPv4 endpoint or state cut; the port reads 4
// in Listeners, its fan-out, the map and its process group; a registered port and a peer named in
// /etc/hosts read by name; every table has table semantics and axe finds nothing serious. The
// screenshots are those of docs/images (`npm run screenshots` writes them there).
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { SCREENSHOTS, seriousAxeViolations, servedUiSuite } from '../helpers/browser';
import { PROJECT_ROOT } from '../helpers/cli';
import { TestNamespaces } from '../helpers/netns';
import { eventually, Workload } from '../helpers/workload';

const ended = new Workload();
const live = new Workload();
const inside = new Workload();
const namespaces = new TestNamespaces();
/**
 * Connections made to be left in TIME_WAIT, and the fewest the test takes: a client port freed by
 * its passive close may be picked again for a later connection, whose SYN then takes over the
 * server's TIME_WAIT of that 4-tuple (one fewer). What is there is counted, then read in the UI.
 */
const MADE = 320;
const AT_LEAST = 300;
let ENDED = 0;
const LIVE = 4;
/** A peer the test names in /etc/hosts (removed after): its connection's remote end reads this name. */
const PEER = '127.0.0.77';
const PEER_NAME = 'porthole-peer.test';
const HOSTS_LINE = `${PEER} ${PEER_NAME} # porthole e2e ${process.pid}\n`;
const IMAGES = process.env.PORTHOLE_DOCS_IMAGES ? join(PROJECT_ROOT, 'docs', 'images') : SCREENSHOTS;
const SIZES = [
  [1024, 700],
  [1440, 900],
] as const;
const THEMES = ['light', 'dark'] as const;
let port = 0;
let serverPid = 0;
let namespace = '';
let known: { port: number; name: string } | null = null;

/** Removes this run's line from /etc/hosts, in place (the file may be a bind mount). */
function restoreHosts(): void {
  const text = readFileSync('/etc/hosts', 'utf8');
  if (text.includes(HOSTS_LINE)) writeFileSync('/etc/hosts', text.replace(HOSTS_LINE, ''));
}

const suite = servedUiSuite(['--interval', '500', '--reverse-dns', 'hosts'], {
  prepare: async () => {
    appendFileSync('/etc/hosts', HOSTS_LINE);
    // A server that closes first: each connection's server side lingers in TIME_WAIT on its port.
    const closing = await ended.start({ role: 'halfCloseServer', host: '127.0.0.1' });
    port = closing.port!;
    await ended.start({ role: 'connect', host: '127.0.0.1', port, count: MADE });
    const states = () => {
      const byState: Record<string, number> = {};
      for (const line of execFileSync('ss', ['-Htan', `sport = :${port}`], { encoding: 'utf8' }).split('\n'))
        if (line.trim()) byState[line.split(/\s+/)[0]] = (byState[line.split(/\s+/)[0]] ?? 0) + 1;
      return byState;
    };
    const until = (what: string, check: (s: Record<string, number>) => boolean) =>
      eventually(() => (check(states()) ? true : undefined), 20_000).catch((error: Error) => {
        throw new Error(`${what} on :${port}: ${JSON.stringify(states())}: ${error.message}`);
      });
    // Every connection accepted and closed by the server (none left in its accept queue, which its
    // exit would reset), then both ends' processes gone: each server side is left in TIME_WAIT.
    await until('all closed by the server', (s) => !s['ESTAB'] && !s['SYN-RECV'] && !s['CLOSE-WAIT']);
    await ended.stop();
    await until('all in TIME_WAIT', (s) => !s['FIN-WAIT-2'] && !s['FIN-WAIT-1'] && !s['LAST-ACK']);
    ENDED = states()['TIME-WAIT'] ?? 0;
    expect(ENDED, `TIME_WAIT on :${port}`).toBeGreaterThanOrEqual(AT_LEAST);
    // The same port listened on again (SO_REUSEADDR, as Node sets it), with live clients, one of
    // them from the peer /etc/hosts names.
    serverPid = (await live.start({ role: 'listen', host: '127.0.0.1', port })).pid;
    await live.start({ role: 'connect', host: '127.0.0.1', port, count: LIVE - 1 });
    await live.start({ role: 'connect', host: '127.0.0.1', port, count: 1, from: PEER });
    // Another namespace listening on the very same port: a count of its own.
    namespace = namespaces.add('glance');
    await namespaces.start(inside, namespace, { role: 'listen', host: '127.0.0.1', port });
    // The first registered port a test may bind now (a real PostgreSQL or Redis may hold one).
    for (const [p, name] of [
      [5432, 'postgresql'],
      [6379, 'redis'],
      [3306, 'mysql'],
      [5672, 'amqp'],
    ] as const)
      try {
        await live.start({ role: 'listen', host: '127.0.0.1', port: p });
        known = { port: p, name };
        break;
      } catch {
        // held: the next one
      }
  },
  stop: async () => {
    await ended.stop(); // if preparing failed half-way
    await live.stop();
    await inside.stop();
    namespaces.cleanup();
    restoreHosts();
  },
});

async function setLook(page: Page, width: number, height: number, theme: 'light' | 'dark'): Promise<void> {
  await page.setViewportSize({ width, height });
  await page.emulateMedia({ colorScheme: theme });
}

/** What the Connections grid shows now, read in the page: headers and rendered rows, in order. */
function readGrid(page: Page) {
  return page.evaluate(() => {
    const grid = document.querySelector('[data-testid=connections]') as HTMLElement;
    const gridBox = grid.getBoundingClientRect();
    const headers = Array.from(grid.querySelectorAll('[role=columnheader]')).map((h) => {
      const box = h.getBoundingClientRect();
      return {
        text: h.textContent!.trim(),
        left: box.left,
        right: box.right,
        cut: h.scrollWidth > h.clientWidth,
        inView: box.left >= gridBox.left - 0.5 && box.right <= gridBox.right + 0.5,
      };
    });
    const rows = Array.from(grid.querySelectorAll('.spacer > [role=row]'))
      .map((row) => ({ row: row as HTMLElement, index: Number(row.getAttribute('aria-rowindex')) }))
      .sort((a, b) => a.index - b.index)
      .filter(({ row }) => {
        const box = row.getBoundingClientRect();
        return box.top >= gridBox.top && box.bottom <= gridBox.bottom; // on screen, not the overscan
      })
      .map(({ row }) => {
        const kind = row.dataset.testid;
        const cellOf = (selector: string) => row.querySelector(selector) as HTMLElement | null;
        const endpoints = Array.from(row.querySelectorAll('.c-local .address, .c-remote .address')).map((a) => {
          const cell = a.closest('[role=gridcell]')!.getBoundingClientRect();
          const box = a.getBoundingClientRect();
          return {
            text: a.textContent!,
            cut: a.scrollWidth > a.clientWidth || box.right > cell.right + 0.5,
          };
        });
        return {
          kind,
          protocol: cellOf('.c-protocol')?.textContent?.trim() ?? null,
          owner: cellOf('.c-process [data-testid=owner-name]')?.textContent?.trim() ?? null,
          groupOwner:
            kind === 'process-group' ? row.querySelector('[data-testid=owner-name]')!.textContent!.trim() : null,
          stateCut: (() => {
            const state = cellOf('.c-state');
            return state ? state.scrollWidth > state.clientWidth : false;
          })(),
          endpoints,
        };
      });
    return { headers, rows };
  });
}

describe('the UI at a glance', () => {
  it('opens Connections on TCP by process, every owner named, no header or endpoint cut, with details open', async () => {
    const page = suite.page;
    await page.getByTestId('tab-connections').click();
    await expect.poll(() => page.getByTestId('process-group').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    // A row's details open beside the list: the narrowest the list gets.
    await page.getByTestId('connection-row').first().click();
    await page.getByTestId('details').waitFor();
    for (const [width, height] of SIZES)
      for (const theme of THEMES) {
        await setLook(page, width, height, theme);
        await page.waitForTimeout(100);
        const where = `${width} px, ${theme}`;
        const { headers, rows } = await readGrid(page);
        expect(headers.map((h) => h.text)).toEqual(expect.arrayContaining(['Process', 'Remote']));
        for (let i = 1; i < headers.length; i++)
          expect(
            headers[i].left,
            `${headers[i].text} overlaps ${headers[i - 1].text}, ${where}`,
          ).toBeGreaterThanOrEqual(headers[i - 1].right - 0.5);
        expect(
          headers.filter((h) => h.cut || !h.inView).map((h) => h.text),
          `headers cut, ${where}`,
        ).toEqual([]);
        const sockets = rows.filter((r) => r.kind === 'connection-row');
        expect(sockets.length, where).toBeGreaterThan(5);
        expect(sockets[0].protocol, `the first row, ${where}`).toMatch(/^tcp/);
        // Every TCP row under a process names it (orphans sit under "no visible owner" alone).
        let group = '';
        for (const row of rows) {
          if (row.kind === 'process-group') group = row.groupOwner!;
          if (row.kind !== 'connection-row' || !row.protocol!.startsWith('tcp') || group === 'no visible owner')
            continue;
          expect(row.owner, `a ${row.protocol} row under ${group}, ${where}`).toMatch(/\w/);
          expect(row.owner).not.toBe('—');
        }
        const cut = rows.flatMap((r) => r.endpoints).filter((e) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(e.text) && e.cut);
        expect(cut, `IPv4 endpoints cut, ${where}`).toEqual([]);
        expect(rows.filter((r) => r.stateCut).length, `states cut, ${where}`).toBe(0);
      }
  });

  it(`reads the port's ${LIVE} live connections in every view; the ${AT_LEAST}+ ended and the other namespace apart`, async () => {
    const page = suite.page;
    await setLook(page, 1024, 700, 'light');
    await page.getByTestId('tab-listeners').click();
    const row = page.getByTestId(`listener-tcp:${port}`);
    await expect.poll(() => row.getByTestId('connection-count').textContent(), { timeout: 10_000 }).toBe(String(LIVE));
    expect((await row.getByTestId('leftover-count').textContent())?.trim()).toBe(`+ ${ENDED} ended`);
    // The owner's details (its command line) may follow its socket by a poll: then it reads as a developer names it.
    await expect.poll(() => row.getByTestId('owner-name').first().textContent()).toBe('node socket-child.cjs');
    const other = page.getByTestId(`listener-tcp:${port}@${namespaces.inode(namespace)}`);
    await expect.poll(() => other.getByTestId('connection-count').textContent()).toBe('0');
    await row.click();
    const fanout = page.getByTestId('fanout');
    await expect.poll(() => fanout.getByTestId('fanout-total').textContent()).toBe(String(LIVE));
    expect(await fanout.getByTestId('fanout-leftovers').textContent()).toContain(`${ENDED} ended`);
    await page.getByTestId('tab-map').click();
    await expect
      .poll(() => page.getByTestId(`map-node-tcp:${port}`).getAttribute('aria-label'))
      .toBe(`tcp ${port} ${LIVE} connections`);
    // In Connections, its process: one listener, the live connections, what ended in one line.
    await page.getByTestId('tab-connections').click();
    await page.getByTestId('filter').fill(String(port));
    const header = page.getByTestId('process-group').filter({ hasText: String(serverPid) });
    await expect
      .poll(() => header.getByTestId('group-counts').textContent())
      .toBe(`1 listening · ${LIVE} connected · ${ENDED} ended`);
    expect(await page.getByTestId('group-leftovers').textContent()).toContain(
      `${ENDED} ended connections (TIME_WAIT ${ENDED})`,
    );
    await page.getByTestId('filter').fill('');
  });

  it('names a registered port and a peer /etc/hosts names', async () => {
    const page = suite.page;
    await setLook(page, 1024, 700, 'light');
    expect(known, 'one of 5432, 6379, 3306, 5672 free to bind').not.toBeNull();
    await page.getByTestId('tab-listeners').click();
    const service = page.getByTestId(`listener-tcp:${known!.port}`).getByTestId('service-name');
    await expect.poll(() => service.textContent(), { timeout: 10_000 }).toContain(known!.name);
    expect(await service.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
    // The peer, by name, in the port's fan-out and in Connections.
    await page.getByTestId(`listener-tcp:${port}`).click();
    const names = page.getByTestId('fanout').getByTestId('remote-name');
    await expect.poll(() => names.allTextContents(), { timeout: 10_000 }).toContain(PEER_NAME);
    await page.getByTestId('tab-connections').click();
    await page.getByTestId('filter').fill(PEER);
    await expect
      .poll(() => page.getByTestId('connections').getByTestId('remote-name').allTextContents())
      .toContain(PEER_NAME);
    // Names turned off in the status bar: addresses only, none asked for; on again, named again.
    await page.getByTestId('names-toggle').uncheck();
    await expect.poll(() => page.getByTestId('connections').getByTestId('remote-name').count()).toBe(0);
    await page.getByTestId('names-toggle').check();
    await expect
      .poll(() => page.getByTestId('connections').getByTestId('remote-name').allTextContents())
      .toContain(PEER_NAME);
    // Why each row is there: the filter's words marked where they match.
    expect(await page.getByTestId('connections').getByTestId('match').allTextContents()).toContain(PEER);
    // Terms on fields: the port's live connections, both ends of each (the server's and the clients').
    await page.getByTestId('filter').fill(`port:${port} state:established`);
    await expect.poll(() => page.getByTestId('connection-row').count()).toBe(2 * LIVE);
    await page.getByTestId('filter').fill('');
  });

  it('gives every view table semantics and no serious axe violation; screenshots of each', async () => {
    const page = suite.page;
    mkdirSync(IMAGES, { recursive: true });
    const views = ['map', 'listeners', 'connections', 'transitions', 'doctor', 'snapshots'] as const;
    for (const [width, height] of SIZES)
      for (const theme of THEMES) {
        await setLook(page, width, height, theme);
        for (const view of views) {
          if (view === 'doctor') {
            await page.getByTestId('tab-listeners').click();
            await page.getByTestId(`doctor-tcp:${port}`).click();
            await page.getByTestId('doctor-summary').waitFor({ timeout: 10_000 });
          } else await page.getByTestId(`tab-${view}`).click();
          if (view === 'listeners') await page.getByTestId(`listener-tcp:${port}`).click();
          await page.waitForTimeout(250);
          const where = `${view}, ${width} px, ${theme}`;
          const semantics = await page.evaluate(() =>
            Array.from(document.querySelectorAll('table, [role=grid]')).map((t) =>
              t.tagName === 'TABLE'
                ? t.querySelectorAll('th').length > 0
                : t.hasAttribute('aria-rowcount') &&
                  Array.from(t.querySelectorAll('[role=row]')).every((r) => r.hasAttribute('aria-rowindex')) &&
                  t.querySelectorAll('[role=columnheader]').length > 0,
            ),
          );
          expect(semantics.every(Boolean), `tables without headers, ${where}`).toBe(true);
          expect(await seriousAxeViolations(page), where).toEqual([]);
          await page.screenshot({ path: join(IMAGES, `${view}-${width}-${theme}.png`) });
        }
      }
    await page.emulateMedia({ colorScheme: null });
  }, 180_000); // 24 looks, each with axe: a minute or more on a busy host
});
