// Traffic figures as a person reads them, and summed over connections (a process's, a port's): one
// source for the text exports and the renderer.

import type { TcpTraffic } from '../shared/contract';

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
