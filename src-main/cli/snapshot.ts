// `porthole snapshot`: every socket with its owner, printed or written atomically to a file.

import { createCollector, hostInfo } from '../collect';
import { buildSnapshot } from '../export/snapshot';
import { EXPORT_FORMATS, isExportFormat, renderSnapshot, type ExportFormat } from '../export/formats';
import { writeFileAtomic } from '../export/write-atomic';
import { UsageError } from './args';
import { firstScreen } from './first-screen';
import { defineVerb, EXIT_OK } from './io';
import type { Snapshot } from '../shared/contract';

function chooseFormat(requested: string | undefined, output: string | undefined): ExportFormat {
  if (requested !== undefined) {
    if (!isExportFormat(requested))
      throw new UsageError(`Unknown format "${requested}": use ${EXPORT_FORMATS.join(', ')}.`);
    return requested;
  }
  const extension = output?.split('.').pop()?.toLowerCase();
  if (extension === 'json' || extension === 'csv') return extension;
  if (extension === 'md') return 'markdown';
  // Text on a terminal and in a pipe alike (`porthole snapshot | grep :3000` finds whole lines,
  // the owner on each); JSON only when asked.
  return 'text';
}

/** The table at a past moment, rebuilt from the history (the moment it names, not now). */
async function pastSnapshot(when: string, path: string | undefined): Promise<Snapshot> {
  const [{ askHistory, momentOption }, { snapshotAt }] = await Promise.all([
    import('./history'),
    import('../history/read'),
  ]);
  const at = momentOption('at', when, Date.now());
  return askHistory(path, (store) => snapshotAt(store, at, hostInfo()));
}

export const snapshot = defineVerb({
  name: 'snapshot',
  summary: 'Every socket with its owning process, printed or written to a file',
  description: `On a terminal: who listens where, with its owner, then what is connected, by process,
what ended summed (--all lists every socket). Else every socket with its owning process, printed
or written atomically to FILE. The format defaults to FILE's extension, else text (a pipe too:
one socket a line, its owner on it).`,
  options: {
    all: { type: 'boolean', description: 'on a terminal: every socket, not the first screen' },
    format: { type: 'string', value: 'json|csv|text|markdown', description: 'the format to write' },
    output: { type: 'string', value: 'FILE', description: 'write to FILE (atomically) instead of printing' },
    at: {
      type: 'string',
      value: 'T',
      description: 'the table as it was at T ("15:12", "10 min ago", ISO 8601), from the history serve records',
    },
    history: {
      type: 'string',
      value: 'PATH',
      description: 'with --at: the history database (default: the per-user one)',
    },
  },
  async run({ values }, io) {
    const format = chooseFormat(values.format, values.output);
    if (values.history !== undefined && values.at === undefined) throw new UsageError('--history goes with --at.');
    const document =
      values.at === undefined
        ? buildSnapshot(await createCollector().collect(), hostInfo(), new Date())
        : await pastSnapshot(values.at, values.history);
    // The first screen, where a person reads it; the whole table where a program or a file does.
    const firstScreenOnly = io.isTTY && !values.all && values.format === undefined && values.output === undefined;
    const text = firstScreenOnly ? firstScreen(document, io.columns ?? 100) : renderSnapshot(document, format);
    if (values.output === undefined) {
      io.stdout(text);
      return EXIT_OK;
    }
    writeFileAtomic(values.output, text);
    io.stderr(`Wrote ${document.sockets.length} sockets to ${values.output} (${format}).\n`);
    return EXIT_OK;
  },
});
