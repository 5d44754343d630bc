// Renders a snapshot as JSON, CSV (RFC 4180), an aligned text table or Markdown for bug reports,
// and a comparison of two tables as a report.

import { SOCKET_COLUMNS, TRAFFIC_COLUMNS, type ScanEngine, type Snapshot, type Socket } from '../shared/contract';
import { formatBytes, formatRate } from '../track/traffic';
import { formatEndpoint } from '../track/identity';
import { describePublished, namespaceOf } from '../track/namespaces';
import { chainWithDurations, groupChains, groupDuration } from '../track/connection-chains';
import { printable } from '../shared/printable';

export { printable };
import { isSameTable, type Comparison } from '../track/compare';

export const EXPORT_FORMATS = ['json', 'csv', 'text', 'markdown'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(value: string): value is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(value);
}

export function renderSnapshot(snapshot: Snapshot, format: ExportFormat): string {
  if (format === 'json') return JSON.stringify(snapshot, null, 2) + '\n';
  if (format === 'csv') return toCsv(snapshot.sockets);
  if (format === 'markdown') return toMarkdown(snapshot);
  return toText(snapshot);
}

function cellText(value: string | number | number[] | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(' ');
  return String(value);
}

/**
 * A cell a spreadsheet would run as a formula (OWASP: leading = + - @ TAB CR) gets a leading
 * apostrophe; control characters (ESC, BEL, a newline inside a process name) are written escaped,
 * as in the text formats, so neither a terminal nor a CSV reader sees them raw; then RFC 4180
 * quoting for commas and quotes.
 */
