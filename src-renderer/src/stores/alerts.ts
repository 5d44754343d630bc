// Watched ports and their alerts: after each change to the live table, what happened to each
// watched port (free, taken and by whom, owner exited), shown as a system notification where the
// host allows one (Electron shows the renderer's notifications natively) and in the status bar.
// The watched ports are remembered across runs (localStorage).
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { PortWatch, type PortAlert, type WatchedPort } from '../../../src-main/track/port-alerts';
import { useSocketStore } from './sockets';

const STORAGE_KEY = 'porthole.watchedPorts';

function remembered(): WatchedPort[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]');
    if (!Array.isArray(value)) return [];
    return value.filter(
      (p): p is WatchedPort =>
        typeof p === 'object' &&
        p !== null &&
        (p.protocol === 'tcp' || p.protocol === 'udp') &&
        Number.isInteger(p.port) &&
        p.port >= 1 &&
        p.port <= 65535,
    );
  } catch {
    return [];
  }
}

export const useAlertsStore = defineStore('alerts', () => {
  const sockets = useSocketStore();
  const watch = new PortWatch();
  for (const port of remembered()) watch.watch(port);
  const watched = ref<WatchedPort[]>(watch.ports);
  /** The newest alerts, newest first (bounded). */
  const recent = ref<(PortAlert & { at: number })[]>([]);

  const save = () => {
    watched.value = watch.ports;
    localStorage.setItem(STORAGE_KEY, JSON.stringify(watch.ports));
  };

  function toggle(port: WatchedPort): boolean {
    if (watch.isWatched(port)) watch.unwatch(port);
    else {
      if (!watch.watch(port)) return false;
      // Asked once, when the first port is watched: the browser (or Electron) remembers the answer.
      if (typeof Notification !== 'undefined' && Notification.permission === 'default')
        void Notification.requestPermission().catch(() => undefined);
      watch.update([...sockets.live.sockets.values()]);
    }
    save();
    return true;
  }

  sockets.onDelta((delta) => {
    // Neither the empty table of a loop that has not polled yet (seq 0: at start, or started
    // again) nor one sent before its owners is a reading of who holds a port: the table, or the
    // owners, that follow would read as every watched port "taken".
    if (watch.ports.length === 0 || delta.seq === 0 || delta.stats.ownersPending) return;
    const alerts = watch.update([...sockets.live.sockets.values()]);
    // Newest first, and within one change in the order told (an owner's exit before its port's freedom).
    recent.value = [...alerts.map((a) => ({ ...a, at: Date.now() })), ...recent.value].slice(0, 20);
    for (const alert of alerts) {
      if (typeof Notification !== 'undefined' && Notification.permission === 'granted')
        new Notification('Porthole', { body: alert.message, tag: `${alert.port.protocol}:${alert.port.port}` });
    }
  });

  return {
    watched,
    recent,
    toggle,
    isWatched: (port: WatchedPort) => (void watched.value, watch.isWatched(port)),
  };
});
