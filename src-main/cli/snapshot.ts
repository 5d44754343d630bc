// `porthole snapshot`: every socket with its owner, printed or written atomically to a file.

import { createCollector, hostInfo } from '../collect';
import { buildSnapshot } from '../export/snapshot';
import { EXPORT_FORMATS, isExportFormat, renderSnapshot, type ExportFormat } from '../export/formats';
import { writeFileAtomic } from '../export/write-atomic';
import { parse, UsageError } from './args';
import { EXIT_OK, type Verb } from './io';

function chooseFormat(requested: string | undefined, output: string | undefined, isTTY: boolean): ExportFormat {
  if (requested !== undefined) {
    if (!isExportFormat(requested))
      throw new UsageError(`Unknown format "${requested}": use ${EXPORT_FORMATS.join(', ')}.`);
    return requested;
  }
  const extension = output?.split('.').pop()?.toLowerCase();
  if (extension === 'json' || extension === 'csv') return extension;
  if (extension === 'md') return 'markdown';
  if (output !== undefined || isTTY) return 'text';
  return 'json';
}

export const snapshot: Verb = {
  name: 'snapshot',
  usage: `  porthole snapshot [--format json|csv|text|markdown] [--output FILE]
      Print (or write atomically to FILE) every socket with its owning process.
      The format defaults to FILE's extension, else text on a terminal and json in a pipe.
`,
  async run(args, io) {
    const values = parse(args, { format: { type: 'string' }, output: { type: 'string' } });
    const format = chooseFormat(values.format, values.output, io.isTTY);
    const scan = await createCollector().collect();
    const document = buildSnapshot(scan, hostInfo(), new Date());
    const text = renderSnapshot(document, format);
    if (values.output === undefined) {
      io.stdout(text);
      return EXIT_OK;
    }
    writeFileAtomic(values.output, text);
    io.stderr(`Wrote ${document.sockets.length} sockets to ${values.output} (${format}).\n`);
    return EXIT_OK;
  },
};
