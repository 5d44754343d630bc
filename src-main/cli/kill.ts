// `porthole kill PORT`: stop what listens on PORT, after a confirmation.

import { examinePort } from '../collect/port-evidence';
import { parseWithPositionals, portRequest, UsageError } from './args';
import type { Verb } from './io';
import { stopOwners } from './stop-owners';

export const kill: Verb = {
  name: 'kill',
  usage: `  porthole kill PORT[/tcp|/udp] [--force] [--yes]
      Stop the processes listening on PORT (SIGTERM; SIGKILL after 3 s with --force), after a
      confirmation; a pid reused by another process since it was looked at is never signalled.
`,
  async run(args, io) {
    const { values, positionals } = parseWithPositionals(args, {
      force: { type: 'boolean' },
      yes: { type: 'boolean' },
    });
    if (positionals.length > 1) throw new UsageError(`One port at a time, not "${positionals.join(' ')}".`);
    const diagnosis = await examinePort(portRequest(positionals[0], undefined));
    return stopOwners(diagnosis, { force: values.force === true, yes: values.yes === true }, io);
  },
};
