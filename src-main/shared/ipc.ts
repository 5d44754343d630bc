// The IPC contract between the main process and the renderer: channel names, what each carries, and
// the validation every message goes through. Declared once; preload, main and renderer use it.

/** Requests from the renderer (or a browser tab over WebSocket). */
export type RendererRequest =
  /** Start (or restart) this view's stream: a resync comes first, then deltas. */
  | { type: 'subscribe' }
  /** One stream message was applied; the next may be sent. */
  | { type: 'ack' }
  /** A gap in seq was seen: send the whole state. */
  | { type: 'resync' }
  /** The view is hidden (or shown again): hold and coalesce, or resume. */
  | { type: 'visibility'; visible: boolean }
  /** The poll interval, in ms (clamped to 250 ms – 10 s). */
  | { type: 'interval'; ms: number };

export const IPC = {
  /** renderer → main: a RendererRequest. */
  request: 'porthole:request',
  /** main → renderer: a StreamMessage as JSON text (forwarded from the poll worker unparsed). */
  stream: 'porthole:stream',
} as const;

/** The keys `window.porthole` exposes in the Electron renderer: nothing else. */
export const PRELOAD_API_KEYS = ['onStream', 'request'] as const;

export interface PreloadApi {
  /** Listens to stream messages (JSON text); returns an unsubscribe function. */
  onStream(listener: (json: string) => void): () => void;
  request(request: RendererRequest): void;
}

/** The poll interval a user may choose: faster costs CPU, slower hides more short connections. */
export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 10_000;

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
    case 'ack':
    case 'resync':
      return keys === 'type'
        ? { ok: true, request: { type: value.type } as RendererRequest }
        : { ok: false, reason: `${value.type} takes no fields` };
    case 'visibility':
      return keys === 'type,visible' && typeof value.visible === 'boolean'
        ? { ok: true, request: { type: 'visibility', visible: value.visible } }
        : { ok: false, reason: 'visibility takes { visible: boolean }' };
    case 'interval':
      return keys === 'ms,type' && typeof value.ms === 'number' && Number.isFinite(value.ms)
        ? {
            ok: true,
            request: { type: 'interval', ms: Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, value.ms)) },
          }
        : { ok: false, reason: 'interval takes { ms: number }' };
    default:
      return { ok: false, reason: `unknown request type ${JSON.stringify(value.type)}` };
  }
}
