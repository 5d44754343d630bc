// What `porthole` (or `porthole snapshot`) shows on a terminal: the answer to the first question.
// Who listens where, with the owner a developer knows ("node server.js in ~/code/shop-api"), then
// what is connected, grouped by process, with what ended summed in one line; every line fitted
// to the terminal's width (long addresses elided in the middle, as docker ps does), never wrapped.
// `--all`, or a pipe, gives the whole table instead.

import type { ProcessInfo, Snapshot, Socket } from '../shared/contract';
import { elideMiddle, printable } from '../shared/printable';
import { formatEndpoint } from '../track/identity';
import { projectFolder, shortCommand } from '../track/owner-names';
import { groupByProcess, listenerOwnersOf, leftoverStates } from '../track/process-groups';
import { serviceName } from '../track/service-names';
import { isListening, listenerGroups } from '../track/views';

/** Sockets listed per process before "… N more": a screen, not a dump. */
export const ROWS_PER_PROCESS = 8;
/** Processes with connections listed before "… N more processes". */
export const PROCESSES_LISTED = 12;
/** The narrowest width laid out for; a narrower terminal gets lines cut at its edge. */
const MIN_WIDTH = 60;

const count = (n: number) => n.toLocaleString('en-US');

/** An owner as a developer names it: "node server.js (4711) ~/code/shop-api". */
function ownerText(pid: number | null, name: string | null, process: ProcessInfo | undefined): string {
  if (pid === null) return 'no visible owner';
  const where = process ? (process.container?.name ?? projectFolder(process)) : null;
  return `${process ? shortCommand(process) : (name ?? '?')} (${pid})${where ? ` ${where}` : ''}`;
}

/** Rows laid out in columns; the last column takes what width is left and is cut in the middle. */
function columns(header: string[], rows: string[][], width: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fixed = widths.slice(0, -1).reduce((a, b) => a + b + 2, 0);
  widths[widths.length - 1] = Math.max(8, Math.min(widths[widths.length - 1], width - fixed));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? elideMiddle(c, widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export function firstScreen(snapshot: Snapshot, terminalWidth: number): string {
  const width = Math.max(MIN_WIDTH, terminalWidth);
  const processes = new Map(snapshot.processes.map((p) => [p.pid, p]));
  const inet = snapshot.sockets.filter((s) => s.protocol !== 'unix');
  const listeners = listenerGroups(inet, snapshot.publishedPorts ?? []).filter((g) => g.port !== null);
  const groups = groupByProcess(inet, listenerOwnersOf(inet));
  const connected = groups.filter((g) => g.active.length > 0);
  const ended = groups.reduce((n, g) => n + g.leftovers.length, 0);
  const lines: string[] = [];
  lines.push(
    `${printable(snapshot.host.hostname)}: ${count(listeners.length)} port${listeners.length === 1 ? '' : 's'} listening, ` +
      `${count(connected.reduce((n, g) => n + g.active.length, 0))} sockets connected` +
      (ended ? `, ${count(ended)} ended (TIME_WAIT, CLOSE)` : '') +
      ` · porthole snapshot --all lists all ${count(snapshot.sockets.length)} sockets`,
  );

  lines.push('');
  const listenerRows = listeners.map((g) => {
    const first = g.listeners[0];
    const owners = [...new Set(g.listeners.map((l) => ownerText(l.pid, l.processName, processes.get(l.pid ?? -1))))];
    const addresses = [...new Set(g.listeners.map((l) => l.localAddress))].join(' ');
    return [
      `${g.port}/${g.protocol}`,
      serviceName(g.protocol, g.port) ?? '',
      elideMiddle(addresses, 24),
      g.namespace === 'host' ? '' : elideMiddle(g.namespace, 16),
      g.leftovers ? `${count(g.connections)} +${count(g.leftovers)} ended` : count(g.connections),
      printable(owners.join(', ')) || (first.lastPid ? `(was ${first.lastPid})` : '?'),
    ];
  });
  const hasNamespaces = listenerRows.some((r) => r[3] !== '');
  const drop = (row: string[]) => (hasNamespaces ? row : row.filter((_, i) => i !== 3));
  lines.push(
    ...columns(
      drop(['LISTENING', 'SERVICE', 'ADDRESS', 'NAMESPACE', 'CONNECTIONS', 'OWNER']),
      listenerRows.map(drop),
      width,
    ),
  );

  lines.push('', 'CONNECTED, BY PROCESS');
  // Each end as wide as the longest listed, at most half of what the state and arrows leave.
  const listed = connected.slice(0, PROCESSES_LISTED);
  const longest = Math.max(
    0,
    ...listed.flatMap((g) =>
      g.active
        .slice(0, ROWS_PER_PROCESS)
        .flatMap((s) => [
          formatEndpoint(s.localAddress, s.localPort).length,
          s.remoteAddress === null ? 1 : formatEndpoint(s.remoteAddress, s.remotePort).length,
        ]),
    ),
  );
  const endpointWidth = Math.min(longest, Math.floor((width - 4 - 6 - 3 - 2 - 11) / 2));
  for (const group of listed) {
    const states = Object.entries(leftoverStates(group))
      .map(([state, n]) => `${state} ${count(n)}`)
      .join(', ');
    lines.push(
      elideMiddle(
        printable(ownerText(group.pid, group.name, processes.get(group.pid ?? -1))) +
          ` · ${count(group.active.length)} connected` +
          (group.listening.length ? `, ${count(group.listening.length)} listening` : '') +
          (group.leftovers.length ? `, ${count(group.leftovers.length)} ended (${states})` : ''),
        width,
      ),
    );
    for (const s of group.active.slice(0, ROWS_PER_PROCESS)) lines.push(connectionLine(s, endpointWidth));
    if (group.active.length > ROWS_PER_PROCESS)
      lines.push(`    … ${count(group.active.length - ROWS_PER_PROCESS)} more (porthole snapshot --all)`);
  }
  if (connected.length > PROCESSES_LISTED)
    lines.push(`… ${count(connected.length - PROCESSES_LISTED)} more processes (porthole snapshot --all)`);
  if (connected.length === 0) lines.push('  nothing connected');
  // A narrower terminal than MIN_WIDTH: cut, never wrap.
  return (
    lines.map((l) => (l.length > terminalWidth && terminalWidth > 0 ? elideMiddle(l, terminalWidth) : l)).join('\n') +
    '\n'
  );
}

function connectionLine(s: Socket, endpointWidth: number): string {
  const local = elideMiddle(formatEndpoint(s.localAddress, s.localPort), endpointWidth);
  const remote = elideMiddle(
    s.remoteAddress === null ? '*' : formatEndpoint(s.remoteAddress, s.remotePort),
    endpointWidth,
  );
  const protocol = `${s.protocol}${s.family === 6 ? '6' : ''}`.padEnd(4);
  return `    ${protocol}  ${local.padEnd(endpointWidth)} → ${remote.padEnd(endpointWidth)}  ${isListening(s) ? 'LISTEN' : s.state}`.trimEnd();
}
