// Stopping the owners of the listeners in the way (`who --kill`, `kill`): each named, confirmed,
// and signalled only while it is still the process the user saw (actions/kill-process.ts).

import { killProcess } from '../actions/kill-process';
import { printable } from '../shared/printable';
import { ownersToStop, type Diagnosis } from '../track/port-doctor';
import { confirm } from './args';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io';

export async function stopOwners(
  diagnosis: Diagnosis,
  options: { force: boolean; yes: boolean },
  io: CliIo,
): Promise<number> {
  const owners = ownersToStop(diagnosis);
  if (owners.length === 0) {
    io.stderr(
      diagnosis.listeners.length > 0
        ? 'No process to stop: the listeners in the way have no owner Porthole can see (run as root?).\n'
        : 'No process to stop: nothing listens on this port.\n',
    );
    return EXIT_FAILURE;
  }
  for (const owner of owners)
    io.stderr(
      `Stop ${printable(owner.name)} (pid ${owner.pid}, user ${owner.user ?? owner.uid ?? '?'}): ${printable(owner.command || owner.name)}\n`,
    );
  if (
    !options.yes &&
    !(await confirm(owners.length === 1 ? 'Stop this process?' : `Stop these ${owners.length} processes?`, io))
  ) {
    io.stderr(
      options.yes || io.isTTY
        ? 'Nothing was stopped.\n'
        : 'Nothing was stopped: add --yes to confirm without a terminal.\n',
    );
    return EXIT_FAILURE;
  }
  let failed = false;
  for (const owner of owners) {
    const outcome = await killProcess({ pid: owner.pid, startedAt: owner.startedAt }, { force: options.force });
    io.stderr(outcome.ok ? `${outcome.message}.\n` : `Not stopped: ${outcome.reason}.\n`);
    failed ||= !outcome.ok;
  }
  return failed ? EXIT_FAILURE : EXIT_OK;
}
