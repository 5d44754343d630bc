// Watched ports' alerts, from the live table as the renderer's stores follow it: a table sent
// before its owners, then the owners, is no "taken"; a port freed after is an alert.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { socketKey } from '../../src-main/track/identity';
import { useAlertsStore } from '../../src-renderer/src/stores/alerts';
import { useSocketStore } from '../../src-renderer/src/stores/sockets';
import { cleanStats, delta, tcp } from '../helpers/sockets';

const stats = cleanStats;

beforeEach(() => {
  // The browser's storage, which Node has not: the watched port, remembered from a run before.
  const stored = new Map([['porthole.watchedPorts', JSON.stringify([{ protocol: 'tcp', port: 3000 }])]]);
  Object.assign(globalThis, {
    localStorage: {
      getItem: (k: string) => stored.get(k) ?? null,
      setItem: (k: string, v: string) => stored.set(k, v),
    },
  });
  setActivePinia(createPinia());
});

describe('a watched port', () => {
  it('is not "taken" when its owner arrives after a table sent before its owners; freed, it alerts', () => {
    const sockets = useSocketStore();
    const alerts = useAlertsStore();
    sockets.receive({ type: 'resync', resync: { seq: 0, at: '', sockets: [], processes: [], stats: null } });
    const listener = tcp('127.0.0.1:3000', null, { inode: 5, pid: null, processName: null, pids: [] });
    sockets.receive({
      type: 'delta',
      delta: delta(1, { added: [listener], stats: { ...stats, ownersPending: true } }),
    });
    const owned = { ...listener, pid: 42, processName: 'api', pids: [42] };
    const key = socketKey(listener);
    sockets.receive({
      type: 'delta',
      delta: delta(2, { changed: [{ key, from: { pid: null, processName: null, pids: [] }, to: owned }] }),
    });
    expect(alerts.recent).toEqual([]);
    sockets.receive({ type: 'delta', delta: delta(3, { removed: [key] }) });
    expect(alerts.recent.map((a) => a.kind)).toContain('free');
  });
});
