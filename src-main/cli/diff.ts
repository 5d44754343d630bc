// `porthole diff BEFORE AFTER`: what changed between two snapshot files.

import { comparisonText } from '../export/formats';
import { readSnapshotFile } from '../export/read-snapshot-file';
import { compareTables, isSameTable } from '../track/compare';
import { parseWithPositionals, UsageError } from './args';
import { EXIT_FAILURE, EXIT_OK, type Verb } from './io';

export const diff: Verb = {
  name: 'diff',
  usage: `  porthole diff BEFORE.json AFTER.json [--json]
      Listeners opened and closed, connections appeared and gone, state and owner changes.
      Exit 0 when the tables are the same, 1 when they differ, 2 on a file that cannot be read.
`,
  async run(args, io) {
    const { values, positionals } = parseWithPositionals(args, { json: { type: 'boolean' } });
    if (positionals.length !== 2)
      throw new UsageError('diff takes two snapshot files: porthole diff BEFORE.json AFTER.json');
    const [before, after] = positionals.map((path) => {
      const { takenAt, sockets, processes } = readSnapshotFile(path);
      return { label: path, takenAt, sockets, processes };
    });
    const comparison = compareTables(before, after);
    io.stdout(values.json ? JSON.stringify(comparison, null, 2) + '\n' : comparisonText(comparison));
    return isSameTable(comparison) ? EXIT_OK : EXIT_FAILURE;
  },
};
