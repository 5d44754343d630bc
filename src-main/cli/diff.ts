// `porthole diff BEFORE AFTER`: what changed between two snapshot files.

import { comparisonText } from '../export/formats';
import { readSnapshotFile } from '../export/read-snapshot-file';
import { compareTables, isSameTable } from '../track/compare';
import { UsageError } from './args';
import { defineVerb, EXIT_FAILURE, EXIT_OK } from './io';

export const diff = defineVerb({
  name: 'diff',
  arguments: 'BEFORE.json AFTER.json',
  summary: 'What changed between two snapshots',
  description: `Listeners opened and closed, connections appeared and gone, state and owner changes.
Exit 0 when the tables are the same, 1 when they differ, 2 on a file that cannot be read.`,
  options: { json: { type: 'boolean', description: 'print the comparison as JSON' } },
  async run({ values, positionals }, io) {
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
});
