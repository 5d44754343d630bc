// Filtering and sorting the connections table: pure functions over sockets.
import type { ProcessInfo, Socket } from '../../src-main/shared/contract';
import { formatEndpoint } from '../../src-main/track/identity';
import { isListening } from '../../src-main/track/views';

export interface SocketFilter {
  text: string;
  protocol: Socket['protocol'] | 'all';
  state: Socket['state'] | 'all';
  role: 'all' | 'listening' | 'connected';
  pid: number | null;
}

export type SortKey = 'protocol' | 'local' | 'remote' | 'state' | 'process';

export function matches(socket: Socket, filter: SocketFilter, process?: ProcessInfo): boolean {
  if (filter.protocol !== 'all' && socket.protocol !== filter.protocol) return false;
  if (filter.state !== 'all' && socket.state !== filter.state) return false;
  if (filter.role === 'listening' && !isListening(socket)) return false;
  if (filter.role === 'connected' && socket.remoteAddress === null) return false;
  if (filter.pid !== null && socket.pid !== filter.pid) return false;
  const text = filter.text.trim().toLowerCase();
  if (!text) return true;
  const haystack = [
    formatEndpoint(socket.localAddress, socket.localPort),
    socket.remoteAddress === null ? '' : formatEndpoint(socket.remoteAddress, socket.remotePort),
    socket.processName ?? '',
    socket.pid === null ? '' : String(socket.pid),
    socket.state,
    socket.protocol,
    process?.command ?? '',
  ]
    .join(' ')
    .toLowerCase();
  return text.split(/\s+/).every((word) => haystack.includes(word));
}

const sortValue: Record<SortKey, (s: Socket) => string | number> = {
  protocol: (s) => s.protocol,
  local: (s) => s.localPort ?? 0,
  remote: (s) => (s.remoteAddress ?? '') + ':' + String(s.remotePort ?? 0).padStart(5, '0'),
  state: (s) => s.state,
  process: (s) => s.processName ?? '~',
};

export function sortSockets(sockets: Socket[], key: SortKey, descending: boolean): Socket[] {
  const value = sortValue[key];
  const sign = descending ? -1 : 1;
  return sockets.sort((a, b) => {
    const x = value(a);
    const y = value(b);
    return (x < y ? -1 : x > y ? 1 : (a.localPort ?? 0) - (b.localPort ?? 0)) * sign;
  });
}

export function endpoint(address: string | null, port: number | null): string {
  if (address === null) return '*';
  return formatEndpoint(address, port) || '(unbound)';
}

export function duration(fromIso: string, toIso: string | number): string {
  const ms = (typeof toIso === 'number' ? toIso : Date.parse(toIso)) - Date.parse(fromIso);
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
