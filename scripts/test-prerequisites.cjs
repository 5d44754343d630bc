// What `npm test` needs on the machine beyond npm packages. Run first by `npm test`, so a machine
// without them fails at once with one line naming what to install, not with cascading errors.
// Also exports findChromium() for the end-to-end tests and the benchmark.
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { delimiter, join } = require('node:path');

const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

/** The Chromium to drive: CHROMIUM_PATH or CHROME_PATH if set, else the first one installed. */
function findChromium() {
  for (const variable of ['CHROMIUM_PATH', 'CHROME_PATH']) {
    const path = process.env[variable];
    if (path) return existsSync(path) ? path : null;
  }
  for (const name of BROWSERS) {
    for (const dir of ['/usr/bin', '/usr/local/bin', '/snap/bin'])
      if (existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/**
 * What the tests drive, as [command or path, Debian package, required]. Optional ones are used
 * when present and their tests say why they skip otherwise (a real container), or serve the
 * benchmark (netstat, lsof).
 */
const PACKAGES = [
  ['ss', 'iproute2', true],
  ['setpriv', 'util-linux', true],
  ['python3', 'python3', true],
  ['promtool', 'prometheus', true],
  ['prometheus', 'prometheus', true],
  // The exporter's basic-auth passwords are hashed by Apache's own tool, not by the code that checks them.
  ['htpasswd', 'apache2-utils', true],
  ['script', 'bsdutils', true],
  ['netstat', 'net-tools', false],
  ['lsof', 'lsof', false],
  ['podman', 'podman', false],
  ['runc', 'runc', false],
  ['/bin/busybox', 'busybox-static', false],
  // The stress test's real servers and their load tools (tests/system/stress.test.ts).
  ['/usr/lib/postgresql', 'postgresql', false],
  ['redis-server', 'redis-server', false],
  ['redis-benchmark', 'redis-tools', false],
  ['nginx', 'nginx-light', false],
  ['wrk', 'wrk', false],
  // Windows under Wine (scripts/windows-under-wine.cjs): the Windows collector runs for real.
  ['/usr/lib/wine/wine64', 'wine64', false],
];

const present = (what) => (what.startsWith('/') ? existsSync(what) : onPath(what));

/** The missing prerequisites, each as [what, how to install it]. */
function missing() {
  const gaps = [];
  if (!findChromium())
    gaps.push(['Chromium', 'apt-get install chromium, or set CHROME_PATH to a Chromium or Chrome binary']);
  for (const [command, pkg, required] of PACKAGES)
    if (required && !present(command)) gaps.push([command, `apt-get install ${pkg}`]);
  return gaps;
}

/** Debian packages to install: every one whose command is missing, optional ones too. */
function packagesToInstall() {
  const packages = new Set(PACKAGES.filter(([command]) => !present(command)).map(([, pkg]) => pkg));
  // A browser named by CHROMIUM_PATH or CHROME_PATH is the user's choice: not replaced by Debian's.
  if (!findChromium() && !process.env.CHROMIUM_PATH && !process.env.CHROME_PATH) packages.add('chromium');
  return [...packages];
}

/** As root on a Debian-like system: installs what is missing with apt-get, saying so. */
function install() {
  const packages = packagesToInstall();
  if (packages.length === 0) return true;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !onPath('apt-get')) return false;
  console.error(`npm test: installing ${packages.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    });
    return true;
  } catch {
    console.error('npm test: apt-get could not install them (see above).');
    return false;
  }
}

module.exports = { findChromium, missing, packagesToInstall };

if (require.main === module) {
  if (process.platform !== 'linux') {
    console.error('npm test runs on Linux: its system tests read /proc and drive real sockets.');
    process.exit(1);
  }
  install();
  // Some tests run Porthole as the user nobody (what an unprivileged user sees): the checkout must
  // be readable by other users, which a clone under /root (mode 700) is not.
  const root = join(__dirname, '..');
  if (process.getuid?.() === 0 && onPath('setpriv')) {
    try {
      execFileSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', join(root, 'bin', 'porthole.js')],
        { stdio: 'ignore' },
      );
    } catch {
      console.error(
        `npm test also runs Porthole as the user nobody, who cannot read ${root}: clone it where other users can read it (e.g. /opt or /srv, not under /root), or make its parent folders searchable (chmod o+x).`,
      );
      process.exit(1);
    }
  }
  const gaps = missing();
  if (gaps.length > 0) {
    console.error(`npm test needs ${gaps.map(([what, how]) => `${what} (${how})`).join(', ')}.`);
    process.exit(1);
  }
  // Touch the browser once: a binary that cannot start is as missing as none.
  try {
    execFileSync(findChromium(), ['--version'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    console.error(
      `npm test needs a working Chromium: ${findChromium()} --version failed (reinstall it: apt-get install chromium).`,
    );
    process.exit(1);
  }
  // The Windows builds of Node and koffi, from the registry: the Wine tests skip, saying why, without them.
  const wine = require('./windows-under-wine.cjs').prepareWindowsUnderWine();
  if (wine.reason) console.error(`npm test: the Windows tests will skip: ${wine.reason}.`);
}
