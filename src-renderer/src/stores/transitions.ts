// Connection histories and the live feed of changes, built from the deltas the table applied.
import { defineStore } from 'pinia';
import { computed, markRaw, ref } from 'vue';
import { useSocketStore } from './sockets';
import type { Delta, Socket, SocketState } from '../../../src-main/shared/contract';
import { SOCKET_STATES } from '../../../src-main/shared/contract';
import { socketKey as keyOf } from '../../../src-main/track/identity';
import { TransitionLog } from '../../../src-main/track/transitions';
import { isOwnerChange } from '../../../src-main/track/diff';
import {
  ChainGroups,
  groupChains,
  type ChainGroup,
  type ConnectionChain,
} from '../../../src-main/track/connection-chains';
import { TableCounts, type StateSample } from './samples';

export type { StateSample };

export interface FeedEvent {
  id: number;
  at: string;
  key: string;
  kind: 'opened' | 'state' | 'owner' | 'closed';
  from: SocketState | null;
  to: SocketState | null;
  socket: Socket;
}

/**
 * Changes kept for the feed, newest first. A busy host makes hundreds a second, so the feed keeps
 * far more than it shows: a filter for one connection still finds its changes a minute later.
 */
const FEED_KEPT = 10_000;
/** Rows the feed shows: the newest that match the filter. */
export const FEED_SHOWN = 500;
/** Finished connections kept from event mode (the bursts are computed over them). */
const CHAIN_LIMIT = 20_000;
/** The charts cover ten minutes: a sample a second at most (faster news is folded into its second). */
const SAMPLE_WINDOW_MS = 10 * 60_000;

export const useTransitionStore = defineStore('transitions', () => {
  const log = markRaw(new TransitionLog());
  const feed = ref<FeedEvent[]>([]);
  const samples = ref<StateSample[]>([]);
  const version = ref(0);
  let nextId = 1;
  /** The last delta's table came before its owners: the owners the next one brings are not news. */
  let ownersPending = false;
  /** Every socket of the live table as the deltas left it, and what the charts count of them. */
  const lastSocket = new Map<string, Socket>();
  const tableCounts = new TableCounts();
  function setSocket(key: string, socket: Socket | undefined): Socket | undefined {
    const before = lastSocket.get(key);
    if (before) tableCounts.add(before, -1);
    if (socket) {
      lastSocket.set(key, socket);
      tableCounts.add(socket, 1);
    } else lastSocket.delete(key);
    return before;
  }
  /** Event mode: connections that ended, with their kernel chains, newest last. */
  let chains: ConnectionChain[] = [];
  const chainByKey = new Map<string, ConnectionChain>();
  /** The bursts kept up to date chain by chain: deltas bring finished connections many times a second. */
  const groups = new ChainGroups();
  const bursts = ref<ChainGroup[]>([]);
  const chainCount = ref(0);

  function addChains(finished: ConnectionChain[]): void {
    chains = [...chains, ...finished];
    for (const chain of finished) groups.add(chain);
    if (chains.length > CHAIN_LIMIT) {
      for (const old of chains.slice(0, chains.length - CHAIN_LIMIT)) {
        chainByKey.delete(old.key);
        groups.remove(old);
      }
      chains = chains.slice(-CHAIN_LIMIT);
    }
    for (const chain of finished) chainByKey.set(chain.key, chain);
    chainCount.value += finished.length;
    bursts.value = markRaw([...groups.current()]);
  }

  /** Keys of connections counted as opened, until their chain ends them (not counted twice). */
  const counted = new Set<string>();

  /** Follows one applied delta of the live table (or the difference a resync made). */
  function apply(delta: Delta): void {
    log.apply(delta);
    if (delta.chains?.length) addChains(delta.chains);
    let opened = 0;
    for (const chain of delta.chains ?? []) if (!counted.delete(chain.key)) opened++;
    const events: FeedEvent[] = [];
    // A first table is not a feed of openings: a first resync, or a delta that follows on from
    // seq 0 (the empty table of a loop that had not polled yet).
    const quiet = delta.since <= 0;
    const ownersFound = ownersPending;
    ownersPending = delta.stats.ownersPending === true;
    for (const socket of delta.added) {
      const key = keyOf(socket);
      setSocket(key, socket);
      if (!quiet)
        events.push({ id: nextId++, at: delta.at, key, kind: 'opened', from: null, to: socket.state, socket });
      if (!quiet && socket.protocol === 'tcp' && socket.remoteAddress !== null) {
        opened++;
        if (counted.size < 100_000) counted.add(key);
      }
    }
    for (const change of delta.changed) {
      setSocket(change.key, change.to);
      if (change.from.state !== undefined)
        events.push({
          id: nextId++,
          at: delta.at,
          key: change.key,
          kind: 'state',
          from: change.from.state,
          to: change.to.state,
          socket: change.to,
        });
      else if (isOwnerChange(change, ownersFound))
        events.push({
          id: nextId++,
          at: delta.at,
          key: change.key,
          kind: 'owner',
          from: null,
          to: change.to.state,
          socket: change.to,
        });
    }
    for (const key of delta.removed) {
      const socket = setSocket(key, undefined);
      if (socket)
        events.push({ id: nextId++, at: delta.at, key, kind: 'closed', from: socket.state, to: null, socket });
    }
    if (events.length) feed.value = markRaw([...events.reverse(), ...feed.value].slice(0, FEED_KEPT));
    const { counts, byPort, byPid } = tableCounts.sample(delta.at, 0);
    const at = Date.parse(delta.at);
    const kept = samples.value.filter((s) => at - Date.parse(s.at) <= SAMPLE_WINDOW_MS);
    const last = kept.at(-1);
    if (last && Math.floor(Date.parse(last.at) / 1000) === Math.floor(at / 1000))
      kept[kept.length - 1] = { at: delta.at, counts, opened: last.opened + opened, byPort, byPid };
    else kept.push({ at: delta.at, counts, opened, byPort, byPid });
    samples.value = markRaw(kept);
    version.value++;
  }

  // What is shown may be a snapshot or a replay: its own finished connections, not the live ones.
  const sockets = useSocketStore();
  const recorded = computed(() => {
    const chains = sockets.recordedChains();
    return chains && { chains, bursts: markRaw(groupChains(chains)), byKey: new Map(chains.map((c) => [c.key, c])) };
  });

  /** A time range chosen on the charts (ms); the feed shows only its changes. null: everything. */
  const range = ref<{ from: number; to: number } | null>(null);

  return {
    feed,
    samples,
    range,
    version,
    apply,
    history: (key: string) => (void version.value, log.history(key)),
    /** Finished connections of what is shown, grouped by endpoint: a burst is one row. */
    bursts: computed(() => recorded.value?.bursts ?? bursts.value),
    chainCount: computed(() => recorded.value?.chains.length ?? chainCount.value),
    /** The kernel's chain of a connection that has ended, when event mode saw it. */
    chain: (key: string) => (void version.value, (recorded.value?.byKey ?? chainByKey).get(key)),
    /** Every finished connection of what is shown, oldest first: what an export carries. */
    shownChains: (): ConnectionChain[] => recorded.value?.chains ?? chains,
    states: SOCKET_STATES,
  };
});
