// `porthole kill PORT`: stop what listens on PORT, after a confirmation.

import { examinePort } from '../collect/port-evidence';
import { portRequest, UsageError } from './args';
import { defineVerb } from './io';
import { stopOwners } from './stop-owners';

export const kill = defineVerb({
  name: 'kill',
  arguments: 'PORT[/tcp|/udp]',
  summary: 'Stop the processes listening on a port, after a confirmation',
  description: `Stop the processes listening on PORT (SIGTERM; SIGKILL after 3 s with --force), after a
confirmation; a pid reused by another process since it was looked at is never signalled.`,
  options: {
    force: { type: 'boolean', description: 'SIGKILL after 3 s if SIGTERM is not enough' },
    yes: { type: 'boolean', description: 'do not ask (for scripts)' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length > 1) throw new UsageError(`One port at a time, not "${positionals.join(' ')}".`);
    const diagnosis = await examinePort(portRequest(positionals[0], undefined));
    return stopOwners(diagnosis, { force: values.force === true, yes: values.yes === true }, io);
  },
});
