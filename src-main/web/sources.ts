// Other Porthole servers merged into this one's viewers (`porthole serve --source NAME=URL`): each
// source is read over its own WebSocket, as any viewer reads it, and is untrusted input. Every
// message is bounded (size, rate, rows), parsed without prototype keys and validated field by field
// as a recording is; a source cannot name its host (Porthole stamps it) nor change a socket it never
// sent. A source that breaks a rule loses its connection (counted, said in its status) and is tried
// again later; one failing, silent or slow source never holds up the others, nor this machine's
// own stream: they all live in a worker thread of their own (SourceWorker), with a bounded heap. Each source's table is re-streamed to every viewer through a DeltaStream of its own,
// with its own seq, acknowledgements and coalescing: a viewer behind on one host is behind on that
// host alone.

import { hostname } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import {
  HOST_NAME_PATTERN,
  TOKEN_PATTERN,
  type Delta,
  type HostsStatus,
  type HostStatus,
  type Resync,
  type StreamMessage,
} from '../shared/contract';
import { SERVE_PROTOCOL, type ServerMessage } from '../shared/ipc';
import { printable } from '../shared/printable';
import { Invalid, parseUntrustedJson } from '../export/import-snapshot';
import { streamMessage } from '../export/import-recording';
import { DeltaStream } from '../track/delta-stream';
import { hostSuffix } from '../track/identity';
import { StreamRefused, StreamTable, type AppliedDelta } from '../track/stream-table';
import { RateLimit } from '../common/rate-limit';

export interface SourceSpec {
  name: string;
  /** The source's WebSocket stream (ws: or wss:), without its token. */
  streamUrl: string;
  token: string;
}

/** Sources one server reads: each costs a connection, its table and a stream per viewer. */
export const MAX_SOURCES = 16;
/** One message from a source: a 50,000-socket resync is ≈ 8 MB; past this the connection goes (1009). */
export const MAX_SOURCE_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Rows one source's table may hold (sockets; processes alike): a source past it is cut off. */
export const MAX_SOURCE_SOCKETS = 200_000;
export const MAX_SOURCE_PROCESSES = 100_000;
/**
 * Messages a second from one source, with a burst of twice that. Porthole sends one per poll (at
 * most 4 a second) and a few more for kernel events; past this a source is flooding, and every
 * message costs this server's main thread a parse.
 */
export const MAX_SOURCE_MESSAGES_PER_SECOND = 50;
/**
 * Bytes a second from one source, with a burst of one largest message: parsing and checking them
 * is this server's main thread's work (≈ 15 ms a megabyte), so a source that keeps sending more
 * than a churning 50,000-socket table does (≈ 1 MB/s) costs at most an eighth of a core before it is
 * cut off, and the other sources and this machine's own stream keep their turn.
 */
export const MAX_SOURCE_BYTES_PER_SECOND = 8 * 1024 * 1024;
/** The bounds above, together (tests tighten them). */
export interface SourceLimits {
  messageBytes: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
}
export const SOURCE_LIMITS: SourceLimits = {
  messageBytes: MAX_SOURCE_MESSAGE_BYTES,
  messagesPerSecond: MAX_SOURCE_MESSAGES_PER_SECOND,
  bytesPerSecond: MAX_SOURCE_BYTES_PER_SECOND,
};
/** Pinged this often; silent this long is `stale`, this long is dead (cut, and tried again). */
export const HEARTBEAT_MS = 5_000;
export const STALE_AFTER_MS = 15_000;
export const DEAD_AFTER_MS = 30_000;
/** Retries start at this and double up to the longest. */
const FIRST_RETRY_MS = 1_000;
const LONGEST_RETRY_MS = 30_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;

export class SourceSpecError extends Error {}

/**
 * `NAME=URL`: URL is where the other `porthole serve` is reached (its printed URL, often through an
 * SSH tunnel), http(s) or ws(s). The token comes from the URL's `token` parameter (as printed) or,
 * kept out of the process list, from `tokens` (the `--source-token-file NAME=FILE` contents).
 */
