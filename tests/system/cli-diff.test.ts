// The real `porthole diff` over two real snapshots taken before and after a listener opened.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Comparison } from '../../src-main/track/compare';
import { runPorthole } from '../helpers/cli';
import { Workload } from '../helpers/workload';

const workload = new Workload();
const dir = mkdtempSync(join(tmpdir(), 'porthole-diff-'));
afterAll(async () => {
  await workload.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('porthole diff', () => {
  it('reports a listener opened between two snapshots, and no differences between a file and itself', async () => {
    const before = join(dir, 'before.json');
    const after = join(dir, 'after.json');
    expect(runPorthole(['snapshot', '--output', before]).status).toBe(0);
    const server = await workload.start({ role: 'listen', host: '127.0.0.1' });
    expect(runPorthole(['snapshot', '--output', after]).status).toBe(0);

    const run = runPorthole(['diff', before, after, '--json']);
    expect(run.status).toBe(1);
    const comparison = JSON.parse(run.stdout) as Comparison;
    expect(comparison.listenersOpened).toContainEqual(
      expect.objectContaining({ localAddress: '127.0.0.1', localPort: server.port, pid: server.pid }),
    );
    expect(runPorthole(['diff', before, after]).stdout).toMatch(
      new RegExp(`Listeners opened \\(\\d+\\):[^]*tcp 127\\.0\\.0\\.1:${server.port} node\\[${server.pid}\\]`),
    );
    const same = runPorthole(['diff', after, after]);
    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(/No differences\./);
  });

  it('refuses a hostile file with exit 2 and the reason', () => {
    const hostile = join(__dirname, '..', 'fixtures', 'hostile-snapshots', 'proto-root.json');
    const run = runPorthole(['diff', hostile, hostile]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Cannot import ".*proto-root\.json": the key "__proto__" is not allowed/);
    expect(runPorthole(['diff', hostile]).stderr).toMatch(/diff takes two snapshot files/);
  });

  it('refuses a FIFO at once (no writer: an ordinary open would wait forever) and a device, with exit 2', () => {
    const fifo = join(dir, 'pipe.json');
    execFileSync('mkfifo', [fifo]);
    const valid = join(__dirname, '..', 'fixtures', 'hostile-snapshots', 'valid.snapshot');
    const started = Date.now();
    const run = runPorthole(['diff', fifo, valid], { timeout: 10_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Cannot import ".*pipe\.json": it is a named pipe \(FIFO\), not a regular file\./);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(runPorthole(['diff', valid, '/dev/zero'], { timeout: 10_000 })).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/"\/dev\/zero": it is a character device, not a regular file/),
    });
  });
});
