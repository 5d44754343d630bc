// `porthole who PORT`: the Port Doctor's answer to "why can't I bind it?".

import { examinePort } from '../collect/port-evidence';
import { diagnosisText } from '../track/port-doctor';
import { parseWithPositionals, portRequest, UsageError } from './args';
import { EXIT_FAILURE, EXIT_OK, type Verb } from './io';
import { stopOwners } from './stop-owners';

export const who: Verb = {
  name: 'who',
  usage: `  porthole who PORT[/tcp|/udp] [--address A] [--json] [--kill [--force] [--yes]]
      Why a bind to PORT fails: who listens, conflicts, TIME_WAIT leftovers, the kernel's answer
      to a real bind, and what to do. Exit 0 when the port is free to bind, 1 when not, 2 on bad input.
`,
  async run(args, io) {
    const { values, positionals } = parseWithPositionals(args, {
      address: { type: 'string' },
      json: { type: 'boolean' },
      kill: { type: 'boolean' },
      force: { type: 'boolean' },
      yes: { type: 'boolean' },
    });
    if (positionals.length > 1) throw new UsageError(`One port at a time, not "${positionals.join(' ')}".`);
    const diagnosis = await examinePort(portRequest(positionals[0], values.address));
    io.stdout(values.json ? JSON.stringify(diagnosis, null, 2) + '\n' : diagnosisText(diagnosis));
    if (values.kill && diagnosis.verdict !== 'free')
      return stopOwners(diagnosis, { force: values.force === true, yes: values.yes === true }, io);
    return diagnosis.verdict === 'free' ? EXIT_OK : EXIT_FAILURE;
  },
};
