#!/usr/bin/env node
// `npm start`: the Electron app when its runtime is installed; otherwise say so in one sentence and
// fall back to serving the same UI on loopback (`porthole serve`), printing the URL to open.
const { spawn } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

/**
 * The Electron binary if it is installed. Read from the electron package's files rather than by
 * require('electron'), which would try to download the binary from GitHub on the spot.
 */
function electronBinary() {
  try {
    const pkg = join(require.resolve('electron/package.json'), '..');
    const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
    const name = existsSync(join(pkg, 'path.txt')) ? readFileSync(join(pkg, 'path.txt'), 'utf8').trim() : 'electron';
    const binary = join(override || join(pkg, 'dist'), name);
    return existsSync(binary) ? binary : null;
  } catch {
    return null; // the electron package itself is not installed
  }
}

const binary = electronBinary();
if (binary) {
  const app = spawn(binary, [root], { stdio: 'inherit' });
  app.on('exit', (code) => process.exit(code ?? 0));
} else {
  process.stderr.write(
    'The Electron runtime is not installed here (npm cannot download its binary on this machine), so Porthole serves the same UI to your browser instead: `porthole serve`.\n',
  );
  process.argv = [process.argv[0], join(__dirname, 'porthole.js'), 'serve', ...process.argv.slice(2)];
  require('./porthole.js');
}
