// `porthole who PORT`: the Port Doctor's answer to "why can't I bind it?".

import { examinePort, pastPortEvidence } from '../collect/port-evidence';
import { diagnosePort, diagnosisText, type Diagnosis, type DoctorRequest } from '../track/port-doctor';
import { portRequest, UsageError } from './args';
import { defineVerb, EXIT_FAILURE, EXIT_OK } from './io';
import { stopOwners } from './stop-owners';

/** The port at a past moment, from the history: who listened then (no bind can be tried). */
async function pastDiagnosis(request: DoctorRequest, when: string, path: string | undefined): Promise<Diagnosis> {
  // The history (SQLite) is loaded only when asked about: `who` now starts without it.
  const [{ askHistory, momentOption }, { tableAt }] = await Promise.all([
    import('./history'),
    import('../history/query'),
  ]);
  const at = momentOption('at', when, Date.now());
  const table = askHistory(path, (store) => tableAt(store, at));
  return diagnosePort(pastPortEvidence(request, table, at));
}

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
    at: {
      type: 'string',
      value: 'T',
      description: 'who held it at T ("15:12", "10 min ago", ISO 8601), from the history serve records',
    },
    history: {
      type: 'string',
      value: 'PATH',
      description: 'with --at: the history database (default: the per-user one)',
    },
  },
  async run({ values, positionals }, io) {
    if (positionals.length > 1) throw new UsageError(`One port at a time, not "${positionals.join(' ')}".`);
    if (values.history !== undefined && values.at === undefined) throw new UsageError('--history goes with --at.');
    if (values.kill && values.at !== undefined) throw new UsageError('--kill acts on now, not on a moment (--at).');
    const request = portRequest(positionals[0], values.address);
    const diagnosis =
      values.at === undefined ? await examinePort(request) : await pastDiagnosis(request, values.at, values.history);
    io.stdout(values.json ? JSON.stringify(diagnosis, null, 2) + '\n' : diagnosisText(diagnosis));
    if (values.kill && diagnosis.verdict !== 'free')
      return stopOwners(diagnosis, { force: values.force === true, yes: values.yes === true }, io);
    return diagnosis.verdict === 'free' ? EXIT_OK : EXIT_FAILURE;
  },
});