export function parseSourceSpec(text: string, tokens: ReadonlyMap<string, string> = new Map()): SourceSpec {
  const at = text.indexOf('=');
  const name = at < 0 ? '' : text.slice(0, at);
  if (!HOST_NAME_PATTERN.test(name))
    throw new SourceSpecError(
      `--source is NAME=URL, NAME 1-32 letters, digits, dots, dashes or underscores, not "${printable(text.slice(0, 80))}".`,
    );
  let url: URL;
  try {
    url = new URL(text.slice(at + 1));
  } catch {
    throw new SourceSpecError(`--source ${name}: "${printable(text.slice(at + 1, at + 81))}" is not a URL.`);
  }
  const scheme = { 'http:': 'ws:', 'ws:': 'ws:', 'https:': 'wss:', 'wss:': 'wss:' }[url.protocol];
  if (!scheme) throw new SourceSpecError(`--source ${name}: the URL is http(s) or ws(s), not ${url.protocol}`);
  if (url.username || url.password)
    throw new SourceSpecError(
      `--source ${name}: the token goes in ?token= or --source-token-file, not in the URL's user.`,
    );
  const token = url.searchParams.get('token') ?? tokens.get(name) ?? '';
  if (!TOKEN_PATTERN.test(token))
    throw new SourceSpecError(
      `--source ${name}: no token (16-512 characters: the one its serve printed, in ?token= or --source-token-file ${name}=FILE).`,
    );
  return { name, streamUrl: `${scheme}//${url.host}/stream`, token };
}

/** A source's table as last read, and its stream to the viewers. */
class Source {
  status: HostStatus;
  /**
   * The source's table as last read, stamped with its machine and bounded; its seq is the
   * source's on this connection (-1 until its first resync).
   */
  private readonly table: StreamTable;
  /** This server's seq for the source's stream (the source's own restarts with each connection). */
  private seq = 0;
  private ws: WebSocket | null = null;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private heardAt = 0;
  private readonly rate: RateLimit;
  private readonly bytes: RateLimit;
  private closed = false;
  readonly stream: DeltaStream<string>;
  /** The viewers subscribed to `stream` (each is resynced when the source's table starts over). */
  readonly viewers = new Set<string>();

  constructor(
    readonly spec: SourceSpec,
    send: (viewer: string, message: StreamMessage) => void,
    private readonly changed: () => void,
    private readonly log: (line: string) => void,
    private readonly limits: SourceLimits,
  ) {
    const suffix = hostSuffix(spec.name);
    this.table = new StreamTable({
      stamp: (socket) => ({ ...socket, host: spec.name }),
      rekey: (key) => key + suffix,
      limits: { maxSockets: MAX_SOURCE_SOCKETS, maxProcesses: MAX_SOURCE_PROCESSES },
    });
    this.rate = new RateLimit(limits.messagesPerSecond);
    this.bytes = new RateLimit(limits.bytesPerSecond, limits.messageBytes);
    this.status = {
      name: spec.name,
      url: spec.streamUrl,
      state: 'connecting',
      reason: null,
      lastHeardAt: null,
      sockets: 0,
      refused: 0,
    };
    this.stream = new DeltaStream(send, () => this.current());
  }

