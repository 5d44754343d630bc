// Each connection's state history with timestamps, built from the delta stream alone, so the
// engine and the renderer keep it the same way.

import type { Delta, SocketKey, SocketState } from '../shared/contract';
import { socketKey } from './identity';

export interface StateEntry {
  state: SocketState;
  /** ISO 8601 time the state was first seen. */
  at: string;
}

export interface ConnectionHistory {
  key: SocketKey;
  firstSeen: string;
  states: StateEntry[];
  /** When it left the table; null while it is there. */
  goneAt: string | null;
}

export interface TransitionLogLimits {
  /** States kept per connection (the oldest are dropped past it, keeping the first). */
  statesPerConnection: number;
  /** Gone connections kept; the oldest are forgotten first. */
  goneConnections: number;
}

const DEFAULT_LIMITS: TransitionLogLimits = { statesPerConnection: 64, goneConnections: 10_000 };

export class TransitionLog {
  private readonly live = new Map<SocketKey, ConnectionHistory>();
  /** Insertion order is the order they went, which makes eviction oldest-first. */
  private readonly gone = new Map<SocketKey, ConnectionHistory>();

  constructor(private readonly limits: TransitionLogLimits = DEFAULT_LIMITS) {}

  apply(delta: Delta): void {
    for (const socket of delta.added) {
      // Seen again under a key that went before (a reused 4-tuple): a new connection, new history.
      const key = socketKey(socket);
      this.gone.delete(key);
      this.live.set(key, { key, firstSeen: delta.at, states: [{ state: socket.state, at: delta.at }], goneAt: null });
    }
    for (const change of delta.changed) {
      if (change.from.state === undefined) continue;
      const history = this.live.get(change.key);
      if (!history) continue;
      history.states.push({ state: change.to.state, at: delta.at });
      if (history.states.length > this.limits.statesPerConnection) history.states.splice(1, 1);
    }
    for (const key of delta.removed) {
      const history = this.live.get(key);
      if (!history) continue;
      this.live.delete(key);
      history.goneAt = delta.at;
      this.gone.set(key, history);
    }
    while (this.gone.size > this.limits.goneConnections) {
      this.gone.delete(this.gone.keys().next().value as SocketKey);
    }
  }

  /** Forgets everything: after a resync the history restarts from the snapshot. */
  clear(): void {
    this.live.clear();
    this.gone.clear();
  }

  history(key: SocketKey): ConnectionHistory | undefined {
    return this.live.get(key) ?? this.gone.get(key);
  }

  all(): ConnectionHistory[] {
    return [...this.live.values(), ...this.gone.values()];
  }
}
