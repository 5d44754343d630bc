// The test suite's own safety (issue 10): a missing browser fails at once with one line, and a
// failed browser launch leaves no `porthole serve` running behind it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openServedUi } from '../helpers/browser';
import { PROJECT_ROOT } from '../helpers/cli';

const saved = process.env.CHROME_PATH;
afterEach(() => {
  if (saved === undefined) delete process.env.CHROME_PATH;
  else process.env.CHROME_PATH = saved;
});

/** Live (non-zombie) children of this process running `porthole serve`. */
function serveChildren(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return Number(ppid) === process.pid && state !== 'Z' && command.includes('serve');
      } catch {
        return false; // it exited while we looked
      }
    })
    .map(Number);
}

describe('test helpers', () => {
  it('end the porthole serve they started when Chromium cannot be launched', async () => {
    process.env.CHROME_PATH = '/bin/false';
    await expect(openServedUi([])).rejects.toThrow();
    expect(serveChildren()).toEqual([]);
  });

  it('npm test checks its prerequisites first and names what to install in one line', () => {
    const script = join(PROJECT_ROOT, 'scripts', 'test-prerequisites.cjs');
    const run = spawnSync(process.execPath, [script], {
      encoding: 'utf8',
      env: { ...process.env, CHROME_PATH: '/nonexistent/chrome' },
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      'npm test needs Chromium (apt-get install chromium, or set CHROME_PATH to a Chromium or Chrome binary).',
    ]);
  });
});

describe('npm test on a fresh machine', () => {
  it('knows the Debian package of every command it drives that is missing', async () => {
    const { packagesToInstall } = (await import(join(PROJECT_ROOT, 'scripts', 'test-prerequisites.cjs'))) as {
      packagesToInstall: () => string[];
    };
    const path = process.env.PATH;
    const chrome = process.env.CHROME_PATH;
    try {
      // Nothing on the PATH, the browser the user's own: every command-line package, not Chromium.
      process.env.PATH = '/nonexistent';
      process.env.CHROME_PATH = '/nonexistent/chrome';
      expect(packagesToInstall()).toEqual(
        expect.arrayContaining(['iproute2', 'util-linux', 'python3', 'prometheus', 'apache2-utils', 'bsdutils']),
      );
      expect(packagesToInstall()).not.toContain('chromium');
      // A command that is there is not installed again.
      const bin = mkdtempSync(join(tmpdir(), 'porthole-path-'));
      writeFileSync(join(bin, 'ss'), '#!/bin/sh\n', { mode: 0o755 });
      process.env.PATH = bin;
      expect(packagesToInstall()).not.toContain('iproute2');
      expect(packagesToInstall()).toContain('util-linux');
      rmSync(bin, { recursive: true });
    } finally {
      process.env.PATH = path;
      if (chrome === undefined) delete process.env.CHROME_PATH;
      else process.env.CHROME_PATH = chrome;
    }
  });
});
