// One viewer's session with the engine, whatever carries it (an Electron window, a WebSocket):
// validated requests in, stream messages out. Hosts only move bytes through this.

import { parseRendererRequest } from '../shared/ipc';
import type { Poller, Subscription } from './poller';

export interface ViewerTransport {
  /** Sends one stream message (JSON text) to the viewer. */
  send(json: string): void;
  /** Reports a refused request (for a log); the viewer is not told why. */
  refuse(reason: string): void;
}

export class ViewerSession {
  private subscription: Subscription | null = null;

  constructor(
    private readonly poller: Poller,
    private readonly transport: ViewerTransport,
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
    }
  }

  close(): void {
    this.subscription?.close();
    this.subscription = null;
  }
}
