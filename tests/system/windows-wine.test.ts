// The Windows collector for real: Porthole's CLI run by the Windows build of Node under Wine, whose
// iphlpapi reads the sockets of the Linux network namespace it runs in. A listener and an
// established pair opened there must be in its snapshot, read by the native collector (engine
// iphlpapi, platform win32), with the states and ports the kernel has. A namespace of the test's
// own: Wine looks up an owner for every row (~2 ms each), and the busy host has 20,000 of them.
// Wine reports every owner pid as 0: owners are tested on byte buffers laid out as Windows does
// (tests/unit/windows-tables.test.ts).
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessInfo, Snapshot } from '../../src-main/shared/contract';
import { PROJECT_ROOT } from '../helpers/cli';
import { TestNamespaces } from '../helpers/netns';
import { eventually, Workload } from '../helpers/workload';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { windowsUnderWine } = require('../../scripts/windows-under-wine.cjs') as {
  windowsUnderWine: () => { wine?: string; node?: string; prefix?: string; reason?: string };
};

const windows = windowsUnderWine();
if (windows.reason) console.log(`Windows under Wine: skipped, ${windows.reason}`);
const dir = mkdtempSync(join(tmpdir(), 'porthole-wine-'));
const workload = new Workload();
const namespaces = new TestNamespaces();
let inside = '';
const wineEnv = { ...process.env, WINEPREFIX: windows.prefix, WINEDEBUG: '-all', NODE_SKIP_PLATFORM_CHECK: '1' };
/**
 * Ends the prefix's wineserver: the next Wine program starts one where it runs (its iphlpapi reads
 * the namespace its server was started in).
 */
