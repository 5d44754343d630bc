// The socket table store: applies the stream in order, asks for a resync on a gap, acknowledges
// each message, and derives what the views show. Only this store talks to the API client.
import { defineStore } from 'pinia';
import { computed, markRaw, ref } from 'vue';
import type { Delta, Socket, StreamMessage } from '../../../src-main/shared/contract';
import { listenerGroups } from '../../../src-main/track/views';
import type { PortholeClient } from '../api/client';
import { LiveTable } from './live-table';

export const useSocketStore = defineStore('sockets', () => {
  const live = markRaw(new LiveTable());
  /** Bumped once per applied message: the table itself is not reactive (20k rows). */
  const version = ref(0);
  const connected = ref(false);
  const resyncs = ref(0);
  let client: PortholeClient | null = null;
  const deltaListeners: ((delta: Delta) => void)[] = [];

  function receive(message: StreamMessage, now = Date.now()): void {
    const result = live.receive(message, now);
    if (result === 'gap') {
      resyncs.value++;
      client?.send({ type: 'resync' });
    } else {
      deltaListeners.forEach((l) => l(result));
    }
    version.value++;
    client?.send({ type: 'ack' });
  }

  function connect(to: PortholeClient): void {
    client = to;
    to.onStatus((isConnected) => (connected.value = isConnected));
    to.onMessage((message) => receive(message));
    document.addEventListener('visibilitychange', () => to.send({ type: 'visibility', visible: !document.hidden }));
    setInterval(() => {
      if (live.expire(Date.now())) version.value++;
    }, 500);
  }

  /** Lets another store follow every applied change (the transition history). */
  function onDelta(listener: (delta: Delta) => void): void {
    deltaListeners.push(listener);
  }

  function setInterval_(ms: number): void {
    client?.send({ type: 'interval', ms });
  }

  const rows = computed<Socket[]>(() => {
    void version.value;
    return [...live.sockets.values(), ...live.lingering.values()];
  });
  const listeners = computed(() => {
    void version.value;
    return listenerGroups(live.sockets.values());
  });
  const stats = computed(() => (void version.value, live.stats));
  const seq = computed(() => (void version.value, live.seq));
  const size = computed(() => (void version.value, live.sockets.size));

  return {
    live,
    version,
    connected,
    resyncs,
    rows,
    listeners,
    stats,
    seq,
    size,
    receive,
    connect,
    onDelta,
    setPollInterval: setInterval_,
    highlight: (key: string) => live.highlights.get(key)?.kind,
    isGone: (key: string) => live.lingering.has(key),
    process: (pid: number | null) => (pid === null ? undefined : live.processes.get(pid)),
  };
});
