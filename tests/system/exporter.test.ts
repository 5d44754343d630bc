// `porthole exporter` (issue 15): the real command's /metrics passes promtool's own check, shows a
// listener the test opens, refuses a non-loopback address without a token and checks the token;
// a real Prometheus scrapes it and answers a query for that listener, then sees it go; with an
// exporter-toolkit web config (checked by promtool), it serves TLS and basic auth, and a real
// Prometheus scrapes it through both.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { connect, createServer, type Socket } from 'node:net';
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
  return /at (https?:\S+)/.exec(line.value as string)![1];
}

const scrape = async (url: string, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { headers });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
};

/** A CA in `dir`, and a certificate for 127.0.0.1 it signed (server.crt, server.key). */
function makeCertificates(): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=porthole test CA',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
}

describe('porthole exporter', () => {
  it('serves metrics promtool accepts, with a listener the test opened', async () => {
    const held = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const url = await startExporter(['--listen', `127.0.0.1:${await freePort()}`]);
    // Scraped at once (before the first poll, likely): it waits for the table, never 200 with an empty one.
    const first = await scrape(url);
    expect(first.status).toBe(200);
    expect(first.text).toMatch(
      /^porthole_sockets\{protocol="tcp",family="ipv4",state="LISTEN",namespace="host"\} [1-9]/m,
    );
    expect(first.text).toMatch(/^porthole_last_read_timestamp_seconds \d+(\.\d+)?$/m);
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

  it('counts connections that appear and go as its polls see them, kept where the table is', async () => {
    const url = await startExporter(['--listen', `127.0.0.1:${await freePort()}`]);
    const counter = (text: string, name: string) =>
      Number(new RegExp(`^porthole_connections_${name}_total (\\d+)$`, 'm').exec(text)![1]);
    const before = (await scrape(url)).text;
    const server = createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const clients = await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const client = connect(port, '127.0.0.1', () => resolve(client));
            client.once('error', reject);
          }),
      ),
    );
    try {
      // Both ends of each: ten rows, seen by a poll (every 250 ms) while they last.
      await eventually(async () => {
        const text = (await scrape(url)).text;
        return counter(text, 'opened') - counter(before, 'opened') >= 10 ? true : undefined;
      }, 10_000);
      for (const client of clients) client.end();
      // The accepted ends go once closed (the connecting ends wait in TIME_WAIT, still rows).
      await eventually(async () => {
        const text = (await scrape(url)).text;
        return counter(text, 'closed') - counter(before, 'closed') >= 5 ? true : undefined;
      }, 10_000);
    } finally {
      for (const client of clients) client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses an address beyond loopback without a token, and checks the token it is given', async () => {
    const refused = runPorthole(['exporter', '--listen', `0.0.0.0:${await freePort()}`]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('needs authentication: a bearer token');
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

  /** A real Prometheus scraping `target` with this job's extra settings; returns its query function. */
  function startPrometheus(promPort: number, target: string, job = '') {
    const config = join(dir, `prometheus-${promPort}.yml`);
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: porthole\n${job}    static_configs:\n      - targets: ['${target}']\n`,
    );
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, `data-${promPort}`)}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    children.push(prometheus);
    return async (q: string) => {
      const response = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`).catch(
        () => null,
      );
      if (!response?.ok) return null;
      return ((await response.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
    };
  }

  it('serves TLS and basic auth from an exporter-toolkit web config, scraped through both by a real Prometheus', async () => {
    // A certificate for 127.0.0.1; a password hashed by Apache's htpasswd (bcrypt), not by Porthole.
    makeCertificates();
    const password = 'correct horse battery staple';
    const hash = execFileSync('htpasswd', ['-nbBC', '10', 'prometheus', password], { encoding: 'utf8' })
      .trim()
      .split(':')[1];
    expect(hash).toMatch(/^\$2y\$10\$/);
    const webConfig = join(dir, 'web.yml');
    writeFileSync(
      webConfig,
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: '${hash}'\n`,
    );
    // Prometheus's own tool accepts the file.
    const check = spawnSync('promtool', ['check', 'web-config', webConfig], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout + check.stderr).toContain('SUCCESS');
    const held = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const exporterPort = await freePort();
    const url = await startExporter(['--listen', `127.0.0.1:${exporterPort}`, '--web-config-file', webConfig]);
    expect(url).toBe(`https://127.0.0.1:${exporterPort}/metrics`);
    const ca = readFileSync(join(dir, 'ca.crt'));
    const get = (auth?: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) =>
        httpsGet(
          url,
          { ca, headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {} },
          (response) => {
            let text = '';
            response
              .on('data', (chunk) => (text += chunk))
              .on('end', () => resolve({ status: response.statusCode!, text }));
          },
        ).on('error', reject),
      );
    expect((await get()).status).toBe(401);
    expect((await get('prometheus:wrong password')).status).toBe(401);
    expect((await get(`someone:${password}`)).status).toBe(401);
    const right = await get(`prometheus:${password}`);
    expect(right.status).toBe(200);
    expect(right.text).toContain('porthole_build_info');
    // Plain HTTP gets no metrics from a TLS port.
    expect((await scrape(url.replace('https:', 'http:')).catch(() => ({ status: 0 }))).status).not.toBe(200);
    // A real Prometheus, verifying the certificate against the CA and sending the password.
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, password, { mode: 0o600 });
    const query = startPrometheus(
      await freePort(),
      `127.0.0.1:${exporterPort}`,
      `    scheme: https\n    tls_config:\n      ca_file: ${join(dir, 'ca.crt')}\n    basic_auth:\n      username: prometheus\n      password_file: ${passwordFile}\n`,
    );
    const seen = await eventually(async () => {
      const result = await query(`porthole_listeners{port="${held.port}"}`);
      return result && result.length > 0 ? result : undefined;
    }, 30_000);
    expect(seen[0].value[1]).toBe('1');
  }, 90_000);

  it('refuses a web config it cannot honour, and one that does not authenticate beyond loopback', async () => {
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const cases: [string, string, RegExp][] = [
      [
        'headers.yml',
        'http_server_config:\n  headers:\n    X-Frame-Options: deny\n',
        /the file\.http_server_config is not a setting Porthole implements/,
      ],
      ['old-tls.yml', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10\n', /TLS12 or TLS13/],
      [
        'no-cert.yml',
        'tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n',
        /cert_file: .*no such file/,
      ],
      ['bad-hash.yml', 'basic_auth_users:\n  prometheus: plaintext\n', /not a bcrypt hash/],
      ['aliases.yml', 'basic_auth_users: &u {}\ntls_server_config: *u\n', /not YAML \(Alias resolution is disabled/],
    ];
    for (const [name, text, reason] of cases) {
      const run = runPorthole(['exporter', '--web-config-file', write(name, text)]);
      expect(run.status, name).toBe(2);
      expect(run.stderr, name).toMatch(reason);
    }
    // TLS alone encrypts but lets anyone read: beyond loopback it is refused (nothing is bound).
    makeCertificates();
    const tlsOnly = write('tls-only.yml', 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n');
    const refused = runPorthole(['exporter', '--listen', `0.0.0.0:${await freePort()}`, '--web-config-file', tlsOnly]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('needs authentication');
  });

  it('is scraped by a real Prometheus, which answers for the listener and then sees it go', async () => {
    const held = await workload.start({ role: 'listen', host: '127.0.0.1' });
    const exporterPort = await freePort();
    await startExporter(['--listen', `127.0.0.1:${exporterPort}`]);
    const query = startPrometheus(await freePort(), `127.0.0.1:${exporterPort}`);
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