const endWineServer = () => {
  try {
    if (windows.wine) execFileSync(join(windows.wine, '..', 'wineserver64'), ['-k'], { env: wineEnv, stdio: 'ignore' });
  } catch {
    // none was running
  }
};
beforeAll(() => {
  if (windows.reason) return;
  endWineServer();
  inside = namespaces.add('wine');
});
afterEach(() => workload.stop());
afterAll(() => {
  try {
    endWineServer();
  } finally {
    namespaces.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A Linux path as the Windows program sees it: Wine maps / to drive Z:. */
const windowsPath = (path: string) => `Z:${path.replaceAll('/', '\\')}`;

/**
 * Starts `porthole ARGS` as a Windows program in the namespace. Its stdout and stderr are files:
 * the Windows Node cannot write to a Linux pipe under Wine (EBADF), a console or a file it can.
 */
function spawnUnderWine(
  args: string[],
  name: string,
  program = windowsPath(join(PROJECT_ROOT, 'out', 'main', 'cli.js')),
) {
  const out = join(dir, `${name}.out`);
  const err = join(dir, `${name}.err`);
  const fds = [openSync(out, 'w'), openSync(err, 'w')];
  const child = spawn('ip', ['netns', 'exec', inside, windows.wine!, windows.node!, program, ...args], {
    cwd: dir,
    stdio: ['ignore', fds[0], fds[1]],
    env: { ...wineEnv, NO_COLOR: '1' },
  });
  const closeFiles = () => fds.forEach((fd) => closeSync(fd));
  return { child, out, err, closeFiles };
}

/** Runs `porthole ARGS` (or another script of the Windows Node's) as a Windows program to its end. */
function underWine(
  args: string[],
  name: string,
  program?: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const { child, out, err, closeFiles } = spawnUnderWine(args, name, program);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('exit', (status) => {
      clearTimeout(timer);
      closeFiles();
      // Wine's own lines (the prefix made on its first run) are not Porthole's.
      const stderr = readFileSync(err, 'utf8').replace(/^wine: .*\n/gm, '');
      resolve({ status, stdout: readFileSync(out, 'utf8'), stderr });
    });
  });
}

/**
 * Starts a long-running `porthole ARGS` as a Windows program; resolves with the first match of
 * `ready` in what it prints (stdout or stderr), and the way to stop it.
 */
async function startUnderWine(
  args: string[],
  name: string,
  ready: RegExp,
): Promise<{ match: string; stop: () => void; said: () => string }> {
  const { child, out, err, closeFiles } = spawnUnderWine(args, name);
  const stop = () => {
    child.kill('SIGKILL');
    closeFiles();
  };
  const said = () => readFileSync(out, 'utf8') + readFileSync(err, 'utf8');
  try {
    const match = await eventually(() => ready.exec(said())?.[1], 60_000);
    return { match, stop, said };
  } catch (error) {
    stop();
    throw new Error(`${(error as Error).message}; it said: ${said()}`);
  }
}

/** GET `url` from inside the namespace (where the Windows program listens), by Linux's Node. */
function fetchInside(url: string): { status: number; body: string } {
  const script = `fetch(${JSON.stringify(url)}).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))`;
  const out = execFileSync('ip', ['netns', 'exec', inside, process.execPath, '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as { status: number; body: string };
}

describe.skipIf(windows.reason !== undefined)('Porthole as a Windows program, under Wine', () => {
  it(
    'finds a listener and an established pair opened in its namespace, read by iphlpapi',
    { timeout: 120_000 },
    async () => {
      const server = await namespaces.start(workload, inside, { role: 'listen', host: '127.0.0.1' });
      const client = await namespaces.start(workload, inside, {
        role: 'connect',
        host: '127.0.0.1',
        port: server.port,
        count: 1,
      });
      const clientPort = client.localPorts![0];
      const file = join(dir, 'snapshot.json');
      const run = await underWine(['snapshot', '--format', 'json', '--output', windowsPath(file)], 'snapshot');
      expect(run.stderr).toMatch(/^Wrote \d+ sockets to Z:\\.*\\snapshot\.json \(json\)\.\r?\n$/);
      expect(run.status).toBe(0);
      const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
      expect(snapshot.host.platform).toBe('win32');
      expect(snapshot.stats.engine).toBe('iphlpapi');
      const find = (local: number, remote: number | null) =>
        snapshot.sockets.filter(
          (s) =>
            s.protocol === 'tcp' && s.localAddress === '127.0.0.1' && s.localPort === local && s.remotePort === remote,
        );
      expect(find(server.port!, null).map((s) => s.state)).toEqual(['LISTEN']);
      expect(find(clientPort, server.port!)).toEqual([
        expect.objectContaining({ state: 'ESTABLISHED', remoteAddress: '127.0.0.1', family: 4 }),
      ]);
      expect(find(server.port!, clientPort)).toEqual([
        expect.objectContaining({ state: 'ESTABLISHED', remoteAddress: '127.0.0.1', family: 4 }),
      ]);
      // Wine names no owner (pid 0): none is made up.
      expect(find(server.port!, null)[0].pid).toBeNull();
    },
  );

  it(
    'answers who holds a port, the kernel refusing a real bind, in text on a Windows console',
    { timeout: 120_000 },
    async () => {
      const server = await namespaces.start(workload, inside, { role: 'listen', host: '127.0.0.1' });
      const run = await underWine(['who', String(server.port)], 'who');
      expect(run.stderr).toBe('');
      expect(run.status).toBe(1);
      expect(run.stdout.split(/\r?\n/)[0]).toContain(`tcp port ${server.port} is in use`);
    },
  );
  it(
    'serves the UI from a Windows process; without a loadable SQLite it says so and serves on',
    { timeout: 120_000 },
    async () => {
      // libsql's Windows build is not installed here (under Wine it would not load): the recorder
      // cannot start, and the live view must not depend on it.
      const served = await startUnderWine(
        ['serve', '--port', '0', '--history', windowsPath(join(dir, 'state', 'history.sqlite'))],
        'serve',
        /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/,
      );
      try {
        const page = fetchInside(served.match);
        expect(page.status).toBe(200);
        expect(page.body).toContain('<title>Porthole</title>');
        expect(served.said()).toContain(
          'porthole: not recording history: the SQLite library (libsql) could not be loaded',
        );
      } finally {
        served.stop();
      }
    },
  );

  it('serves Prometheus metrics of the table its collector reads', { timeout: 120_000 }, async () => {
    const server = await namespaces.start(workload, inside, { role: 'listen', host: '127.0.0.1' });
    const exporter = await startUnderWine(
      ['exporter', '--listen', '127.0.0.1:0'],
      'exporter',
      /Porthole metrics at (http:\/\/127\.0\.0\.1:\d+\S*)/,
    );
    try {
      const metrics = await eventually(() => {
        const scrape = fetchInside(exporter.match.replace(/\/?$/, '').replace(/\/metrics$/, '') + '/metrics');
        return scrape.status === 200 ? scrape.body : undefined;
      }, 30_000);
      expect(metrics).toMatch(/^porthole_sockets\{.*protocol="tcp".*state="LISTEN".*\} [1-9]\d*$/m);
      expect(metrics).toContain(`port="${server.port}"`);
    } finally {
      exporter.stop();
    }
  });

  it(
    'names a process from kernel32 (image, start) as stopping one checks it; a pid of none is none',
    { timeout: 120_000 },
    async () => {
      // Wine's tables name no owner, so this asks the collector's process look-up directly, in the
      // built engine (the chunk the CLI loads), about the Windows Node running it.
      const chunk = readdirSync(join(PROJECT_ROOT, 'out', 'main')).find((f) => /^collect-.*\.js$/.test(f))!;
      const script = join(dir, 'identity.js');
      writeFileSync(
        script,
        `const engine = require(${JSON.stringify(windowsPath(join(PROJECT_ROOT, 'out', 'main', chunk)))});
const identity = engine.processIdentity();
process.stdout.write(JSON.stringify({ me: identity.current(process.pid), pid: process.pid, none: identity.current(999999) }));`,
      );
      const started = Date.now();
      const run = await underWine([], 'identity', windowsPath(script));
      expect(run.stderr).toBe('');
      const answer = JSON.parse(run.stdout) as { me: ProcessInfo; pid: number; none: ProcessInfo | null };
      expect(answer.me).toMatchObject({
        pid: answer.pid,
        name: 'node.exe',
        command: expect.stringMatching(/\\node\.exe$/),
      });
      // Its start, from GetProcessTimes: within this test's run.
      const startedAt = Date.parse(answer.me.startedAt!);
      expect(startedAt).toBeGreaterThanOrEqual(started - 5_000);
      expect(startedAt).toBeLessThanOrEqual(Date.now());
      expect(answer.none).toBeNull();
    },
  );
});
