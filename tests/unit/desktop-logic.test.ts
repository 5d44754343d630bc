// The desktop app's pure logic (issue 13): alerts on watched ports, the tray's summary.
import { describe, expect, it } from 'vitest';
import type { Socket } from '../../src-main/shared/contract';
import { MAX_WATCHED_PORTS, PortWatch } from '../../src-main/track/port-alerts';
import { trayModel } from '../../src-main/track/tray';
import { listenerGroups } from '../../src-main/track/views';
import { restoredState } from '../../src-main/desktop/window-state';
import { tcp } from '../helpers/sockets';

const listener = (port: number, pid: number, name = 'node'): Socket =>
  tcp(`127.0.0.1:${port}`, null, { pid, pids: [pid], processName: name, inode: port * 10 + pid });

describe('watching a port', () => {
  const other = (pid: number): Socket => ({
    ...tcp('127.0.0.1:9', '127.0.0.1:10', { pid, pids: [pid], inode: 900 + pid }),
  });

  it('says nothing at first, then when it becomes free, is taken (by whom), or its owner is gone', () => {
    const watch = new PortWatch();
    watch.watch({ protocol: 'tcp', port: 3000 });
    expect(watch.update([listener(3000, 10), other(10)])).toEqual([]);
    // The owner closed its listener but holds another socket: free, the owner still there.
    expect(watch.update([other(10)]).map((a) => a.kind)).toEqual(['free']);
    // Taken by another process.
    const taken = watch.update([listener(3000, 20, 'vite'), other(10)]);
    expect(taken).toEqual([
      {
        kind: 'taken',
        port: { protocol: 'tcp', port: 3000 },
        message: 'tcp port 3000 was taken by vite (pid 20) on 127.0.0.1:3000.',
      },
    ]);
    // Its owner is gone (no socket of its own left): what happened to it, then to the port.
    const gone = watch.update([other(10)]);
    expect(gone.map((a) => a.kind)).toEqual(['owner-exited', 'free']);
    expect(gone[0].message).toBe(
      'vite (pid 20), which held tcp port 3000 (127.0.0.1:3000), is gone: it holds no socket now.',
    );
    // Nothing changed: nothing said.
    expect(watch.update([other(10)])).toEqual([]);
  });

  it('tells a handover (one owner to another at once) as taken, and ignores other ports and namespaces', () => {
    const watch = new PortWatch();
    watch.watch({ protocol: 'tcp', port: 3000 });
    watch.update([listener(3000, 10)]);
    const elsewhere = { ...listener(3000, 30), netns: 4026532000, netnsName: 'db' };
    const alerts = watch.update([listener(3000, 20), listener(4000, 40), elsewhere]);
    expect(alerts.map((a) => a.kind)).toEqual(['owner-exited', 'taken']);
  });

  it('watches a bounded number of ports', () => {
    const watch = new PortWatch();
    for (let p = 1; p <= MAX_WATCHED_PORTS; p++) expect(watch.watch({ protocol: 'tcp', port: p })).toBe(true);
    expect(watch.watch({ protocol: 'udp', port: 53 })).toBe(false);
    watch.unwatch({ protocol: 'tcp', port: 1 });
    expect(watch.watch({ protocol: 'udp', port: 53 })).toBe(true);
    expect(watch.isWatched({ protocol: 'udp', port: 53 })).toBe(true);
  });
});

describe('tray summary', () => {
  it('counts listening ports and lists the busiest with their owners', () => {
    const sockets = [
      listener(3000, 10),
      listener(5432, 20, 'postgres'),
      tcp('127.0.0.1:5432', '127.0.0.1:40000', { inode: 1 }),
      tcp('127.0.0.1:5432', '127.0.0.1:40001', { inode: 2 }),
    ];
    const model = trayModel(listenerGroups(sockets), 1);
    expect(model.tooltip).toBe('Porthole: 2 listening ports');
    expect(model.items).toEqual([{ label: 'tcp 5432 — postgres 20 · 2 connected', protocol: 'tcp', port: 5432 }]);
  });
});

describe('remembered window state', () => {
  const screen = { x: 0, y: 0, width: 1920, height: 1080 };
  it('opens where it was when that is on a display now', () => {
    const saved = { x: 100, y: 50, width: 1000, height: 700, maximized: true };
    expect(restoredState(saved, [screen])).toEqual(saved);
  });

  it('comes back onto a display when the one it was on is gone, keeping maximized', () => {
    const state = restoredState({ x: 3000, y: 50, width: 1000, height: 700, maximized: true }, [screen]);
    expect(state).toEqual({ x: 320, y: 130, width: 1280, height: 820, maximized: true });
  });

  it('ignores a saved state that is not one (hand-edited, older), and bounds absurd sizes', () => {
    expect(restoredState({ x: '1', y: 2, width: 3, height: 4, maximized: false }, [screen]).width).toBe(1280);
    expect(restoredState(null, [screen]).maximized).toBe(false);
    expect(restoredState({ x: 0, y: 0, width: 10, height: 500, maximized: false }, [screen])).toMatchObject({
      width: 640,
      height: 500,
    });
    // A window far taller than any display mostly falls off it: the default instead.
    expect(restoredState({ x: 0, y: 0, width: 800, height: 99_999_999, maximized: false }, [screen])).toMatchObject({
      width: 1280,
      height: 820,
    });
  });
});
