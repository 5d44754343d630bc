// The `porthole` command line: a dispatcher over one file per verb (as git's builtin/). A verb only
// moves bytes and words; the engine, the Port Doctor and the actions do the rest.

import { ImportError } from '../export/import-snapshot';
import { ExportError, ExportRefused } from '../export/write-atomic';
import { UsageError } from './args';
import { close } from './close';
import { diff } from './diff';
import { exporter } from './exporter';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo, type Verb } from './io';
import { kill } from './kill';
import { serve } from './serve';
import { snapshot } from './snapshot';
import { wait } from './wait';
import { watch } from './watch';
import { who } from './who';

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io';
export { describeChains, describeDelta, describeLosses, eventModeWords } from './watch';

/** In the order the usage text lists them. */
const VERBS: readonly Verb[] = [snapshot, who, kill, close, wait, diff, watch, serve, exporter];

const USAGE = `Usage:\n${VERBS.map((verb) => verb.usage).join('')}  porthole help\n`;

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const verb = VERBS.find((v) => v.name === command);
  if (!verb) {
    io.stderr(`${command === undefined ? 'No command given' : `Unknown command "${command}"`}.\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    return await verb.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ImportError || error instanceof ExportRefused) {
      io.stderr(`${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ExportError) {
      io.stderr(`${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}
