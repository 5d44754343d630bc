// A network namespace's TCP counters, from /proc/<pid>/net/{sockstat,sockstat6,snmp}: a few hundred
// bytes the kernel sums without touching a socket. They decide which TCP tables a poll must read.
// Reading tcp or tcp6 walks the kernel's whole established hash, which every namespace shares
// (unless net.ipv4.tcp_child_ehash_entries gave it its own): ~4.6 ms per read on this machine class
// even for an empty namespace, so 50 namespaces cost 50 walks. UDP and Unix tables are per-namespace
// and cheap: they are always read.

export interface TcpCounters {
  /** TCP sockets in the namespace's tcp table (request sockets of a listener aside). */
  inuse: number;
  /** The same for tcp6. */
  inuse6: number;
  /** TIME_WAIT sockets of either family. */
  timeWait: number;
  /**
   * The namespace's own TCP counts and counters as one string. A TCP row appears, goes or changes
   * state only with a segment sent or received (InSegs, OutSegs, OutRsts…), a socket hashed or
   * unhashed (inuse), or a TIME_WAIT timer (tw). Equal signatures: none of these happened.
   */
  signature: string;
}

/** `TCP: inuse 1 orphan 0 tw 0 …` → the value after `key`; null when absent or not a number. */
function valueAfter(line: string, key: string): number | null {
  const words = line.trim().split(/\s+/);
  const at = words.indexOf(key);
  if (at < 1 || at + 1 >= words.length) return null;
  const value = Number(words[at + 1]);
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function lineStarting(text: string, prefix: string, nth = 0): string | null {
  let seen = 0;
  for (const line of text.split('\n')) if (line.startsWith(prefix) && seen++ === nth) return line;
  return null;
}

/**
 * Parses one namespace's counters; null when a file lacks what is needed (an unexpected kernel:
 * then every table is read, as without counters). Only per-namespace values enter the signature:
 * `orphan`, `alloc` and `mem` are machine-wide and move with every other namespace.
 */
export function parseTcpCounters(sockstat: string, sockstat6: string, snmp: string): TcpCounters | null {
  const tcp = lineStarting(sockstat, 'TCP:');
  const tcp6 = lineStarting(sockstat6, 'TCP6:');
  // snmp holds a header line then a value line per protocol: the second "Tcp:" line.
  const tcpMib = lineStarting(snmp, 'Tcp:', 1);
  if (tcp === null || tcpMib === null) return null;
  const inuse = valueAfter(tcp, 'inuse');
  const timeWait = valueAfter(tcp, 'tw');
  // No sockstat6 line: IPv6 is off, tcp6 is empty.
  const inuse6 = tcp6 === null ? 0 : valueAfter(tcp6, 'inuse');
  if (inuse === null || timeWait === null || inuse6 === null) return null;
  return { inuse, inuse6, timeWait, signature: `${inuse} ${inuse6} ${timeWait} ${tcpMib}` };
}

/** Which TCP tables can hold rows: a table with nothing of its kind is not read at all. */
export function tcpTablesNeeded(counters: TcpCounters | null): { tcp: boolean; tcp6: boolean } {
  if (!counters) return { tcp: true, tcp6: true };
  return { tcp: counters.inuse > 0 || counters.timeWait > 0, tcp6: counters.inuse6 > 0 || counters.timeWait > 0 };
}
