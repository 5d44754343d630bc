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

/** The missing prerequisites, each as [what, how to install it]. */
function missing() {
  const gaps = [];
  if (!findChromium())
    gaps.push(['Chromium', 'apt-get install chromium, or set CHROME_PATH to a Chromium or Chrome binary']);
  for (const [command, pkg] of [
    ['ss', 'iproute2'],
    ['setpriv', 'util-linux'],
    ['python3', 'python3'],
    ['promtool', 'prometheus'],
    ['prometheus', 'prometheus'],
    // The exporter's basic-auth passwords are hashed by Apache's own tool, not by the code that checks them.
    ['htpasswd', 'apache2-utils'],
  ])
    if (!onPath(command)) gaps.push([command, `apt-get install ${pkg}`]);
  return gaps;
}

module.exports = { findChromium, missing };

if (require.main === module) {
  if (process.platform !== 'linux') {
    console.error('npm test runs on Linux: its system tests read /proc and drive real sockets.');
    process.exit(1);
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
}
