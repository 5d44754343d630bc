// Renders a snapshot as JSON, CSV (RFC 4180) or an aligned text table for bug reports.

import { SOCKET_COLUMNS, type Snapshot, type Socket } from '../shared/contract';
import { formatEndpoint } from '../track/identity';

export const EXPORT_FORMATS = ['json', 'csv', 'text'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(value: string): value is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(value);
}

export function renderSnapshot(snapshot: Snapshot, format: ExportFormat): string {
  if (format === 'json') return JSON.stringify(snapshot, null, 2) + '\n';
  if (format === 'csv') return toCsv(snapshot.sockets);
  return toText(snapshot);
}

function cellText(value: Socket[keyof Socket]): string {
  if (value === null) return '';
  if (Array.isArray(value)) return value.join(' ');
  return String(value);
}

/**
 * A cell a spreadsheet would run as a formula (OWASP: leading = + - @ TAB CR) gets a leading
 * apostrophe; then RFC 4180 quoting for commas, quotes and line breaks.
 */
export function csvCell(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) || safe !== text ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(sockets: readonly Socket[]): string {
  const lines = [SOCKET_COLUMNS.join(',')];
  for (const socket of sockets) {
    lines.push(SOCKET_COLUMNS.map((column) => csvCell(cellText(socket[column]))).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** Control characters (a newline in a Unix path, a terminal escape) would break the table: show them escaped. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

const PROTOCOL_ORDER = { tcp: 0, udp: 1, unix: 2 } as const;

export function toText(snapshot: Snapshot): string {
  const sockets = [...snapshot.sockets].sort(
    (a, b) =>
      PROTOCOL_ORDER[a.protocol] - PROTOCOL_ORDER[b.protocol] ||
      (a.localPort ?? 0) - (b.localPort ?? 0) ||
      a.localAddress.localeCompare(b.localAddress),
  );
  const header = ['PROTO', 'LOCAL', 'REMOTE', 'STATE', 'PID', 'PROCESS', 'UID', 'INODE'];
  const rows = sockets.map((s) => [
    s.family === 6 ? `${s.protocol}6` : s.protocol,
    printable(formatEndpoint(s.localAddress, s.localPort) || '*'),
    s.remoteAddress === null ? '*' : formatEndpoint(s.remoteAddress, s.remotePort),
    s.state,
    s.pid === null ? (s.lastPid === null ? '-' : `(${s.lastPid})`) : s.pids.join(','),
    printable(s.processName ?? '-'),
    s.uid === null ? '-' : String(s.uid),
    String(s.inode),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const { stats, host } = snapshot;
  const summary =
    `Porthole snapshot of ${host.hostname} (${host.platform} ${host.release}) at ${snapshot.takenAt}: ` +
    `${sockets.length} sockets, ${stats.unattributed} without a visible owner` +
    (stats.unattributed > 0
      ? stats.hiddenProcesses > 0
        ? ` (${stats.hiddenProcesses} processes could not be inspected: run as root to see every owner)`
        : ' (held outside this PID namespace, or in flight)'
      : '') +
    (stats.malformedRows > 0 ? `, ${stats.malformedRows} unreadable rows skipped` : '');
  return [summary, '', line(header), ...rows.map(line)].join('\n') + '\n';
}
