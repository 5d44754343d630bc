// The Electron host's IPC: every message is validated (ViewerSession) and must come from the
// app's own window and its main frame. Takes ipcMain and the window's webContents as parameters,
// so it is tested under plain Node; only desktop/main.ts passes the real ones.

import { IPC } from '../shared/ipc';
import type { HostActions } from '../viewer/actions';
import type { Poller } from '../poll/poller';
import { ViewerSession } from '../viewer/session';

/** The parts of Electron's IpcMainEvent this uses. */
export interface IpcEventLike {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

export interface IpcMainLike {
  on(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => void): unknown;
  removeAllListeners(channel: string): unknown;
}

export interface WebContentsLike {
  id: number;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
}

/**
 * Whether a message comes from the window's top frame showing the app's own page. A foreign
 * page (after a navigation we failed to block, or an iframe) is refused.
 */
export function isTrustedSender(event: IpcEventLike, contents: WebContentsLike, appUrl: string): boolean {
  const frame = event.senderFrame;
  if (event.sender.id !== contents.id || !frame || frame.parent !== null) return false;
  return frame.url.split('#')[0].split('?')[0] === appUrl;
}

export function registerIpc(
  ipcMain: IpcMainLike,
  contents: WebContentsLike,
  appUrl: string,
  poller: Poller,
  log: (line: string) => void = () => {},
  actions: HostActions | null = null,
): { dispose(): void } {
  const session = new ViewerSession(
    poller,
    {
      send: (json) => {
        if (!contents.isDestroyed()) contents.send(IPC.stream, json);
      },
      refuse: (reason) => log(`refused IPC message: ${reason}`),
    },
    actions,
  );
  ipcMain.on(IPC.request, (event, message) => {
    if (!isTrustedSender(event, contents, appUrl)) {
      log(`refused IPC message from ${event.senderFrame?.url ?? 'an unknown frame'}`);
      return;
    }
    session.handle(message);
  });
  return {
    dispose: () => {
      ipcMain.removeAllListeners(IPC.request);
      session.close();
    },
  };
}
