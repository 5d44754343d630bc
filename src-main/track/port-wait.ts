// `porthole wait`: whether a port has reached the state a script waits for, from the Port
// Doctor's diagnosis. Pure: the command line polls, this decides.

import type { Diagnosis } from './port-doctor';
import { whyBlocks } from './port-doctor';

export type WaitCondition = 'free' | 'listening';

export interface WaitVerdict {
  met: boolean;
  /** One line: what holds, or what is still missing (the doctor's answer). */
  reason: string;
}

/**
 * `free`: a bind would succeed now (the doctor's verdict, from a real bind). `listening`: a
 * listener (TCP) or a bound socket (UDP) in Porthole's own namespace takes connections on the
 * port, at the address asked for when one was (the address itself, or a wildcard covering it).
 */
export function waitVerdict(diagnosis: Diagnosis, condition: WaitCondition): WaitVerdict {
  const { port, protocol, address } = diagnosis.request;
  if (condition === 'free') return { met: diagnosis.verdict === 'free', reason: diagnosis.summary };
  const serving = diagnosis.listeners.filter((l) => address === null || whyBlocks(l.socket, address) !== null);
  if (serving.length > 0) {
    const l = serving[0];
    const owner = l.process ? `${l.process.name} (pid ${l.process.pid})` : 'an owner Porthole cannot see';
    return { met: true, reason: `${l.endpoint} ${protocol === 'tcp' ? 'listens' : 'is bound'}: ${owner}` };
  }
  const where = address === null ? `${protocol} port ${port}` : `${protocol} ${address} port ${port}`;
  const elsewhere = diagnosis.elsewhere[0];
  return {
    met: false,
    reason:
      `nothing ${protocol === 'tcp' ? 'listens on' : 'is bound to'} ${where} here` +
      (elsewhere ? ` (${elsewhere.endpoint} listens in ${elsewhere.namespace}, another network namespace)` : ''),
  };
}