  connect(): void {
    if (this.closed) return;
    const ws = new WebSocket(this.spec.streamUrl, [SERVE_PROTOCOL], {
      headers: { authorization: `Bearer ${this.spec.token}` },
      maxPayload: this.limits.messageBytes,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      perMessageDeflate: false,
      followRedirects: false,
    });
    this.ws = ws;
    this.table.seq = -1;
    this.cutOff = null;
    ws.on('unexpected-response', (_request, response) => {
      const code = response.statusCode ?? 0;
      this.cutOff =
        code === 403
          ? 'it refused the token (403): is it the one that serve printed, and the same port at both ends of the tunnel?'
          : code === 503
            ? 'it has as many viewers as it takes (503)'
            : `it answered HTTP ${code}, not a Porthole stream`;
      response.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      this.heardAt = Date.now();
      ws.send(JSON.stringify({ type: 'subscribe' }));
    });
    ws.on('pong', () => this.heard());
    ws.on('message', (data, isBinary) => {
      if (this.ws !== ws) return;
      try {
        if (isBinary) throw new Invalid('a message', 'is binary');
        this.receive(String(data), Buffer.isBuffer(data) ? data.length : 0);
      } catch (error) {
        const refused = error instanceof Invalid || error instanceof StreamRefused;
        this.refuse(ws, refused ? `${error.path} ${error.message}` : (error as Error).message);
        return;
      }
      ws.send(JSON.stringify({ type: 'ack' }));
    });
    ws.on('error', (error) => {
      // ws cuts a frame over maxPayload itself (1009) and says so here.
      if (/max payload/i.test(error.message))
        return this.refuse(ws, `a message over ${this.limits.messageBytes} bytes`);
      const code = (error as NodeJS.ErrnoException).code;
      this.lastError = code === 'ECONNREFUSED' ? 'nothing listens there (connection refused)' : error.message;
    });
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.cutOff) {
        this.setState('refused', this.cutOff);
        this.retryMs = LONGEST_RETRY_MS;
      } else {
        const why = this.lastError ?? 'the connection closed';
        if (this.status.lastHeardAt !== null) this.setState('stale', `connection lost: ${why}; retrying`);
        else this.setState('unreachable', why);
      }
      this.lastError = null;
      this.retry();
    });
  }

  /** Why this connection was cut by either side (it refused Porthole, or sent what Porthole refuses). */
  private cutOff: string | null = null;
  private lastError: string | null = null;

  private retry(): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, this.retryMs);
    this.retryMs = Math.min(LONGEST_RETRY_MS, this.retryMs * 2);
  }

  /** Called every HEARTBEAT_MS: pings, and marks a silent source stale, then dead. */
  heartbeat(now: number): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const silent = now - this.heardAt;
    if (silent >= DEAD_AFTER_MS) {
      this.lastError = `silent for ${Math.round(silent / 1000)} s`;
      ws.terminate();
      return;
    }
    if (silent >= STALE_AFTER_MS && this.status.state === 'connected')
      this.setState('stale', `silent for ${Math.round(silent / 1000)} s`);
    ws.ping();
  }

  private heard(): void {
    this.heardAt = Date.now();
    this.status.lastHeardAt = new Date(this.heardAt).toISOString();
    if (this.status.state === 'stale' && this.table.seq >= 0) this.setState('connected', null);
  }

  private setState(state: HostStatus['state'], reason: string | null): void {
    if (this.status.state === state && this.status.reason === reason) return;
    this.status.state = state;
    this.status.reason = reason;
    if (state !== 'connected') this.log(`source ${this.spec.name}: ${state}${reason ? `: ${reason}` : ''}`);
    this.changed();
  }

  /** Cuts a source that broke a rule: counted, said, tried again after the longest wait. */
  private refuse(ws: WebSocket, why: string): void {
    if (this.ws !== ws || this.cutOff) return;
    this.status.refused++;
    this.cutOff = `it sent what Porthole refuses: ${why.slice(0, 200)}`;
    ws.terminate();
  }

  /** One message from the source: throws Invalid (the connection goes) when it breaks a rule. */
  private receive(text: string, size: number): void {
    if (!this.rate.take()) throw new Invalid('it', `sent over ${this.limits.messagesPerSecond} messages a second`);
    if (!this.bytes.take(size)) throw new Invalid('it', `sent over ${this.limits.bytesPerSecond} bytes a second`);
    const parsed = parseUntrustedJson(text, (reason) => new Invalid('a message', reason));
    const kind = (parsed as { type?: unknown } | null)?.type;
    // How its own poll loop and recorder are doing is for its own viewers: a stalled source shows
    // here as one whose deltas stop coming (heard() is not called for these).
    if (kind === 'loop' || kind === 'history') return;
    // Replies and commands are not for this server (it asks nothing); other hosts' streams neither.
    if (kind !== 'resync' && kind !== 'delta') throw new Invalid('a message', 'is not a stream message');
    const message = streamMessage(parsed);
    this.heard();
    const received = this.table.applyMessage(message);
    if (received === 'gap') {
      // It coalesced or restarted: its whole table next, as a viewer asks.
      this.ws?.send(JSON.stringify({ type: 'resync' }));
      return;
    }
    if (received.type === 'resync') this.startViewersOver();
    else this.republish(received.delta, received.applied);
    if (this.status.state !== 'connected') {
      this.retryMs = FIRST_RETRY_MS;
      this.setState('connected', null);
    }
  }

  /** A whole table: every viewer starts this host again from it (its processes are replaced too). */
  private startViewersOver(): void {
    this.status.sockets = this.table.sockets.size;
    this.seq++;
    for (const viewer of this.viewers) this.stream.requestResync(viewer);
  }

  /** A change, re-streamed in this server's seq when it is news to the viewers. */
  private republish(delta: Delta, applied: AppliedDelta): void {
    this.status.sockets = this.table.sockets.size;
    const { added, removed, changed, traffic, eventMode } = applied;
    // Finished connections (event mode) stay on the source: the Transitions feed is this machine's.
    // A delta that carried only those is no news here: nothing is sent (its stats ride the next one).
    const news =
      added.length +
        removed.length +
        changed.length +
        traffic.length +
        delta.processes.length +
        (delta.processesGone?.length ?? 0) >
        0 ||
      eventMode !== undefined ||
      delta.namespaces !== undefined ||
      delta.publishedPorts !== undefined;
    if (!news) return;
    const out: Delta = {
      seq: ++this.seq,
      since: this.seq - 1,
      at: delta.at,
      added,
      removed,
      changed,
      processes: delta.processes,
      stats: delta.stats,
    };
    if (traffic.length) out.traffic = traffic;
    if (delta.processesGone?.length) out.processesGone = delta.processesGone;
    if (eventMode) out.eventMode = eventMode;
    if (delta.namespaces) out.namespaces = delta.namespaces;
    if (delta.publishedPorts) out.publishedPorts = delta.publishedPorts;
    this.stream.publish(out);
  }

  /** The source's table in this server's seq. */
  private current(): Resync {
    return { ...this.table.current(), seq: this.seq };
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.ws?.terminate();
    this.ws = null;
  }
}

