// `porthole exporter` (issue 15): the real command's /metrics passes promtool's own check, shows a
// listener the test opens, refuses a non-loopback address without a token and checks the token;
// a real Prometheus scrapes it and answers a query for that listener, then sees it go.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI, runPorthole } from '../helpers/cli';
import { eventually, interruptThenKill, Workload } from '../helpers/workload';

const workload = new Workload();
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'porthole-exporter-'));
afterEach(async () => {
  await Promise.all(children.splice(0).map(interruptThenKill));
  await workload.stop();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** `porthole exporter` with these arguments; resolves with its /metrics URL. */
async function startExporter(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'exporter', '--interval', '250', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const line = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  return /at (http:\S+)/.exec(line.value as string)![1];
}

const scrape = async (url: string, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { headers });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
};

describe('porthole exporter', () => {
  it('serves metrics promtool accepts, with a listener the test opened', async () => {
    const held = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const url = await startExporter(['--listen', `127.0.0.1:${await freePort()}`]);
    const series = `porthole_listeners{protocol="tcp",port="${held.port}",process="node",namespace="host"} 1`;
    const text = await eventually(async () => {
      const m = await scrape(url);
      return m.text.includes(series) ? m.text : undefined;
    }, 10_000);
    // promtool's own lint: names, units, _total counters, help and type lines.
    const lint = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint).toBe('');
    const open = await scrape(url, { accept: 'application/openmetrics-text; version=1.0.0' });
    expect(open.type).toContain('application/openmetrics-text');
    expect(open.text.endsWith('# EOF\n')).toBe(true);
    expect((await scrape(url.replace('/metrics', '/'))).status).toBe(404);
  });

  it('refuses an address beyond loopback without a token, and checks the token it is given', async () => {
    const refused = runPorthole(['exporter', '--listen', `0.0.0.0:${await freePort()}`]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('needs a bearer token');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'a-long-enough-secret-token\n', { mode: 0o600 });
    // (Checked on loopback: a test binds nothing beyond it. The refusal above bound nothing either.)
    const url = await startExporter(['--listen', `127.0.0.1:${await freePort()}`, '--bearer-token-file', tokenFile]);
    expect((await scrape(url)).status).toBe(401);
    expect((await scrape(url, { authorization: 'Bearer wrong-token-of-some-length' })).status).toBe(401);
    expect((await scrape(url, { authorization: 'Bearer a-long-enough-secret-token' })).status).toBe(200);
    expect(runPorthole(['exporter', '--listen', 'localhost:9464']).status).toBe(2);
    // A FIFO as the token file is refused at once, never waited on.
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const fromFifo = runPorthole(['exporter', '--bearer-token-file', fifo], { timeout: 10_000 });
    expect(fromFifo.status).toBe(2);
    expect(fromFifo.stderr).toContain('not a regular file');
  });

  it('is scraped by a real Prometheus, which answers for the listener and then sees it go', async () => {
    const held = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const exporterPort = await freePort();
    await startExporter(['--listen', `127.0.0.1:${exporterPort}`]);
    const promPort = await freePort();
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: porthole\n    static_configs:\n      - targets: ['127.0.0.1:${exporterPort}']\n`,
    );
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    children.push(prometheus);
    const query = async (q: string) => {
      const response = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`).catch(
        () => null,
      );
      if (!response?.ok) return null;
      return ((await response.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
    };
    const listener = `porthole_listeners{port="${held.port}"}`;
    const seen = await eventually(async () => {
      const result = await query(listener);
      return result && result.length > 0 ? result : undefined;
    }, 30_000);
    expect(seen[0].value[1]).toBe('1');
    await workload.stop();
    await eventually(async () => {
      const result = await query(listener);
      return result && result.length === 0 ? true : undefined;
    }, 30_000);
  }, 90_000);
});
