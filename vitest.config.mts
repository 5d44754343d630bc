import { defineConfig } from 'vitest/config';

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
    env: { PORTHOLE_REVERSE_DNS: 'hosts' },
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
  },
});
