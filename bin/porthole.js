#!/usr/bin/env node
// The `porthole` command: loads the built CLI (npm install builds it through `prepare`).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'out', 'main', 'cli.js');
if (!existsSync(entry)) {
  process.stderr.write(`porthole is not built: run "npm install" (or "npm run build") in ${join(__dirname, '..')}.\n`);
  process.exit(1);
}
require(entry);
