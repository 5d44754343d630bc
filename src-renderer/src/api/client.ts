// The one client interface the stores use, with two transports: Electron's preload API, or a
// WebSocket to `porthole serve`. No view knows which one it runs under.
import type { HistoryStatus, HostsStatus, LoopStatus, StreamMessage } from '../../../src-main/shared/contract';
import type {
  ActionRequest,
  MenuCommand,
  PreloadApi,
  RendererRequest,
  ServerMessage,
} from '../../../src-main/shared/ipc';
import { SERVE_PROTOCOL, SERVE_TOKEN_PREFIX } from '../../../src-main/shared/ipc';

/** An action request without its id: the client numbers them. */
export type Action = ActionRequest extends infer R ? (R extends ActionRequest ? Omit<R, 'id'> : never) : never;

export interface PortholeClient {
  readonly transport: 'electron' | 'websocket';
  /** Stream messages, in order. After a reconnect the stream starts again with a resync. */
  onMessage(listener: (message: StreamMessage) => void): void;
  /** Connection state for the status bar. */
  onStatus(listener: (connected: boolean) => void): void;
  /** Commands from the application menu (Electron). */
  onCommand(listener: (command: MenuCommand) => void): void;
  /** Another machine's stream (a source of `serve`), in order per host; and how the hosts are doing. */
  onHost(listener: (host: string, message: StreamMessage) => void): void;
  onHosts(listener: (hosts: HostsStatus) => void): void;
  /** How the host's poll loop is doing: on subscribing, then at every change. */
  onLoop(listener: (loop: LoopStatus) => void): void;
  /** How the host's flight recorder is doing: on subscribing, then at every change. */
  onHistory(listener: (history: HistoryStatus) => void): void;
  send(request: RendererRequest): void;
  /** Sends an action and resolves with the host's answer, or rejects with its reason. */
  call<T>(action: Action): Promise<T>;
}

declare global {
  interface Window {
    porthole?: PreloadApi;
  }
}

/** Shared by both transports: numbers actions, matches replies, routes the rest. */
function dispatcher(send: (request: RendererRequest) => void) {
  const streamListeners: ((m: StreamMessage) => void)[] = [];
  const commandListeners: ((c: MenuCommand) => void)[] = [];
  const hostListeners: ((host: string, m: StreamMessage) => void)[] = [];
  const hostsListeners: ((hosts: HostsStatus) => void)[] = [];
  const loopListeners: ((loop: LoopStatus) => void)[] = [];
  const historyListeners: ((history: HistoryStatus) => void)[] = [];
  const pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  return {
    streamListeners,
    receive(json: string): void {
      const message = JSON.parse(json) as ServerMessage;
      if (message.type === 'reply') {
        const waiting = pending.get(message.id);
        pending.delete(message.id);
        if (message.ok) waiting?.resolve(message.value as never);
        else waiting?.reject(new Error(message.error));
      } else if (message.type === 'command') commandListeners.forEach((l) => l(message.command));
      else if (message.type === 'host') hostListeners.forEach((l) => l(message.host, message.message));
      else if (message.type === 'hosts') hostsListeners.forEach((l) => l(message.hosts));
      else if (message.type === 'loop') loopListeners.forEach((l) => l(message.loop));
      else if (message.type === 'history') historyListeners.forEach((l) => l(message.history));
      else streamListeners.forEach((l) => l(message));
    },
    onCommand: (listener: (c: MenuCommand) => void) => void commandListeners.push(listener),
    onHost: (listener: (host: string, m: StreamMessage) => void) => void hostListeners.push(listener),
    onHosts: (listener: (hosts: HostsStatus) => void) => void hostsListeners.push(listener),
    onLoop: (listener: (loop: LoopStatus) => void) => void loopListeners.push(listener),
    onHistory: (listener: (history: HistoryStatus) => void) => void historyListeners.push(listener),
    call<T>(action: Action): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: never) => void, reject });
        send({ ...action, id } as RendererRequest);
      });
    },
    /** A lost connection loses its answers: fail them rather than wait forever. */
    failPending(): void {
      for (const waiting of pending.values()) waiting.reject(new Error('the connection to Porthole was lost'));
      pending.clear();
    },
  };
}

function electronClient(api: PreloadApi): PortholeClient {
  const d = dispatcher((request) => api.request(request));
  api.onStream((json) => d.receive(json));
  return {
    transport: 'electron',
    onMessage: (listener) => {
      d.streamListeners.push(listener);
      api.request({ type: 'subscribe' });
    },
    onStatus: (listener) => listener(true),
    onCommand: d.onCommand,
    onHost: d.onHost,
    onHosts: d.onHosts,
    onLoop: d.onLoop,
    onHistory: d.onHistory,
    send: (request) => api.request(request),
    call: d.call,
  };
}

const TOKEN_KEY = 'porthole.token';

/**
 * The token `porthole serve` printed in the URL: taken out of the address bar (and so out of the
 * history) at once, and kept in this tab's sessionStorage, which unlike a cookie belongs to this
 * origin alone (scheme, host and port): another server on 127.0.0.1 never sees it.
 */
export function takeServeToken(): string | null {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function webSocketClient(): PortholeClient {
  const token = takeServeToken();
  const statusListeners: ((c: boolean) => void)[] = [];
  let socket: WebSocket | null = null;
  const send = (request: RendererRequest) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(request));
  };
  const d = dispatcher(send);
  const connect = () => {
    // The token travels as a subprotocol: a header only this page's script can set.
    socket = new WebSocket(`ws://${location.host}/stream`, [SERVE_PROTOCOL, SERVE_TOKEN_PREFIX + (token ?? '')]);
    socket.onopen = () => {
      statusListeners.forEach((l) => l(true));
      send({ type: 'subscribe' });
    };
    socket.onmessage = (event) => d.receive(String(event.data));
    socket.onclose = () => {
      statusListeners.forEach((l) => l(false));
      d.failPending();
      setTimeout(connect, 1000);
    };
  };
  return {
    transport: 'websocket',
    onMessage: (listener) => {
      d.streamListeners.push(listener);
      if (!socket) connect();
    },
    onStatus: (listener) => statusListeners.push(listener),
    onCommand: d.onCommand,
    onHost: d.onHost,
    onHosts: d.onHosts,
    onLoop: d.onLoop,
    onHistory: d.onHistory,
    send,
    call: d.call,
  };
}

export function createClient(): PortholeClient {
  return window.porthole ? electronClient(window.porthole) : webSocketClient();
}
