// The preload: exposes the small typed API of the IPC contract through contextBridge, never
// ipcRenderer itself. It must stay CommonJS and import nothing but electron and the contract.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC, type PreloadApi } from '../shared/ipc';

const api: PreloadApi = {
  onStream(listener) {
    const handler = (_event: IpcRendererEvent, json: unknown) => {
      if (typeof json === 'string') listener(json);
    };
    ipcRenderer.on(IPC.stream, handler);
    return () => ipcRenderer.removeListener(IPC.stream, handler);
  },
  request(request) {
    ipcRenderer.send(IPC.request, request);
  },
};

contextBridge.exposeInMainWorld('porthole', api);