export function csvCell(text: string): string {
  const formula = /^[=+\-@\t\r]/.test(text);
  const visible = printable(text);
  const safe = formula ? `'${visible}` : visible;
  return formula || /[",]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The socket columns, then the traffic columns when any socket has figures (empty cells where one has none). */
export function toCsv(sockets: readonly Socket[]): string {
  const traffic = sockets.some((s) => s.traffic);
  const lines = [(traffic ? [...SOCKET_COLUMNS, ...TRAFFIC_COLUMNS] : SOCKET_COLUMNS).join(',')];
  for (const socket of sockets) {
    const cells = SOCKET_COLUMNS.map((column) => csvCell(cellText(socket[column] as Parameters<typeof cellText>[0])));
    if (traffic) for (const column of TRAFFIC_COLUMNS) cells.push(cellText(socket.traffic?.[column]));
    lines.push(cells.join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

const PROTOCOL_ORDER = { tcp: 0, udp: 1, unix: 2 } as const;

const TABLE_HEADER = ['PROTO', 'LOCAL', 'REMOTE', 'STATE', 'PID', 'PROCESS', 'UID', 'INODE'];

/**
 * The table a person reads, with SENT and RECEIVED columns when connections carry traffic figures,
 * and a NAMESPACE column when sockets of other namespaces are in it.
 */
function socketTable(snapshot: Snapshot): { header: string[]; rows: string[][] } {
  let header = TABLE_HEADER;
  const sorted = sortedSockets(snapshot);
  let rows = tableRows(sorted);
  if (snapshot.sockets.some((s) => s.traffic)) {
    header = [...header, 'SENT', 'RECEIVED'];
    rows = rows.map((row, i) => {
      const t = sorted[i].traffic;
      if (!t) return [...row, '-', '-'];
      const rate = (r: number | null) => (r === null ? '' : ` (${formatRate(r)})`);
      return [...row, formatBytes(t.bytesAcked) + rate(t.sendRate), formatBytes(t.bytesReceived) + rate(t.receiveRate)];
    });
  }
  if (!snapshot.sockets.some((s) => s.netns !== undefined)) return { header, rows };
  return { header: [...header, 'NAMESPACE'], rows: rows.map((row, i) => [...row, printable(namespaceOf(sorted[i]))]) };
}

function sortedSockets(snapshot: Snapshot): Socket[] {
  return [...snapshot.sockets].sort(
    (a, b) =>
      PROTOCOL_ORDER[a.protocol] - PROTOCOL_ORDER[b.protocol] ||
      (a.localPort ?? 0) - (b.localPort ?? 0) ||
      a.localAddress.localeCompare(b.localAddress) ||
      namespaceOf(a).localeCompare(namespaceOf(b)),
  );
}

/** Published ports and namespaces that could not be read, as lines under the table. */
function namespaceLines(snapshot: Snapshot): string[] {
  const lines: string[] = [];
  const published = snapshot.publishedPorts ?? [];
  if (published.length > 0)
    lines.push('', 'Published ports:', ...published.map((p) => `  ${printable(describePublished(p))}`));
  const unreadable = (snapshot.namespaces ?? []).filter((n) => n.unreadable !== null);
  if (unreadable.length > 0)
    lines.push(
      '',
      `Network namespaces not read (their sockets are missing above):`,
      ...unreadable.map((n) => `  ${printable(n.name)}: ${printable(n.unreadable ?? '')}`),
    );
  return lines;
}

/** The rows a person reads (text and Markdown), of the sockets sorted by protocol, port and address. */
function tableRows(sorted: readonly Socket[]): string[][] {
  return sorted.map((s) => [
    s.family === 6 ? `${s.protocol}6` : s.protocol,
    printable(formatEndpoint(s.localAddress, s.localPort) || '*'),
    s.remoteAddress === null ? '*' : formatEndpoint(s.remoteAddress, s.remotePort),
    s.state,
    s.pid === null ? (s.lastPid === null ? '-' : `(${s.lastPid})`) : s.pids.join(','),
    printable(s.processName ?? '-'),
    s.uid === null ? '-' : String(s.uid),
    String(s.inode),
  ]);
}

/** How a summary names each engine that read a table. */
const ENGINE_NAMES: Record<ScanEngine, string> = {
  netlink: 'netlink sock_diag',
  proc: '/proc/net',
  iphlpapi: "Windows' iphlpapi tables",
  lsof: 'lsof',
  systeminformation: "systeminformation (netstat's output)",
};

function summaryLine(snapshot: Snapshot): string {
  const { stats, host } = snapshot;
  return (
    `Porthole snapshot of ${printable(host.hostname)} (${printable(host.platform)} ${printable(host.release)}) at ${snapshot.takenAt}: ` +
    `${snapshot.sockets.length} sockets, ` +
    (stats.ownersPending
      ? 'taken before their owners were looked up (owners not shown)'
      : `${stats.unattributed} without a visible owner`) +
    (stats.unattributed > 0
      ? stats.hiddenProcesses > 0
        ? ` (${stats.hiddenProcesses} processes could not be inspected: run as root to see every owner)`
        : ' (held outside this PID namespace, or in flight)'
      : '') +
    (stats.malformedRows > 0 ? `, ${stats.malformedRows} unreadable rows skipped` : '') +
    (stats.interruptedDumps
      ? `, ${stats.interruptedDumps} tables changed while read (may miss or repeat a socket)`
      : '') +
    (stats.foldedConnections
      ? `, ${stats.foldedConnections} short connections of that minute kept only as a count (not listed)`
      : '') +
    (stats.namespaces !== undefined && stats.namespaces > 1 ? `, ${stats.namespaces} network namespaces` : '') +
    (stats.unreadableNamespaces ? `, ${stats.unreadableNamespaces} namespaces not read` : '') +
    (stats.hiddenNamespaceProcesses
      ? `, ${stats.hiddenNamespaceProcesses} processes whose namespace could not be seen`
      : '') +
    (stats.engine ? `; read through ${ENGINE_NAMES[stats.engine]}` : '')
  );
}

/** Columns padded to their widest cell; the last one is left ragged. */
function alignedTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A bug report stays readable: every chain is in the JSON; text and Markdown list this many. */
export const LISTED_CHAINS = 200;

const ENDED_HEADER = ['CONNECTIONS', 'CHAIN', 'DURATION'];
const CHAIN_HEADER = ['CONNECTION', 'TASK', 'STARTED', 'CHAIN (time in each state)'];

/** What event mode saw end before the snapshot: one row per burst, then each connection. */
function endedConnections(snapshot: Snapshot): { title: string; bursts: string[][]; each: string[][] } | null {
  const ended = endedConnectionsFound(snapshot);
  const lost = snapshot.eventMode?.lost ?? 0;
  if (ended && lost > 0)
    ended.title += ` The kernel lost ${lost.toLocaleString('en-US')} TCP events while recording (its buffer was full): some connections are missing or incomplete.`;
  return ended;
}

function endedConnectionsFound(snapshot: Snapshot): { title: string; bursts: string[][]; each: string[][] } | null {
  const chains = snapshot.chains ?? [];
  if (chains.length === 0) {
    if (snapshot.eventMode?.active === false)
      return {
        title: `Kernel events were off (${printable(snapshot.eventMode.reason ?? 'unknown reason')}): connections shorter than a poll are not in this snapshot.`,
        bursts: [],
        each: [],
      };
    return snapshot.eventMode?.active
      ? { title: 'No connection ended before this snapshot.', bursts: [], each: [] }
      : null;
  }
  const bursts = groupChains(chains).map((g) => [
    `${g.count} × ${g.label}`,
    g.path + (g.otherPaths ? ` (${g.otherPaths} ended otherwise)` : ''),
    groupDuration(g),
  ]);
  const each = chains
    .slice(-LISTED_CHAINS)
    .map((c) => [
      `tcp ${formatEndpoint(c.localAddress, c.localPort)} → ${formatEndpoint(c.remoteAddress, c.remotePort)}`,
      String(c.pid),
      new Date(c.steps[0]?.at ?? 0).toISOString().slice(11, 23),
      chainWithDurations(c) + (c.complete ? '' : ' (seen from the middle)'),
    ]);
  const more = chains.length - each.length;
  return {
    title:
      `Connections that ended, from the kernel's events: ${chains.length}, grouped by endpoint; ` +
      (more > 0 ? `the last ${each.length} listed (all ${chains.length} are in the JSON export).` : 'each listed.'),
    bursts: bursts.map((r) => r.map(printable)),
    each: each.map((r) => r.map(printable)),
  };
}

export function toText(snapshot: Snapshot): string {
  const table = socketTable(snapshot);
  const lines = [summaryLine(snapshot), '', ...alignedTable(table.header, table.rows), ...namespaceLines(snapshot)];
  const ended = endedConnections(snapshot);
  if (ended) {
    lines.push('', ended.title);
    if (ended.bursts.length) lines.push('', ...alignedTable(ENDED_HEADER, ended.bursts));
    if (ended.each.length) lines.push('', ...alignedTable(CHAIN_HEADER, ended.each));
  }
  return lines.join('\n') + '\n';
}

/** A Markdown cell: pipes and backslashes escaped, so a hostile path cannot break the table. */
export function markdownCell(text: string): string {
  return text.replace(/[\\|`*_<>[\]]/g, (c) => `\\${c}`);
}

function markdownTable(header: string[], rows: string[][]): string[] {
  const row = (cells: string[]) => `| ${cells.map(markdownCell).join(' | ')} |`;
  return [row(header), `|${header.map(() => ' --- ').join('|')}|`, ...rows.map(row)];
}

export function toMarkdown(snapshot: Snapshot): string {
  const table = socketTable(snapshot);
  const lines = [
    `### ${markdownCell(summaryLine(snapshot))}`,
    '',
    ...markdownTable(table.header, table.rows),
    ...namespaceLines(snapshot).map(markdownCell),
  ];
  const ended = endedConnections(snapshot);
  if (ended) {
    lines.push('', markdownCell(ended.title));
    if (ended.bursts.length) lines.push('', ...markdownTable(ENDED_HEADER, ended.bursts));
    if (ended.each.length) lines.push('', ...markdownTable(CHAIN_HEADER, ended.each));
  }
  return lines.join('\n') + '\n';
}

/** One socket on one line: `tcp 127.0.0.1:3000 → 127.0.0.1:5000 node[42]`. */
export function describeSocket(socket: Socket): string {
  const local = formatEndpoint(socket.localAddress, socket.localPort) || '(unbound)';
  const remote = socket.remoteAddress === null ? '' : ` → ${formatEndpoint(socket.remoteAddress, socket.remotePort)}`;
  const owner =
    socket.pid !== null
      ? `${socket.processName}[${socket.pid}]`
      : socket.lastPid !== null
        ? `(was pid ${socket.lastPid})`
        : '';
  const proto = socket.family === 6 ? `${socket.protocol}6` : socket.protocol;
  const where = socket.netns === undefined ? '' : ` (in ${namespaceOf(socket)})`;
  return printable(`${proto} ${local}${remote} ${owner}`.trimEnd() + where);
}

const owner = (o: { pid: number | null; name: string | null }) =>
  o.pid === null ? 'nobody visible' : `${printable(o.name ?? '?')}[${o.pid}]`;

/** A comparison as a report: one section per kind of change, empty sections left out. */
export function comparisonText(c: Comparison): string {
  const lines = [
    `Compared ${printable(c.before.label)} (${c.before.takenAt ?? 'live'}, ${c.before.sockets} sockets) with ${printable(c.after.label)} (${c.after.takenAt ?? 'live'}, ${c.after.sockets} sockets).`,
  ];
  const section = (title: string, items: string[]) => {
    if (items.length > 0) lines.push('', `${title} (${items.length}):`, ...items.map((i) => `  ${i}`));
  };
  section('Listeners opened', c.listenersOpened.map(describeSocket));
  section('Listeners closed', c.listenersClosed.map(describeSocket));
  section(
    'Connections appeared',
    c.connectionsAppeared.map((s) => `${describeSocket(s)} ${s.state}`),
  );
  section(
    'Connections gone',
    c.connectionsGone.map((s) => `${describeSocket(s)} ${s.state}`),
  );
  section(
    'State changes',
    c.stateChanges.map((x) => `${describeSocket(x.socket)} ${x.from} → ${x.to}`),
  );
  section(
    'Owner changes',
    c.ownerChanges.map((x) => `${describeSocket(x.socket)} ${owner(x.from)} → ${owner(x.to)}`),
  );
  if (isSameTable(c)) lines.push('', 'No differences.');
  else lines.push('', `${c.unchanged} sockets unchanged.`);
  return lines.join('\n') + '\n';
}