/** At most MAX_SOURCES, each name once. */
export function checkSpecs(specs: readonly SourceSpec[]): void {
  if (specs.length > MAX_SOURCES) throw new SourceSpecError(`At most ${MAX_SOURCES} sources.`);
  const names = new Set<string>();
  for (const spec of specs) {
    if (names.has(spec.name)) throw new SourceSpecError(`Two sources are called "${spec.name}".`);
    names.add(spec.name);
  }
}

/** What a host's viewer sessions ask of the sources: one stream per source, per viewer. */
export interface SourceHub {
  /** A viewer's streams: the hosts' status now, then each source's table and its changes (JSON text each). */
  subscribe(viewer: string, send: (json: string) => void): void;
  ack(viewer: string, host: string): void;
  resync(viewer: string, host: string): void;
  setPaused(viewer: string, paused: boolean): void;
  unsubscribe(viewer: string): void;
  close(): void;
}

/** Every source of one server, and the viewers they stream to, in this thread (see SourceWorker). */
export class SourceSet implements SourceHub {
  private readonly sources: Source[];
  private readonly viewers = new Map<string, (json: string) => void>();
  private readonly heartbeat: NodeJS.Timeout;
  private statusQueued = false;
  /** The serialised form of a message shared by every viewer in step (one JSON.stringify, not one each). */
  private readonly serialised = new WeakMap<object, string>();

