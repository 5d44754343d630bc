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
  /** The terminal's width in columns, when stdout is one. */
  columns?: number;
  /** Settles when whoever reads stdout has gone (`watch | head`): a long-running command then ends quietly. */
  outputClosed?: Promise<void>;
}

/** A verb's option: a flag, or one that takes a value (named in its help), or one given again and again. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** What the value is called in the help (`--port N`). */
  value?: string;
  description: string;
}
export type OptionSpecs = Record<string, OptionSpec>;

/** The options as given, by their long names, typed from their specs. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K]['multiple'] extends true ? string[] : string;
};

/** One verb: what its help says, the options it takes, and what it does with them. */
export interface Verb<O extends OptionSpecs = OptionSpecs> {
  name: string;
  /** Its arguments as its usage line names them (`PORT[/tcp|/udp]`); none when it takes none. */
  arguments?: string;
  /** One line, for the list of verbs. */
  summary: string;
  /** What it does, for `porthole VERB --help`: a few lines. */
  description: string;
  options: O;
  run(input: { values: OptionValues<O>; positionals: string[] }, io: CliIo): Promise<number>;
}

/** A verb, its option values typed from its option specs. */
export function defineVerb<O extends OptionSpecs>(verb: Verb<O>): Verb<O> {
  return verb;
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
