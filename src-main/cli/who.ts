// `porthole who PORT`: the Port Doctor's answer to "why can't I bind it?".

import { examinePort } from '../collect/port-evidence';
import { diagnosisText } from '../track/port-doctor';
import { portRequest, UsageError } from './args';
import { defineVerb, EXIT_FAILURE, EXIT_OK } from './io';
import { stopOwners } from './stop-owners';

export const who = defineVerb({
  name: 'who',
  arguments: 'PORT[/tcp|/udp]',
  summary: 'Who holds a port, and why a bind to it fails',
  description: `Why a bind to PORT fails: who listens, conflicts, TIME_WAIT leftovers, the kernel's answer
to a real bind, and what to do. Exit 0 when the port is free to bind, 1 when not, 2 on bad input.`,
  options: {
    address: { type: 'string', value: 'A', description: 'the address to bind (default: every interface)' },
    json: { type: 'boolean', description: 'print the diagnosis as JSON' },
    kill: { type: 'boolean', description: 'then stop the processes holding it, after a confirmation' },
    force: { type: 'boolean', description: 'with --kill: SIGKILL after 3 s if SIGTERM is not enough' },
    yes: { type: 'boolean', description: 'with --kill: do not ask (for scripts)' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length > 1) throw new UsageError(`One port at a time, not "${positionals.join(' ')}".`);
    const diagnosis = await examinePort(portRequest(positionals[0], values.address));
    io.stdout(values.json ? JSON.stringify(diagnosis, null, 2) + '\n' : diagnosisText(diagnosis));
    if (values.kill && diagnosis.verdict !== 'free')
      return stopOwners(diagnosis, { force: values.force === true, yes: values.yes === true }, io);
    return diagnosis.verdict === 'free' ? EXIT_OK : EXIT_FAILURE;
  },
});