  constructor(
    specs: readonly SourceSpec[],
    log: (line: string) => void = () => {},
    private readonly localName: string = hostname(),
    limits: SourceLimits = SOURCE_LIMITS,
  ) {
    checkSpecs(specs);
    this.sources = specs.map(
      (spec) =>
        new Source(
          spec,
          (viewer, message) => this.viewers.get(viewer)?.(this.hostMessage(spec.name, message)),
          () => this.statusChanged(),
          log,
          limits,
        ),
    );
    for (const source of this.sources) source.connect();
    this.heartbeat = setInterval(() => {
      const now = Date.now();
      for (const source of this.sources) source.heartbeat(now);
      // Counts and "last heard" move without a change of state: told every beat, not every message.
      this.broadcastStatus();
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  status(): HostsStatus {
    return { local: this.localName, sources: this.sources.map((s) => ({ ...s.status })) };
  }

  subscribe(viewer: string, send: (json: string) => void): void {
    this.viewers.set(viewer, send);
    send(JSON.stringify({ type: 'hosts', hosts: this.status() } satisfies ServerMessage));
    for (const source of this.sources) {
      source.stream.unsubscribe(viewer);
      source.viewers.add(viewer);
      source.stream.subscribe(viewer);
    }
  }

  ack(viewer: string, host: string): void {
    this.find(host)?.stream.ack(viewer);
  }

  resync(viewer: string, host: string): void {
    this.find(host)?.stream.requestResync(viewer);
  }

  setPaused(viewer: string, paused: boolean): void {
    for (const source of this.sources) source.stream.setPaused(viewer, paused);
  }

  unsubscribe(viewer: string): void {
    this.viewers.delete(viewer);
    for (const source of this.sources) {
      source.viewers.delete(viewer);
      source.stream.unsubscribe(viewer);
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const source of this.sources) source.close();
    this.viewers.clear();
  }

  private find(host: string): Source | undefined {
    return this.sources.find((s) => s.spec.name === host);
  }

  private hostMessage(host: string, message: StreamMessage): string {
    const body = message.type === 'delta' ? message.delta : message.resync;
    let json = this.serialised.get(body);
    if (json === undefined) {
      json = JSON.stringify({ type: 'host', host, message } satisfies ServerMessage);
      this.serialised.set(body, json);
    }
    return json;
  }

  /** A change of state is told at once (coalesced within a tick). */
  private statusChanged(): void {
    if (this.statusQueued) return;
    this.statusQueued = true;
    queueMicrotask(() => {
      this.statusQueued = false;
      this.broadcastStatus();
    });
  }

  private broadcastStatus(): void {
    if (this.viewers.size === 0) return;
    const json = JSON.stringify({ type: 'hosts', hosts: this.status() } satisfies ServerMessage);
    for (const send of this.viewers.values()) send(json);
  }
}

/** What the main thread tells the sources' worker, and what it answers. */
export type ToSourcesWorker =
  | { type: 'subscribe'; viewer: string }
  | { type: 'ack'; viewer: string; host: string }
  | { type: 'resync'; viewer: string; host: string }
  | { type: 'pause'; viewer: string; paused: boolean }
  | { type: 'unsubscribe'; viewer: string }
  | { type: 'stop' };
export type FromSourcesWorker = { type: 'send'; viewers: string[]; json: string } | { type: 'log'; line: string };

/** The worker's heap (MB): a source can grow it only this far; past it the worker ends and is started again. */
const WORKER_HEAP_MB = 1024;
/** Restarts allowed within a minute: a worker that keeps dying is given up on, and said so. */
const WORKER_RESTARTS = 5;

/**
 * The sources in a worker thread of their own (sources-worker.ts): parsing and checking what they
 * send (≈ 25 ms a megabyte: half a second for a 50,000-socket table) never holds up this thread,
 * where this machine's own stream and every viewer are served; the worker's heap is bounded, and a
 * worker that ends is started again with every viewer resubscribed (each gets every table again).
 */
export class SourceWorker implements SourceHub {
  private worker: Worker;
  private readonly viewers = new Map<string, (json: string) => void>();
  private readonly paused = new Set<string>();
  private restarts: number[] = [];
  private stopping = false;

  constructor(
    private readonly specs: readonly SourceSpec[],
    private readonly log: (line: string) => void = () => {},
    private readonly workerPath = join(__dirname, 'sources-worker.js'),
  ) {
    checkSpecs(specs); // here, at once, rather than in a worker that could only log it
    this.worker = this.start();
  }

  private start(): Worker {
    const worker = new Worker(this.workerPath, {
      workerData: { specs: this.specs },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    worker.on('message', (message: FromSourcesWorker) => {
      if (message.type === 'log') this.log(message.line);
      else for (const viewer of message.viewers) this.viewers.get(viewer)?.(message.json);
    });
    worker.on('error', (error) => this.log(`the sources' worker failed: ${error.message}`));
    worker.on('exit', () => {
      if (this.stopping || this.worker !== worker) return;
      const now = Date.now();
      this.restarts = this.restarts.filter((at) => now - at < 60_000);
      if (this.restarts.length >= WORKER_RESTARTS) {
        this.log(`the sources' worker ended ${WORKER_RESTARTS + 1} times within a minute; it is not started again`);
        return;
      }
      this.restarts.push(now);
      this.log("the sources' worker ended; started again");
      this.worker = this.start();
      for (const viewer of this.viewers.keys()) this.post({ type: 'subscribe', viewer });
      for (const viewer of this.paused) this.post({ type: 'pause', viewer, paused: true });
    });
    return worker;
  }

  private post(message: ToSourcesWorker): void {
    this.worker.postMessage(message);
  }

  subscribe(viewer: string, send: (json: string) => void): void {
    this.viewers.set(viewer, send);
    this.post({ type: 'subscribe', viewer });
  }

  ack(viewer: string, host: string): void {
    this.post({ type: 'ack', viewer, host });
  }

  resync(viewer: string, host: string): void {
    this.post({ type: 'resync', viewer, host });
  }

  setPaused(viewer: string, paused: boolean): void {
    if (paused) this.paused.add(viewer);
    else this.paused.delete(viewer);
    this.post({ type: 'pause', viewer, paused });
  }

  unsubscribe(viewer: string): void {
    this.viewers.delete(viewer);
    this.paused.delete(viewer);
    this.post({ type: 'unsubscribe', viewer });
  }

  close(): void {
    this.stopping = true;
    this.viewers.clear();
    this.post({ type: 'stop' });
    // It closes its connections and ends; one that does not within a second is ended.
    const worker = this.worker;
    setTimeout(() => void worker.terminate(), 1000).unref();
  }
}
