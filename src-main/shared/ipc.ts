// The IPC contract between the main process and the renderer: channel names, what each carries, and
// the validation every message goes through. Declared once; preload, main and renderer use it.

import { checkInterval } from './interval';
import { HOST_NAME_PATTERN, type HostsStatus, type StreamMessage } from './contract';
import { isIpLiteral } from './ip-literal';

/** Requests from the renderer (or a browser tab over WebSocket). */
export type RendererRequest =
  /** Start (or restart) this view's stream: a resync comes first, then deltas. */
  | { type: 'subscribe' }
  /** One stream message was applied (of a source's stream, with its name); the next may be sent. */
  | { type: 'ack'; host?: string }
  /** A gap in seq was seen (in a source's stream, with its name): send the whole state. */
  | { type: 'resync'; host?: string }
  /** The view is hidden (or shown again): hold and coalesce, or resume. */
  | { type: 'visibility'; visible: boolean }
  /** The poll interval, in ms (clamped to 250 ms – 10 s). */
  | { type: 'interval'; ms: number }
  | ActionRequest;

/** Requests that are answered: each carries an id its Reply echoes. */
export type ActionRequest =
  /** Diagnose a port (the port doctor) from the current table and a real bind. */
  | { type: 'doctor'; id: number; port: number; protocol: 'tcp' | 'udp'; address: string | null }
  /** Stop a process, if it still is the one the user saw (same start time). */
  | { type: 'kill'; id: number; pid: number; startedAt: string; force: boolean }
  /** Close one TCP connection (kernel SOCK_DESTROY), named by both ends. */
  | {
      type: 'close';
      id: number;
      localAddress: string;
      localPort: number;
      remoteAddress: string;
      remotePort: number;
    }
  /** The current table as a snapshot document (for export and compare). */
  | { type: 'snapshot'; id: number }
  /** Save text to a file the user picks in a native dialog (Electron only). */
  | { type: 'save'; id: number; name: string; text: string }
  /** Show a process's working directory in the file manager (Electron only). */
  | { type: 'openFolder'; id: number; path: string }
  /** Poll through the privileged helper, after the platform's consent dialog (Electron only). */
  | { type: 'showAllOwners'; id: number };

/** The answer to a kill request: what was sent, or why nothing was. */
export type KillOutcome =
  | { ok: true; pid: number; signal: 'SIGTERM' | 'SIGKILL'; message: string }
  | { ok: false; pid: number; reason: string };

/** The answer to a close request. */
export type CloseOutcome = { ok: true; message: string } | { ok: false; reason: string };

export type Reply = { type: 'reply'; id: number } & ({ ok: true; value: unknown } | { ok: false; error: string });

/**
 * Everything the host sends a viewer: the stream, answers to requests, menu commands, and where it
 * merges other Porthole servers (`serve --source`), each one's stream and how each is doing.
 */
export type ServerMessage =
  | StreamMessage
  | Reply
  | { type: 'command'; command: MenuCommand }
  | { type: 'host'; host: string; message: StreamMessage }
  | { type: 'hosts'; hosts: HostsStatus };
export type MenuCommand = 'export' | 'import' | 'record' | 'doctor' | 'showAllOwners';

export const IPC = {
  /** renderer → main: a RendererRequest. */
  request: 'porthole:request',
  /** main → renderer: a StreamMessage as JSON text (forwarded from the poll worker unparsed). */
  stream: 'porthole:stream',
} as const;

/**
 * `porthole serve`'s WebSocket: the page offers two subprotocols, this one (which the server selects)
 * and `SERVE_TOKEN_PREFIX + token`. The token thus travels in a header only this page's script can
 * set: never in a cookie (browsers send cookies to every port of 127.0.0.1) nor in a URL that logs
 * and history keep.
 */
export const SERVE_PROTOCOL = 'porthole.v1';
export const SERVE_TOKEN_PREFIX = 'porthole-token.';

/** The keys `window.porthole` exposes in the Electron renderer: nothing else. */
export const PRELOAD_API_KEYS = ['onStream', 'request'] as const;

export interface PreloadApi {
  /** Listens to stream messages (JSON text); returns an unsubscribe function. */
  onStream(listener: (json: string) => void): () => void;
  request(request: RendererRequest): void;
}

/** The largest text a renderer may ask to save (a 50k-socket JSON snapshot is ≈ 7 MB). */
export const MAX_SAVE_BYTES = 64 * 1024 * 1024;
const MAX_NAME = 255;
const PID_MAX = 4_194_304;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Validates a request from an untrusted renderer (or a browser over WebSocket): exactly the
 * declared fields with the declared types, nothing more. Returns the reason when it is refused.
 */
