// `porthole wait PORT --free|--listening`: for scripts, return once the port is as asked.

import { createCollector } from '../collect';
import { examinePort } from '../collect/port-evidence';
import { printable } from '../shared/printable';
import { waitVerdict, type WaitCondition } from '../track/port-wait';
import { portRequest, UsageError } from './args';
import { defineVerb, EXIT_FAILURE, EXIT_OK } from './io';

/** How often `wait` looks again: each look reads the table and tries a real bind. */
const WAIT_POLL_MS = 250;
/** `--timeout` bounds: a day is longer than any script waits for a port. */
const MAX_WAIT_SECONDS = 86_400;

export const wait = defineVerb({
  name: 'wait',
  arguments: 'PORT[/tcp|/udp]',
  summary: 'For scripts: wait until a port is free, or until something listens on it',
  description: `Return once PORT is free to bind (--free) or something listens on it (--listening; at A,
or a wildcard covering it, with --address). Exit 0 then, 1 after S seconds with the Port
Doctor's one-line reason (who still holds it), 2 on bad input.`,
  options: {
    free: { type: 'boolean', description: 'wait until the port is free to bind' },
    listening: { type: 'boolean', description: 'wait until something listens on it' },
    address: { type: 'string', value: 'A', description: 'the address (default: every interface)' },
    timeout: { type: 'string', value: 'S', description: 'give up after S seconds (exit 1)' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length > 1) throw new UsageError(`One port at a time, not "${positionals.join(' ')}".`);
    if (values.free === values.listening) throw new UsageError('wait takes one of --free or --listening.');
    const condition: WaitCondition = values.free ? 'free' : 'listening';
    const request = portRequest(positionals[0], values.address);
    const timeout = values.timeout === undefined ? null : Number(values.timeout);
    if (timeout !== null && !(/^\d+(\.\d+)?$/.test(values.timeout!) && timeout > 0 && timeout <= MAX_WAIT_SECONDS))
      throw new UsageError(
        `--timeout takes seconds, more than 0 and at most ${MAX_WAIT_SECONDS}, not "${printable(values.timeout!)}".`,
      );
    const started = performance.now();
    let stopped = false;
    const stop = () => (stopped = true);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // One port's sockets each poll: the kernel filters them (the table may be large).
    const collector = createCollector(undefined, { port: request.port });
    try {
      for (;;) {
        const verdict = waitVerdict(await examinePort(request, collector), condition);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        if (verdict.met) {
          io.stderr(
            printable(`${condition === 'free' ? 'Free' : 'Listening'} after ${seconds} s: ${verdict.reason}`) + '\n',
          );
          return EXIT_OK;
        }
        if (stopped || (timeout !== null && performance.now() - started >= timeout * 1000)) {
          io.stderr(printable(`${stopped ? 'Stopped' : 'Timed out'} after ${seconds} s: ${verdict.reason}`) + '\n');
          return EXIT_FAILURE;
        }
        await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
});
