// The preload: exposes a small typed API through contextBridge, never ipcRenderer itself.
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('porthole', { version: 1 });
