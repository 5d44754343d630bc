// Traffic figures as a person reads them, and summed per process and per port: one source for the
// text exports, the CLI and the renderer.

import type { Socket, TcpTraffic } from '../shared/contract';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** Decimal units, as network tools count (1 KB = 1000 B): "0 B", "950 B", "1.2 MB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}

/** A rate in bytes per second; '' when there is none yet (a first reading). */
export function formatRate(rate: number | null): string {
  return rate === null ? '' : `${formatBytes(rate)}/s`;
}

/** The sum of some connections' figures (rates that are unknown count as zero). */
export interface TrafficTotal {
  connections: number;
  bytesAcked: number;
  bytesReceived: number;
  sendRate: number;
  receiveRate: number;
}

export function emptyTotal(): TrafficTotal {
  return { connections: 0, bytesAcked: 0, bytesReceived: 0, sendRate: 0, receiveRate: 0 };
}

export function addTraffic(total: TrafficTotal, traffic: TcpTraffic): void {
  total.connections++;
  total.bytesAcked += traffic.bytesAcked;
  total.bytesReceived += traffic.bytesReceived;
  total.sendRate += traffic.sendRate ?? 0;
  total.receiveRate += traffic.receiveRate ?? 0;
}

/**
 * Totals per owning process and per local port (the port a connection was accepted on, or the
 * client's own port: a port is what a developer asks about), over the connections with figures.
 */
export function trafficTotals(sockets: Iterable<Socket>): {
  byPid: Map<number, TrafficTotal>;
  byPort: Map<string, TrafficTotal>;
} {
  const byPid = new Map<number, TrafficTotal>();
  const byPort = new Map<string, TrafficTotal>();
  for (const socket of sockets) {
    if (!socket.traffic) continue;
    if (socket.pid !== null) {
      let total = byPid.get(socket.pid);
      if (!total) byPid.set(socket.pid, (total = emptyTotal()));
      addTraffic(total, socket.traffic);
    }
    const port = `${socket.protocol}:${socket.localPort}`;
    let total = byPort.get(port);
    if (!total) byPort.set(port, (total = emptyTotal()));
    addTraffic(total, socket.traffic);
  }
  return { byPid, byPort };
}
