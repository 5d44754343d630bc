// The Windows collector's figures for `npm run bench` (issue 28): Porthole's CLI run by the
// Windows build of Node under Wine reads 2,000 and 20,000 loopback sockets held in a network
// namespace of the bench's own, beside Wine's own `netstat -ano` on the same table. One run each:
// Wine looks up an owner for every row of an owner-pid table (~2 ms a row), so a read of 20,000
// takes tens of seconds. Root only (the namespace).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../src-main/shared/contract';
import { holdSockets } from './held-sockets';

export const WINDOWS_SIZES = [2_000, 20_000];

export interface WindowsFigures {
  size: number;
  /** Sockets the Windows snapshot held, and what its collector took (stats.scanMs). */
  sockets: number;
  collectorMs: number;
  /** Wall time of `porthole snapshot` and of `netstat -ano`, each a Windows program under Wine. */
  portholeMs: number;
  netstatMs: number;
}

interface Wine {
  wine?: string;
  node?: string;
  prefix?: string;
  reason?: string;
}

/** The figures at each size, or why they cannot be taken here. */
export async function benchWindows(root: string, helpers: string): Promise<WindowsFigures[] | { reason: string }> {
  const script = join(root, 'scripts', 'windows-under-wine.cjs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { windowsUnderWine } = require(script) as { windowsUnderWine: () => Wine };
  const wine = windowsUnderWine();
  if (wine.reason) return { reason: wine.reason };
  if (process.getuid?.() !== 0) return { reason: 'a network namespace of its own needs root' };
  const env = { ...process.env, WINEPREFIX: wine.prefix, WINEDEBUG: '-all', NODE_SKIP_PLATFORM_CHECK: '1' };
  // The next Wine program starts the prefix's server where it runs: in the namespace.
  const endServer = () => spawnSync(join(wine.wine!, '..', 'wineserver64'), ['-k'], { env, stdio: 'ignore' });
  const namespace = `pb${process.pid}win`;
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-wine-'));
  const figures: WindowsFigures[] = [];
  endServer();
  execFileSync('ip', ['netns', 'add', namespace]);
  try {
    execFileSync('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    // A Windows program under Wine cannot write to a Linux pipe (EBADF): its stderr goes to a file.
    const errors = join(dir, 'stderr.txt');
    const inside = (command: string, args: string[]) => {
      const fd = openSync(errors, 'w');
      const started = performance.now();
      const run = spawnSync('ip', ['netns', 'exec', namespace, command, ...args], {
        env,
        cwd: dir,
        stdio: ['ignore', 'ignore', fd],
      });
      const ms = performance.now() - started;
      closeSync(fd);
      if (run.status !== 0)
        throw new Error(`${command} ${args.join(' ')}: ${readFileSync(errors, 'utf8').slice(0, 400)}`);
      return ms;
    };
    for (const size of WINDOWS_SIZES) {
      process.stderr.write(`\n== Windows under Wine, ${size} sockets: setting up…\n`);
      const { workload } = await holdSockets(size, helpers, (w, plan) =>
        w.run('ip', [
          'netns',
          'exec',
          namespace,
          process.execPath,
          join(helpers, 'socket-child.cjs'),
          JSON.stringify(plan),
        ]),
      );
      try {
        const file = join(dir, `snapshot-${size}.json`);
        const cli = `Z:${join(root, 'out', 'main', 'cli.js').replaceAll('/', '\\')}`;
        inside(wine.wine!, ['wineboot']); // the server up before either is timed
        const portholeMs = inside(wine.wine!, [
          wine.node!,
          cli,
          'snapshot',
          '--format',
          'json',
          '--output',
          `Z:${file.replaceAll('/', '\\')}`,
        ]);
        const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
        const netstatMs = inside(wine.wine!, ['netstat', '-ano']);
        figures.push({
          size,
          sockets: snapshot.sockets.length,
          collectorMs: snapshot.stats.scanMs,
          portholeMs,
          netstatMs,
        });
      } finally {
        await workload.stop();
      }
    }
  } finally {
    endServer();
    execFileSync('ip', ['netns', 'delete', namespace]);
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

export function printWindowsFigures(result: WindowsFigures[] | { reason: string }): void {
  if ('reason' in result) {
    console.log(`\nWindows under Wine: not measured (${result.reason}).`);
    return;
  }
  console.log(`
Windows under Wine (Porthole's CLI by the Windows build of Node; one run each, wall time):
  sockets   porthole snapshot (its collector)   wine netstat -ano   ratio`);
  for (const f of result)
    console.log(
      `  ${String(f.sockets).padStart(7)}   ${f.portholeMs.toFixed(0).padStart(8)} ms (${f.collectorMs.toFixed(0).padStart(6)} ms)        ${f.netstatMs.toFixed(0).padStart(8)} ms   ${(f.portholeMs / f.netstatMs).toFixed(2)}×`,
    );
  console.log(`  Wine's netstat ignores -o (it prints no PID column) and reads the table without owners; Porthole
  reads the owner-pid tables, for which Wine looks up each row's owner (and under Wine finds none).`);
}
