// `porthole close LOCAL REMOTE`: abort one TCP connection; its process keeps running.

import { createCollector } from '../collect';
import { closeConnection, findConnection } from '../actions/close-connection';
import { describeSocket } from '../export/formats';
import { printable } from '../shared/printable';
import { confirm, parseEndpoint, UsageError } from './args';
import { defineVerb, EXIT_FAILURE, EXIT_OK } from './io';

export const close = defineVerb({
  name: 'close',
  arguments: 'LOCAL REMOTE',
  summary: 'Close one TCP connection; its process keeps running',
  description: `Close one TCP connection (root; the kernel aborts it, as ss -K does): its process keeps
running, gets ECONNABORTED on it, and the peer a reset. LOCAL and REMOTE as 127.0.0.1:5000
or [::1]:5000, after a confirmation that names both ends and the owner.`,
  options: { yes: { type: 'boolean', description: 'do not ask (for scripts)' } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 2)
      throw new UsageError('close takes both ends of one TCP connection: porthole close LOCAL REMOTE');
    const local = parseEndpoint(positionals[0], 'LOCAL');
    const remote = parseEndpoint(positionals[1], 'REMOTE');
    const scan = await createCollector().collect();
    const found = findConnection(scan.sockets, {
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
    });
    if (typeof found === 'string') {
      io.stderr(`Nothing was closed: ${found}.\n`);
      return EXIT_FAILURE;
    }
    const owner = scan.processes.find((p) => p.pid === found.pid);
    io.stdout(
      printable(
        `${describeSocket(found)} ${found.state}, owner ${owner ? `${owner.name} (pid ${owner.pid}): ${owner.command || owner.name}` : 'unknown'}`,
      ) + '\n',
    );
    if (!values.yes && !(await confirm('Close this connection (its process keeps running)?', io))) {
      io.stderr(io.isTTY ? 'Nothing was closed.\n' : 'Nothing was closed: add --yes to confirm without a terminal.\n');
      return EXIT_FAILURE;
    }
    const outcome = closeConnection(found);
    io.stderr(outcome.ok ? `${outcome.message}.\n` : `Not closed: ${outcome.reason}.\n`);
    return outcome.ok ? EXIT_OK : EXIT_FAILURE;
  },
});