export function parseRendererRequest(
  value: unknown,
): { ok: true; request: RendererRequest } | { ok: false; reason: string } {
  if (!isPlainObject(value)) return { ok: false, reason: 'a request is an object' };
  const keys = Object.keys(value).sort().join(',');
  switch (value.type) {
    case 'subscribe':
      return keys === 'type'
        ? { ok: true, request: { type: value.type } }
        : { ok: false, reason: `${value.type} takes no fields` };
    case 'ack':
    case 'resync':
      if (keys === 'type') return { ok: true, request: { type: value.type } };
      return keys === 'host,type' && typeof value.host === 'string' && HOST_NAME_PATTERN.test(value.host)
        ? { ok: true, request: { type: value.type, host: value.host } }
        : { ok: false, reason: `${value.type} takes no fields, or { host: a source's name }` };
    case 'visibility':
      return keys === 'type,visible' && typeof value.visible === 'boolean'
        ? { ok: true, request: { type: 'visibility', visible: value.visible } }
        : { ok: false, reason: 'visibility takes { visible: boolean }' };
    case 'interval': {
      if (keys !== 'ms,type') return { ok: false, reason: 'interval takes { ms }' };
      const interval = checkInterval(value.ms);
      return interval.ok
        ? { ok: true, request: { type: 'interval', ms: interval.ms } }
        : { ok: false, reason: `interval takes { ms }: ${interval.reason}` };
    }
    case 'doctor':
    case 'kill':
    case 'close':
    case 'snapshot':
    case 'save':
    case 'openFolder':
    case 'showAllOwners':
      return parseActionRequest(value, keys);
    default:
      return { ok: false, reason: `unknown request type ${JSON.stringify(value.type)}` };
  }
}

const isId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isPort = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;

function parseActionRequest(
  value: Record<string, unknown>,
  keys: string,
): { ok: true; request: RendererRequest } | { ok: false; reason: string } {
  const refuse = (shape: string) => ({ ok: false as const, reason: `${String(value.type)} takes ${shape}` });
  if (!isId(value.id)) return refuse('a numeric id');
  const id = value.id;
  switch (value.type) {
    case 'doctor':
      return keys === 'address,id,port,protocol,type' &&
        isPort(value.port) &&
        (value.protocol === 'tcp' || value.protocol === 'udp') &&
        (value.address === null || (typeof value.address === 'string' && isIpLiteral(value.address)))
        ? {
            ok: true,
            request: { type: 'doctor', id, port: value.port, protocol: value.protocol, address: value.address },
          }
        : refuse('{ id, port: 1-65535, protocol: tcp|udp, address: an IPv4 or IPv6 literal, or null }');
    case 'kill':
      return keys === 'force,id,pid,startedAt,type' &&
        Number.isInteger(value.pid) &&
        (value.pid as number) > 1 &&
        (value.pid as number) <= PID_MAX &&
        typeof value.startedAt === 'string' &&
        value.startedAt.length <= 40 &&
        typeof value.force === 'boolean'
        ? {
            ok: true,
            request: { type: 'kill', id, pid: value.pid as number, startedAt: value.startedAt, force: value.force },
          }
        : refuse('{ id, pid > 1, startedAt: string, force: boolean }');
    case 'close':
      return keys === 'id,localAddress,localPort,remoteAddress,remotePort,type' &&
        typeof value.localAddress === 'string' &&
        isIpLiteral(value.localAddress) &&
        typeof value.remoteAddress === 'string' &&
        isIpLiteral(value.remoteAddress) &&
        isPort(value.localPort) &&
        isPort(value.remotePort)
        ? {
            ok: true,
            request: {
              type: 'close',
              id,
              localAddress: value.localAddress,
              localPort: value.localPort,
              remoteAddress: value.remoteAddress,
              remotePort: value.remotePort,
            },
          }
        : refuse('{ id, localAddress, localPort, remoteAddress, remotePort: IP literals and ports 1-65535 }');
    case 'snapshot':
    case 'showAllOwners':
      return keys === 'id,type' ? { ok: true, request: { type: value.type, id } } : refuse('{ id }');
    case 'save':
      return keys === 'id,name,text,type' &&
        typeof value.name === 'string' &&
        value.name.length > 0 &&
        value.name.length <= MAX_NAME &&
        !/[/\\\u0000-\u001f]/.test(value.name) &&
        typeof value.text === 'string' &&
        value.text.length <= MAX_SAVE_BYTES
        ? { ok: true, request: { type: 'save', id, name: value.name, text: value.text } }
        : refuse('{ id, name: a file name without folders, text: string }');
    case 'openFolder':
      return keys === 'id,path,type' &&
        typeof value.path === 'string' &&
        value.path.startsWith('/') &&
        value.path.length <= 4096
        ? { ok: true, request: { type: 'openFolder', id, path: value.path } }
        : refuse('{ id, path: an absolute path }');
    default:
      return refuse('nothing known');
  }
}
