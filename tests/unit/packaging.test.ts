// Packaging (issue 13): the electron-builder configuration passes electron-builder's own schema
// check, every file the built app loads is packaged (and what must be a real file is unpacked),
// and the icons made from resources/icon.svg are what each platform reads. The installers
// themselves download Electron from GitHub and cannot be built here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { minimatch } from 'minimatch';
import { validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger } from 'builder-util';
import { consentCommand } from '../../src-main/desktop/consent';

const ROOT = join(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const config = require(join(ROOT, 'electron-builder.config.cjs')) as {
  files: string[];
  asarUnpack: string[];
  linux: { icon: string; executableName: string; extraResources: { from: string; to: string }[] };
  mac: { icon: string; entitlements: string };
  win: { icon: string };
  [key: string]: unknown;
};

/** Whether electron-builder's `files` patterns (with `!` exclusions, in order) take a path. */
function packaged(path: string, patterns: string[]): boolean {
  let taken = false;
  for (const pattern of patterns)
    if (pattern.startsWith('!')) {
      if (minimatch(path, pattern.slice(1), { dot: true })) taken = false;
    } else if (minimatch(path, pattern, { dot: true })) taken = true;
  return taken;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [relative(ROOT, join(dir, entry.name))],
  );
}

describe('packaging', () => {
  it('passes electron-builder’s own schema check, which refuses a misspelt option', async () => {
    await expect(validateConfiguration(config as never, new DebugLogger(false))).resolves.toBeUndefined();
    const misspelt = { ...config, linux: { ...config.linux, categorie: 'Development' } };
    await expect(validateConfiguration(misspelt as never, new DebugLogger(false))).rejects.toThrow(
      /does not match the API schema[\s\S]*configuration\.linux/,
    );
  });

  it('packages every file the built app loads, and none of the benchmark’s', () => {
    expect(existsSync(join(ROOT, 'out/main/index.js')), 'run npm run build first').toBe(true);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string };
    const entries = [
      pkg.main,
      'out/preload/index.js',
      'out/renderer/index.html',
      'out/main/poll-worker.js',
      'out/main/event-worker.js',
      'out/main/sources-worker.js',
      'out/main/recorder-worker.js',
    ];
    for (const entry of entries) {
      expect(existsSync(join(ROOT, entry)), entry).toBe(true);
      expect(packaged(entry, config.files), entry).toBe(true);
    }
    // Everything built for the app (chunks the entries import, renderer assets) goes in.
    const built = ['out/main', 'out/preload', 'out/renderer'].flatMap((dir) => walk(join(ROOT, dir)));
    expect(built.length).toBeGreaterThan(entries.length);
    for (const file of built) expect(packaged(file, config.files), file).toBe(true);
    if (existsSync(join(ROOT, 'out/bench')))
      for (const file of walk(join(ROOT, 'out/bench'))) expect(packaged(file, config.files)).toBe(false);
  });

  it('unpacks koffi’s and libsql’s native libraries (dlopen needs a real file), and only what must be', () => {
    const native = ['node_modules/@koromix', 'node_modules/@libsql'].flatMap((dir) =>
      walk(join(ROOT, dir)).filter((f) => f.endsWith('.node')),
    );
    expect(native.some((f) => f.includes('@libsql'))).toBe(true);
    expect(native.length).toBeGreaterThan(0);
    for (const file of [...native, 'node_modules/koffi/index.cjs'])
      expect(
        config.asarUnpack.some((pattern) => minimatch(file, pattern)),
        file,
      ).toBe(true);
    expect(config.asarUnpack.some((pattern) => minimatch('out/main/index.js', pattern))).toBe(false);
  });

  it('has the icons each platform reads, made from the one drawing', () => {
    expect(readFileSync(join(ROOT, 'resources/icon.svg'), 'utf8')).toContain('<svg');
    const pngs = readdirSync(join(ROOT, config.linux.icon));
    expect(pngs).toContain('512x512.png');
    for (const name of pngs) {
      const png = readFileSync(join(ROOT, config.linux.icon, name));
      const [, size] = /^(\d+)x\1\.png$/.exec(name)!;
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect([png.readUInt32BE(16), png.readUInt32BE(20)], name).toEqual([Number(size), Number(size)]);
    }
    expect(readFileSync(join(ROOT, config.mac.icon)).subarray(0, 4).toString()).toBe('icns');
    const ico = readFileSync(join(ROOT, config.win.icon));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]); // reserved, type 1: an icon
    expect(ico.readUInt16LE(4)).toBeGreaterThanOrEqual(5); // sizes from 16 to 256
    expect(readFileSync(join(ROOT, config.mac.entitlements), 'utf8')).toContain('com.apple.security.cs.allow-jit');
  });

  it('ships the privileged helper: the polkit action names the wrapper pkexec is asked to run, which runs the packaged helper', () => {
    const policy = readFileSync(join(ROOT, 'resources/linux/dev.porthole.helper.policy'), 'utf8');
    const execPath = /key="org\.freedesktop\.policykit\.exec\.path">([^<]+)</.exec(policy)?.[1];
    const installed = consentCommand({
      platform: 'linux',
      packaged: true,
      resourcesPath: '/opt/Porthole/resources',
      execPath: '',
      helperScript: '',
    });
    expect(installed).toEqual({ kind: 'pipes', command: 'pkexec', args: [execPath] });
    expect(config.linux.extraResources.map((r) => r.to)).toEqual(['porthole-helper', 'dev.porthole.helper.policy']);
    const wrapper = readFileSync(join(ROOT, 'resources/linux/porthole-helper'), 'utf8');
    expect(wrapper).toContain(`$here/../${config.linux.executableName}`);
    const script = /app\.asar\/(out\/main\/helper\.js)/.exec(wrapper)?.[1];
    expect(script && packaged(script, config.files)).toBe(true);
    expect(existsSync(join(ROOT, script!))).toBe(true);
    // Asked every time: a remembered consent would let any process of the session start a helper.
    expect(policy).toContain('<allow_active>auth_admin</allow_active>');
    expect(policy).toContain('<allow_any>no</allow_any>');
  });
});
