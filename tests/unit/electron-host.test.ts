// The Electron host without Electron: the preload exposes exactly the allowed API, and the main
// side's IPC refuses foreign senders and malformed messages. `electron` is mocked here because its
// runtime cannot run on this machine; the handlers take ipcMain and webContents as parameters.
import { describe, expect, it, vi } from 'vitest';
import { IPC, PRELOAD_API_KEYS, type PreloadApi } from '../../src-main/shared/ipc';
import { isTrustedSender, registerIpc, type IpcEventLike, type IpcMainLike } from '../../src-main/desktop/ipc';
import type { Poller } from '../../src-main/poll/poller';

const exposed: Record<string, unknown> = {};
const sent: unknown[][] = [];
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (name: string, api: unknown) => (exposed[name] = api) },
  ipcRenderer: { on: vi.fn(), removeListener: vi.fn(), send: (...args: unknown[]) => sent.push(args) },
}));

describe('preload', () => {
  it('exposes exactly the typed API under window.porthole, and never ipcRenderer', async () => {
    await import('../../src-main/desktop/preload');
    expect(Object.keys(exposed)).toEqual(['porthole']);
    const api = exposed.porthole as PreloadApi;
    expect(Object.keys(api).sort()).toEqual([...PRELOAD_API_KEYS].sort());
    expect(Object.values(api).every((v) => typeof v === 'function')).toBe(true);
    api.request({ type: 'ack' });
    expect(sent).toEqual([[IPC.request, { type: 'ack' }]]);
  });
});

describe('IPC handlers', () => {
  const APP = 'file:///opt/porthole/out/renderer/index.html';
  const contents = { id: 7, send: vi.fn(), isDestroyed: () => false };
  const event = (over: Partial<IpcEventLike> = {}): IpcEventLike => ({
    sender: { id: 7 },
    senderFrame: { url: APP, parent: null },
    ...over,
  });

  it('trusts only the app page in the window\u2019s top frame', () => {
    expect(isTrustedSender(event(), contents, APP)).toBe(true);
    expect(isTrustedSender(event({ senderFrame: { url: APP + '#x', parent: null } }), contents, APP)).toBe(true);
    expect(isTrustedSender(event({ sender: { id: 8 } }), contents, APP)).toBe(false);
    expect(isTrustedSender(event({ senderFrame: { url: 'https://evil.example/', parent: null } }), contents, APP)).toBe(
      false,
    );
    expect(isTrustedSender(event({ senderFrame: { url: APP, parent: {} } }), contents, APP)).toBe(false);
    expect(isTrustedSender(event({ senderFrame: null }), contents, APP)).toBe(false);
  });

  it('routes valid requests from the window to its stream and refuses foreign senders and bad messages', () => {
    const listeners = new Map<string, (e: IpcEventLike, ...args: unknown[]) => void>();
    const ipcMain: IpcMainLike = {
      on: (channel, l) => listeners.set(channel, l),
      removeAllListeners: (c) => listeners.delete(c),
    };
    const subscription = { id: 's', ack: vi.fn(), setPaused: vi.fn(), resync: vi.fn(), close: vi.fn() };
    let forward: (json: string) => void = () => {};
    const poller = {
      subscribe: vi.fn((onMessage: (json: string) => void) => ((forward = onMessage), subscription)),
      setInterval: vi.fn(),
      loopStatus: {
        state: 'running',
        kind: 'worker',
        lastHeardAt: null,
        restarts: 0,
        lastRestartAt: null,
        message: null,
      },
      onStatus: vi.fn(() => () => undefined),
    } as unknown as Poller;
    const log: string[] = [];
    const ipc = registerIpc(ipcMain, contents, APP, poller, (line) => log.push(line));
    const handle = listeners.get(IPC.request)!;

    handle(event({ senderFrame: { url: 'https://evil.example/', parent: null } }), { type: 'subscribe' });
    expect(poller.subscribe).not.toHaveBeenCalled();
    handle(event(), { type: 'subscribe' });
    expect(poller.subscribe).toHaveBeenCalledTimes(1);
    // The loop's state first, so the window can say when its table goes stale.
    expect(contents.send).toHaveBeenCalledWith(IPC.stream, expect.stringContaining('"type":"loop"'));
    forward('{"type":"resync"}');
    expect(contents.send).toHaveBeenCalledWith(IPC.stream, '{"type":"resync"}');
    handle(event(), { type: 'visibility', visible: false });
    expect(subscription.setPaused).toHaveBeenCalledWith(true);
    handle(event(), { type: 'interval', ms: 250 });
    expect(poller.setInterval).toHaveBeenCalledWith(250);
    for (const bad of [
      null,
      'ack',
      { type: 'ack', extra: 1 },
      { type: 'visibility', visible: 'no' },
      { type: 'exec' },
      JSON.parse('{"type":"ack","__proto__":{"x":1}}'),
      // Outside the interval's range: refused with the range (shared/interval.ts), never clamped.
      { type: 'interval', ms: 1 },
    ]) {
      handle(event(), bad);
    }
    expect(subscription.ack).not.toHaveBeenCalled();
    expect(poller.setInterval).toHaveBeenCalledTimes(1);
    expect(log.filter((l) => l.startsWith('refused'))).toHaveLength(8);
    expect(log.some((l) => l.includes('whole milliseconds from 250 to 10000'))).toBe(true);
    ipc.dispose();
    expect(listeners.size).toBe(0);
    expect(subscription.close).toHaveBeenCalled();
  });
});
