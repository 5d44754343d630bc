import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Every Porthole the tests start records its history here (one folder per run), never into the
// user's own state folder.
const stateHome = mkdtempSync(join(tmpdir(), 'porthole-test-state-'));
process.once('exit', () => rmSync(stateHome, { recursive: true, force: true }));

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    // System tests open real sockets and spawn processes: give them room, and run files one at a
    // time so one test's sockets never show up in another's assertions about the whole table.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // Names of remote hosts from /etc/hosts only: no test's lookup may leave the machine (the
    // product's default asks the system resolver, which may ask a DNS server).
    env: { PORTHOLE_REVERSE_DNS: 'hosts', XDG_STATE_HOME: stateHome },
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
  },
});
