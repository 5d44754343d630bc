// One viewer's session with the engine, whatever carries it (an Electron window, a WebSocket):
// validated requests in, stream messages out. Hosts only move bytes through this.

import { parseRendererRequest, type ActionRequest, type Reply, type ServerMessage } from '../shared/ipc';
import type { HistoryStatus, LoopStatus } from '../shared/contract';
import { PreSerialised, type HostActions } from './actions';
import type { Poller, Subscription } from '../poll/poller';
import { RateLimit } from '../common/rate-limit';
import type { SourceHub } from '../web/sources';

export interface ViewerTransport {
  /** Sends one message (JSON text of a ServerMessage) to the viewer. */
  send(json: string): void;
  /**
   * Sends one message given in parts, without joining them: a snapshot reply is a few bytes around
   * a megabyte-long body every viewer shares, which a transport can send as it is (WebSocket
   * fragments) instead of copying it for each request. Without it, the parts are joined.
   */
  sendParts?(parts: readonly string[]): void;
  /** Reports a refused request (for a log); the viewer is not told why. */
  refuse(reason: string): void;
  /** Ends this viewer's connection, for a viewer that floods; without it, its excess messages are refused. */
  drop?(reason: string): void;
  /** True while the viewer has more waiting to be read than a host lets it hold: answers are then "busy". */
  congested?(): boolean;
}

/**
 * Answered requests one viewer may have in flight. The UI never has more than two or three; a client
 * that floods requests gets a refusal per extra request instead of a queue that grows with its rate.
 */
export const MAX_PENDING_ACTIONS = 8;
/**
 * Messages a viewer may send per second, with a burst of twice that. The UI sends an ack per stream
 * message (a few a second) and an action now and then; past this a client is flooding, and every
 * message it sends costs the others their share of the main thread.
 */
export const MAX_MESSAGES_PER_SECOND = 100;

export class ViewerSession {
  private subscription: Subscription | null = null;
  /** Stops telling this viewer how the poll loop is doing (set while subscribed). */
  private stopLoopStatus: (() => void) | null = null;
  /** The same for the host's flight recorder. */
  private stopHistoryStatus: (() => void) | null = null;
  private pendingActions = 0;
  private readonly rate = new RateLimit(MAX_MESSAGES_PER_SECOND);

  constructor(
    private readonly poller: Poller,
    private readonly transport: ViewerTransport,
    private readonly actions: HostActions | null = null,
    /** Other Porthole servers merged into this one's viewers (`serve --source`), if any. */
    private readonly sources: SourceHub | null = null,
  ) {}

  /** Handles one message from the viewer, after validating it. */
  handle(message: unknown): void {
    if (!this.rate.take()) {
      const why = `over ${MAX_MESSAGES_PER_SECOND} messages a second`;
      if (this.transport.drop) this.transport.drop(why);
      else this.transport.refuse(why);
      return;
    }
    const parsed = parseRendererRequest(message);
    if (!parsed.ok) {
      this.transport.refuse(parsed.reason);
      return;
    }
    const request = parsed.request;
    switch (request.type) {
      case 'subscribe':
        if (this.subscription) this.sources?.unsubscribe(this.subscription.id);
        this.subscription?.close();
        this.subscription = this.poller.subscribe((json) => this.transport.send(json));
        this.sources?.subscribe(this.subscription.id, (json) => this.transport.send(json));
        // The loop's state as it is, then every change: a viewer is told while its table is stale.
        this.stopLoopStatus?.();
        this.sendLoopStatus(this.poller.loopStatus);
        this.stopLoopStatus = this.poller.onStatus((status) => this.sendLoopStatus(status));
        this.stopHistoryStatus?.();
        if (this.actions?.recording) {
          const recording = this.actions.recording;
          this.sendHistoryStatus(recording.current);
          this.stopHistoryStatus = recording.onStatus((status) => this.sendHistoryStatus(status));
        }
        break;
      case 'ack':
        if (request.host === undefined) this.subscription?.ack();
        else if (this.subscription) this.sources?.ack(this.subscription.id, request.host);
        break;
      case 'visibility':
        this.subscription?.setPaused(!request.visible);
        if (this.subscription) this.sources?.setPaused(this.subscription.id, !request.visible);
        break;
      case 'resync':
        if (request.host === undefined) this.subscription?.resync();
        else if (this.subscription) this.sources?.resync(this.subscription.id, request.host);
        break;
      case 'interval':
        this.poller.setInterval(request.ms);
        break;
      default:
        if (this.pendingActions >= MAX_PENDING_ACTIONS) {
          this.transport.refuse(`${request.type}: ${MAX_PENDING_ACTIONS} requests already in flight`);
          this.busy(request, `${MAX_PENDING_ACTIONS} requests are already being answered; wait for them`);
          return;
        }
        if (this.transport.congested?.()) {
          this.busy(request, 'earlier answers are still waiting to be read; ask again once they are');
          return;
        }
        this.pendingActions++;
        void this.answer(request).finally(() => this.pendingActions--);
    }
  }

  private sendLoopStatus(loop: LoopStatus): void {
    this.transport.send(JSON.stringify({ type: 'loop', loop } satisfies ServerMessage));
  }

  private sendHistoryStatus(history: HistoryStatus): void {
    this.transport.send(JSON.stringify({ type: 'history', history } satisfies ServerMessage));
  }

  /** A small refusal instead of an answer: the viewer may ask again. */
  private busy(request: ActionRequest, why: string): void {
    this.transport.send(
      JSON.stringify({ type: 'reply', id: request.id, ok: false, error: `busy: ${why}` } satisfies Reply),
    );
  }

  /** Runs an action and sends its Reply; a failure is an answer too, never an unhandled rejection. */
  private async answer(request: ActionRequest): Promise<void> {
    let reply: Reply;
    if (!this.actions) reply = { type: 'reply', id: request.id, ok: false, error: 'this host takes no actions' };
    else
      try {
        const value = await this.actions.run(request);
        // Ready, but the viewer has not read what it was sent before: queue nothing large for it.
        if (this.transport.congested?.()) {
          this.busy(request, 'earlier answers are still waiting to be read; ask again once they are');
          return;
        }
        // A snapshot arrives as JSON text shared by every viewer asking for the same table.
        if (value instanceof PreSerialised) {
          const parts = [`{"type":"reply","id":${request.id},"ok":true,"value":`, value.json, '}'];
          if (this.transport.sendParts) this.transport.sendParts(parts);
          else this.transport.send(parts.join(''));
          return;
        }
        reply = { type: 'reply', id: request.id, ok: true, value };
      } catch (error) {
        reply = { type: 'reply', id: request.id, ok: false, error: (error as Error).message };
      }
    this.transport.send(JSON.stringify(reply));
  }

  close(): void {
    this.stopLoopStatus?.();
    this.stopLoopStatus = null;
    this.stopHistoryStatus?.();
    this.stopHistoryStatus = null;
    if (this.subscription) this.sources?.unsubscribe(this.subscription.id);
    this.subscription?.close();
    this.subscription = null;
  }
}
