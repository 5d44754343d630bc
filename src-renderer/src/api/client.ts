// The one client interface the stores use, with two transports: Electron's preload API, or a
// WebSocket to `porthole serve`. No view knows which one it runs under.
import type { StreamMessage } from '../../../src-main/shared/contract';
import type { PreloadApi, RendererRequest } from '../../../src-main/shared/ipc';

export interface PortholeClient {
  readonly transport: 'electron' | 'websocket';
  /** Stream messages, in order. After a reconnect the stream starts again with a resync. */
  onMessage(listener: (message: StreamMessage) => void): void;
  /** Connection state for the status bar. */
  onStatus(listener: (connected: boolean) => void): void;
  send(request: RendererRequest): void;
}

declare global {
  interface Window {
    porthole?: PreloadApi;
  }
}

function electronClient(api: PreloadApi): PortholeClient {
  return {
    transport: 'electron',
    onMessage: (listener) => {
      api.onStream((json) => listener(JSON.parse(json) as StreamMessage));
      api.request({ type: 'subscribe' });
    },
    onStatus: (listener) => listener(true),
    send: (request) => api.request(request),
  };
}

function webSocketClient(): PortholeClient {
  const messageListeners: ((m: StreamMessage) => void)[] = [];
  const statusListeners: ((c: boolean) => void)[] = [];
  let socket: WebSocket | null = null;
  const connect = () => {
    // The token travels in the HttpOnly cookie set when the page was loaded with ?token=.
    socket = new WebSocket(`ws://${location.host}/stream`);
    socket.onopen = () => {
      statusListeners.forEach((l) => l(true));
      socket?.send(JSON.stringify({ type: 'subscribe' } satisfies RendererRequest));
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as StreamMessage;
      messageListeners.forEach((l) => l(message));
    };
    socket.onclose = () => {
      statusListeners.forEach((l) => l(false));
      setTimeout(connect, 1000);
    };
  };
  return {
    transport: 'websocket',
    onMessage: (listener) => {
      messageListeners.push(listener);
      if (!socket) connect();
    },
    onStatus: (listener) => statusListeners.push(listener),
    send: (request) => {
      if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(request));
    },
  };
}

export function createClient(): PortholeClient {
  return window.porthole ? electronClient(window.porthole) : webSocketClient();
}
