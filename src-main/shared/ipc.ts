// The IPC contract between the main process and the renderer: channel names, what each carries, and
// the validation every message goes through. Declared once; preload, main and renderer use it.

import * as v from 'valibot';
import { checkInterval, INTERVAL_RANGE } from './interval';
import {
  HOST_NAME_PATTERN,
  PID_MAX,
  type HistoryStatus,
  type HostsStatus,
  type LoopStatus,
  type ReverseDnsMode,
  type StreamMessage,
} from './contract';

export { REVERSE_DNS_MODES, type ReverseDnsMode } from './contract';
import { isIpLiteral } from './ip-literal';

/** The largest text a renderer may ask to save (a 50k-socket JSON snapshot is ≈ 7 MB). */
export const MAX_SAVE_BYTES = 64 * 1024 * 1024;
const MAX_NAME = 255;
/** Addresses one names request may carry (a screen of rows and a fan-out's peers, with room). */
export const MAX_NAMES_ASKED = 256;

const id = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535));
const ipLiteral = v.pipe(v.string(), v.check(isIpLiteral, 'must be an IPv4 or IPv6 literal'));
const sourceName = v.pipe(v.string(), v.regex(HOST_NAME_PATTERN, "must be a source's name"));
const interval = v.pipe(
  v.unknown(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const checked = checkInterval(dataset.value);
    if (checked.ok) return checked.ms;
    addIssue({ message: `must be ${INTERVAL_RANGE}` });
    return NEVER;
  }),
);

/** Requests that are answered: each carries an id its Reply echoes. */
const ACTION_REQUESTS = [
  /** Diagnose a port (the port doctor) from the current table and a real bind. */
  v.strictObject({
    type: v.literal('doctor'),
    id,
    port,
    protocol: v.picklist(['tcp', 'udp']),
    address: v.nullable(ipLiteral),
  }),
  /** Stop a process, if it still is the one the user saw (same start time). */
  v.strictObject({
    type: v.literal('kill'),
    id,
    pid: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(PID_MAX)),
    startedAt: v.pipe(v.string(), v.maxLength(40)),
    force: v.boolean(),
  }),
  /** Close one TCP connection (the OS aborts it), named by both ends. */
  v.strictObject({
    type: v.literal('close'),
    id,
    localAddress: ipLiteral,
    localPort: port,
    remoteAddress: ipLiteral,
    remotePort: port,
  }),
  /** The current table as a snapshot document (for export and compare). */
  v.strictObject({ type: v.literal('snapshot'), id }),
  /** Save text to a file the user picks in a native dialog (Electron only). */
  v.strictObject({
    type: v.literal('save'),
    id,
    name: v.pipe(
      v.string(),
      v.minLength(1),
      v.maxLength(MAX_NAME),
      v.regex(/^[^/\\\u0000-\u001f]+$/, 'must be a file name without folders'),
    ),
    text: v.pipe(v.string(), v.maxLength(MAX_SAVE_BYTES)),
  }),
  /** Show a process's working directory in the file manager (Electron only). */
  v.strictObject({
    type: v.literal('openFolder'),
    id,
    path: v.pipe(v.string(), v.startsWith('/', 'must be an absolute path'), v.maxLength(4096)),
  }),
  /** Names of remote addresses the view shows (reverse DNS, as the host's setting allows). */
  v.strictObject({
    type: v.literal('names'),
    id,
    addresses: v.pipe(v.array(ipLiteral), v.minLength(1), v.maxLength(MAX_NAMES_ASKED)),
  }),
  /** Poll through the privileged helper, after the platform's consent dialog (Electron only). */
  v.strictObject({ type: v.literal('showAllOwners'), id }),
  /** The table as the history has it at a moment ("15:12", "10 min ago", ISO 8601): a snapshot document. */
  v.strictObject({ type: v.literal('tableAt'), id, at: v.pipe(v.string(), v.minLength(1), v.maxLength(64)) }),
  /** The recording (NDJSON text) of a time range of the history, `since` and `until` as `tableAt`'s `at`. */
  v.strictObject({
    type: v.literal('cutRecording'),
    id,
    since: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
    until: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  }),
  /** Turns the host's flight recorder on or off (the UI's setting). */
  v.strictObject({ type: v.literal('setRecording'), id, on: v.boolean() }),
  /** Who held or used a port over the last `hours` (1-168), from the history. */
  v.strictObject({
    type: v.literal('portHistory'),
    id,
    port,
    hours: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(168)),
  }),
] as const;

/** Requests from the renderer (or a browser tab over WebSocket): the schema, and the type from it. */
const RendererRequestSchema = v.variant('type', [
  /** Start (or restart) this view's stream: a resync comes first, then deltas. */
  v.strictObject({ type: v.literal('subscribe') }),
  /**
   * ack: one stream message was applied (of a source's stream, with its name); the next may be sent.
   * resync: a gap in seq was seen (in a source's stream, with its name): send the whole state.
   */
  v.strictObject({ type: v.picklist(['ack', 'resync']), host: v.optional(sourceName) }),
  /** The view is hidden (or shown again): hold and coalesce, or resume. */
  v.strictObject({ type: v.literal('visibility'), visible: v.boolean() }),
  /** The poll interval, in ms (shared/interval.ts: outside its range, refused). */
  v.strictObject({ type: v.literal('interval'), ms: interval }),
  ...ACTION_REQUESTS,
]);

export type RendererRequest = v.InferOutput<typeof RendererRequestSchema>;
export type ActionRequest = v.InferOutput<(typeof ACTION_REQUESTS)[number]>;

/** The answer to a kill request: what was sent, or why nothing was. */
export type KillOutcome =
  | { ok: true; pid: number; signal: 'SIGTERM' | 'SIGKILL'; message: string }
  | { ok: false; pid: number; reason: string };

/**
 * The answer to a names request: a name, null for "has none", absent for "not known yet"; and
 * whether names are looked up at all, and how (the host's setting).
 */
export interface NamesAnswer {
  mode: ReverseDnsMode;
  names: Record<string, string | null>;
}

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
  | { type: 'hosts'; hosts: HostsStatus }
  /** How the poll loop is doing: on subscribing, and at every change. */
  | { type: 'loop'; loop: LoopStatus }
  /** How the host's flight recorder is doing: on subscribing, and at every change. */
  | { type: 'history'; history: HistoryStatus };
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

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Validates a request from an untrusted renderer (or a browser over WebSocket): exactly the
 * declared fields with the declared types, nothing more (an own `__proto__` is an unknown field).
 * Returns the reason when it is refused, naming the field, never quoting its value.
 */
export function parseRendererRequest(
  value: unknown,
): { ok: true; request: RendererRequest } | { ok: false; reason: string } {
  if (!isPlainObject(value)) return { ok: false, reason: 'a request is an object' };
  const parsed = v.safeParse(RendererRequestSchema, value, { abortEarly: true });
  if (parsed.success) return { ok: true, request: parsed.output };
  const issue = parsed.issues[0];
  const field = v.getDotPath(issue);
  if (field === null || field === 'type') return { ok: false, reason: 'unknown request type' };
  const what = value.type as string; // a known type: the variant matched it
  // Valibot's own messages quote the value received: only its expectation is said.
  const reason =
    issue.expected === 'never'
      ? `${what} has a field it does not take`
      : issue.type === 'strict_object'
        ? `${what} needs ${field}`
        : issue.message.startsWith('must')
          ? `${what}.${field} ${issue.message}`
          : `${what}.${field} must be ${issue.expected}`;
  return { ok: false, reason };
}
