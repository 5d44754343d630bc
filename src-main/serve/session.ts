// One viewer's session with the engine, whatever carries it (an Electron window, a WebSocket):
// validated requests in, stream messages out. Hosts only move bytes through this.

import { parseRendererRequest, type ActionRequest, type Reply } from '../shared/ipc';
import type { HostActions } from './host-actions';
import type { Poller, Subscription } from './poller';

export interface ViewerTransport {
  /** Sends one message (JSON text of a ServerMessage) to the viewer. */
  send(json: string): void;
  /** Reports a refused request (for a log); the viewer is not told why. */
  refuse(reason: string): void;
}

/**
 * Answered requests one viewer may have in flight. The UI never has more than two or three; a client
 * that floods requests gets a refusal per extra request instead of a queue that grows with its rate.
 */
export const MAX_PENDING_ACTIONS = 8;

export class ViewerSession {
  private subscription: Subscription | null = null;
  private pendingActions = 0;

  constructor(
    private readonly poller: Poller,
    private readonly transport: ViewerTransport,
    private readonly actions: HostActions | null = null,
  ) {}

  /** Handles one message from the viewer, after validating it. */
  handle(message: unknown): void {
    const parsed = parseRendererRequest(message);
    if (!parsed.ok) {
      this.transport.refuse(parsed.reason);
      return;
    }
    const request = parsed.request;
    switch (request.type) {
      case 'subscribe':
        this.subscription?.close();
        this.subscription = this.poller.subscribe((json) => this.transport.send(json));
        break;
      case 'ack':
        this.subscription?.ack();
        break;
      case 'visibility':
        this.subscription?.setPaused(!request.visible);
        break;
      case 'resync':
        this.subscription?.resync();
        break;
      case 'interval':
        this.poller.setInterval(request.ms);
        break;
      default:
        if (this.pendingActions >= MAX_PENDING_ACTIONS) {
          this.transport.refuse(`${request.type}: ${MAX_PENDING_ACTIONS} requests already in flight`);
          this.transport.send(
            JSON.stringify({
              type: 'reply',
              id: request.id,
              ok: false,
              error: `busy: ${MAX_PENDING_ACTIONS} requests are already being answered; wait for them`,
            } satisfies Reply),
          );
          return;
        }
        this.pendingActions++;
        void this.answer(request).finally(() => this.pendingActions--);
    }
  }

  /** Runs an action and sends its Reply; a failure is an answer too, never an unhandled rejection. */
  private async answer(request: ActionRequest): Promise<void> {
    let reply: Reply;
    if (!this.actions) reply = { type: 'reply', id: request.id, ok: false, error: 'this host takes no actions' };
    else
      try {
        reply = { type: 'reply', id: request.id, ok: true, value: await this.actions.run(request) };
      } catch (error) {
        reply = { type: 'reply', id: request.id, ok: false, error: (error as Error).message };
      }
    this.transport.send(JSON.stringify(reply));
  }

  close(): void {
    this.subscription?.close();
    this.subscription = null;
  }
}
