// The built entry of the `porthole` command (bin/porthole.js loads it).

import { runCli } from './cli';

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: Boolean(process.stdout.isTTY),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`porthole: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
