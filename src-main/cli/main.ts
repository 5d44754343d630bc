// The built entry of the `porthole` command (bin/porthole.js loads it).

import { runCli } from './index';

// A reader that goes away (`porthole watch --json | head -c 100`) is a normal end, not an error:
// stop writing, let a streaming command stop, and exit 0 unless something else failed.
let outputGone = false;
const outputClosed = new Promise<void>((resolve) => {
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      if (stream === process.stdout) {
        outputGone = true;
        resolve();
      }
    });
});

runCli(process.argv.slice(2), {
  stdout: (text) => {
    if (!outputGone) process.stdout.write(text);
  },
  stderr: (text) => process.stderr.write(text),
  isTTY: Boolean(process.stdout.isTTY),
  columns: process.stdout.columns,
  outputClosed,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`porthole: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
