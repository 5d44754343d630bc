// What every verb is given and returns: the terminal's two streams, and an exit code.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
  /** Settles when whoever reads stdout has gone (`watch | head`): a long-running command then ends quietly. */
  outputClosed?: Promise<void>;
}

/** One verb: its lines of the usage text, and what it does with its arguments. */
export interface Verb {
  name: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/**
 * A long-running command runs until Ctrl-C or SIGTERM; one that streams to stdout also until its
 * reader goes away. (`serve` keeps serving when `serve | head -1` has taken its URL.)
 */
export function untilStopped(outputClosed?: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    void outputClosed?.then(() => resolve());
  });
}

/** Porthole's version, from package.json beside the built files (out/main → the project). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}
