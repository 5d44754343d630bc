// Reads `ss -tuanp` (the reference tool) into the same terms as Porthole's sockets, for comparison.
import { execFileSync } from 'node:child_process';

export interface SsRow {
  protocol: 'tcp' | 'udp';
  local: string;
  remote: string | null;
  state: string;
  pids: number[];
}

const STATE_NAMES: Record<string, string> = {
  ESTAB: 'ESTABLISHED',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  CLOSING: 'CLOSING',
  LISTEN: 'LISTEN',
  UNCONN: 'UNCONN',
  CLOSE: 'CLOSE',
};

/** ss prints the dual-stack wildcard as `*`; Porthole keeps the kernel's `::`. */
function normaliseEndpoint(text: string): string {
  return text.startsWith('*:') ? `[::]:${text.slice(2)}` : text;
}

export function readSs(): SsRow[] {
  const out = execFileSync('ss', ['-tuanpH'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const rows: SsRow[] = [];
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const [netid, state, , , local, peer] = f;
    if (netid !== 'tcp' && netid !== 'udp') continue;
    const users = f.slice(6).join(' ');
    const pids = [...new Set([...users.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
    const remote = /:\*$/.test(peer) ? null : peer;
    rows.push({ protocol: netid, local: normaliseEndpoint(local), remote, state: STATE_NAMES[state] ?? state, pids });
  }
  return rows;
}
