// What the tray (menu-bar) icon shows: the number of listeners and the top ports with their
// owners. Pure: the poll worker works it out from its table, the Electron host draws it every few seconds.

import type { ListenerGroup } from './views';

export interface TrayModel {
  /** The tooltip: "Porthole: 12 listening ports". */
  tooltip: string;
  /** One menu item per port, most connections first. */
  items: { label: string; protocol: ListenerGroup['protocol']; port: number }[];
}

export const TRAY_PORTS = 10;

export function trayModel(groups: readonly ListenerGroup[], limit = TRAY_PORTS): TrayModel {
  const ports = groups.filter((g) => g.port !== null && g.netns === null);
  const top = [...ports].sort((a, b) => b.connections - a.connections || (a.port ?? 0) - (b.port ?? 0)).slice(0, limit);
  return {
    tooltip: `Porthole: ${ports.length} listening port${ports.length === 1 ? '' : 's'}`,
    items: top.map((g) => {
      const owners = [...new Set(g.listeners.map((l) => (l.pid === null ? '?' : `${l.processName ?? '?'} ${l.pid}`)))];
      const connections = g.connections > 0 ? ` · ${g.connections} connected` : '';
      return {
        label: `${g.protocol} ${g.port} — ${owners.join(', ')}${connections}`.slice(0, 120),
        protocol: g.protocol,
        port: g.port as number,
      };
    }),
  };
}
