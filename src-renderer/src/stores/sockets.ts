// The socket table store: applies the stream in order, asks for a resync on a gap, acknowledges
// each message, and derives what the views show. Only this store talks to the API client.
// The views show either the live table or, read-only, an imported snapshot or a replay.
import { defineStore } from 'pinia';
import { computed, markRaw, ref } from 'vue';
import {
  HOST_NAME_PATTERN,
  type ConnectionChain,
  type Delta,
  type HostsStatus,
  type HistoryStatus,
  type LoopStatus,
  type PortHistory,
  type ProcessInfo,
  type Snapshot,
  type Socket,
  type StreamMessage,
} from '../../../src-main/shared/contract';
import type { MenuCommand } from '../../../src-main/shared/ipc';
import { listenerGroups } from '../../../src-main/track/views';
import { hostOfKey } from '../../../src-main/track/identity';
import type { Action, PortholeClient } from '../api/client';
import { follow } from '../../../src-main/track/stream-table';
import { LiveTable } from './live-table';
import { escapeMessage, escapeTable } from './shown-text';
import { Replay } from './replay';
import { frameQueue } from '../frames';

export type Source =
  | { kind: 'live' }
  /** `past`: a moment rebuilt from the host's history (the time control), not a file. */
  | { kind: 'snapshot'; name: string; takenAt: string; snapshot: Snapshot; past?: boolean }
  | { kind: 'replay'; name: string };

/** Other machines a viewer may be shown at once (the server bounds its sources lower). */
const MAX_HOSTS = 32;

export const useSocketStore = defineStore('sockets', () => {
  const live = markRaw(new LiveTable());
  /** The table the views show: the live one, an imported snapshot's, or the replay's. */
  let shown: LiveTable = live;
  const source = ref<Source>({ kind: 'live' });
  let replay: Replay | null = null;
  /** Stream messages since Record was pressed (NDJSON lines), or null when not recording. */
  let recording: string[] | null = null;
  const recordingCount = ref<number | null>(null);
  /** Bumped once per applied message: the table itself is not reactive (20k rows). */
  const version = ref(0);
  /**
   * Bumped when the rows shown may have changed: not when the live table moves while a snapshot
   * or a replay is shown (each live change copied and sorted the unchanged snapshot's rows again,
   * and typing could not narrow its last result).
   */
  const rowsVersion = ref(0);
  /** A change of the shown table's rows (and so of the version too). */
  const rowsChanged = () => {
    version.value++;
    rowsVersion.value++;
  };
  /** A change of the live tables: of the rows shown while live is. */
  const liveChanged = () => (shown === live ? rowsChanged() : version.value++);
  /** Bumped when only rows' highlights went (the rows themselves did not change). */
  const highlightVersion = ref(0);
  const connected = ref(false);
  const resyncs = ref(0);
  let client: PortholeClient | null = null;
  /** An action answered by the host; refused at once while there is none. */
  const call = <T>(action: Action): Promise<T> =>
    client ? client.call<T>(action) : Promise.reject(new Error('not connected'));
  const deltaListeners: ((delta: Delta) => void)[] = [];
  /**
   * Other machines' tables (sources of `porthole serve --source`), by name: each from a stream of
   * its own, shown beside this machine's while live. Their processes are theirs: a pid is looked up
   * in its own machine's table.
   */
  const remotes = new Map<string, LiveTable>();
  /** This machine's name and every source's state; null where the host merges no sources. */
  const hosts = ref<HostsStatus | null>(null);
  /** How the host's poll loop is doing (null until it says): not running means the table is stale. */
  const loop = ref<LoopStatus | null>(null);
  /** The host's flight recorder (null until it says, or where the host has none). */
  const history = ref<HistoryStatus | null>(null);

  function receiveHost(host: string, message: StreamMessage, now = Date.now()): void {
    if (!HOST_NAME_PATTERN.test(host)) return;
    escapeMessage(message);
    let table = remotes.get(host);
    if (!table) {
      if (remotes.size >= MAX_HOSTS) return;
      remotes.set(host, (table = markRaw(new LiveTable())));
    }
    const replies = {
      resync: () => client?.send({ type: 'resync', host }),
      ack: () => {
        liveChanged();
        client?.send({ type: 'ack', host });
      },
    };
    follow(table.receive(message, now), replies, () => {});
  }

  /** This machine's stream: applied, recorded, handed to the transition history, acknowledged. */
  const replies = {
    resync: () => {
      resyncs.value++;
      client?.send({ type: 'resync' });
    },
    ack: () => {
      liveChanged();
      client?.send({ type: 'ack' });
    },
  };
  function receive(message: StreamMessage, now = Date.now()): void {
    escapeMessage(message);
    follow(live.receive(message, now), replies, (delta) => {
      if (recording) {
        recording.push(JSON.stringify(message));
        recordingCount.value = recording.length;
      }
      deltaListeners.forEach((l) => l(delta));
    });
  }

  const commandListeners: ((command: MenuCommand) => void)[] = [];
  /** What came of the last "Show all owners…" (consent given or not). */
  const ownersNote = ref<string | null>(null);

  async function showAllOwners(): Promise<void> {
    ownersNote.value = 'Asking for an administrator’s consent…';
    try {
      ownersNote.value = await call<string>({ type: 'showAllOwners' });
    } catch (error) {
      ownersNote.value = (error as Error).message;
    }
  }

  function connect(to: PortholeClient): void {
    client = to;
    // The stream's messages, this machine's and the sources', are applied at the next frame, in
    // the order they came (see frames.ts).
    const inFrame = frameQueue();
    to.onCommand((command) => commandListeners.forEach((l) => l(command)));
    to.onStatus((isConnected) => (connected.value = isConnected));
    to.onMessage((message) => inFrame(() => receive(message)));
    to.onHost((host, message) => inFrame(() => receiveHost(host, message)));
    to.onHosts((status) => (hosts.value = status));
    to.onLoop((status) => (loop.value = status));
    to.onHistory((status) => (history.value = status));
    document.addEventListener('visibilitychange', () => to.send({ type: 'visibility', visible: !document.hidden }));
    setInterval(() => {
      // The live table expires while a snapshot is shown too (its highlights would pile up).
      // Other machines' tables are shown beside this machine's, while live.
      const went = [live.expire(Date.now())];
      for (const table of remotes.values()) went.push(table.expire(Date.now()));
      // A row that left is a change of the table; a glow that went is only a repaint of rows.
      if (went.includes('rows')) liveChanged();
      else if (went.includes('highlights')) highlightVersion.value++;
    }, 500);
  }

  /** Lets another store follow every applied change (the transition history). */
  function onDelta(listener: (delta: Delta) => void): void {
    deltaListeners.push(listener);
  }

  function setInterval_(ms: number): void {
    client?.send({ type: 'interval', ms });
    live.intervalMs = ms;
    version.value++;
  }

  function show(table: LiveTable, from: Source): void {
    shown = table;
    source.value = from;
    rowsChanged();
  }

  /** Shows a snapshot file (or a moment of the history) read-only in the same views. */
  function showSnapshot(snapshot: Snapshot, name: string, past = false): void {
    escapeTable(snapshot);
    const table = new LiveTable();
    table.receive(
      {
        type: 'resync',
        resync: {
          seq: 0,
          at: snapshot.takenAt,
          sockets: snapshot.sockets,
          processes: snapshot.processes,
          stats: snapshot.stats,
          ...(snapshot.eventMode ? { eventMode: snapshot.eventMode } : {}),
          ...(snapshot.namespaces ? { namespaces: snapshot.namespaces } : {}),
          ...(snapshot.publishedPorts ? { publishedPorts: snapshot.publishedPorts } : {}),
        },
      },
      Date.now(),
    );
    replay = null;
    show(markRaw(table), { kind: 'snapshot', name, takenAt: snapshot.takenAt, snapshot, ...(past ? { past } : {}) });
  }

  /** Why the last moment asked of the history could not be shown; null when it was. */
  const pastError = ref<string | null>(null);

  /**
   * The views as they were at `when` ("15:12", "10 min ago", an ISO time), from the host's history;
   * "now" or nothing: live again. Where the history cannot answer, pastError says why.
   */
  async function showPast(when: string): Promise<void> {
    const text = when.trim();
    pastError.value = null;
    if (text === '' || text.toLowerCase() === 'now') return showLive();
    try {
      const snapshot = await call<Snapshot>({ type: 'tableAt', at: text });
      showSnapshot(snapshot, new Date(snapshot.takenAt).toLocaleString(), true);
    } catch (error) {
      pastError.value = (error as Error).message;
    }
  }

  /** Turns the host's flight recorder on or off; the state shown is the host's answer (or unchanged). */
  async function setRecording(on: boolean): Promise<void> {
    try {
      history.value = await call<HistoryStatus>({ type: 'setRecording', on });
    } catch {
      // refused or not connected: the state shown stays the host's last word (the checkbox follows it)
      if (history.value) history.value = { ...history.value };
    }
  }

  /** The recording (NDJSON) of a range of the host's history. */
  function cutRecording(since: string, until: string): Promise<string> {
    return call<string>({ type: 'cutRecording', since, until });
  }

  /** Who held or used a port over the last `hours`, from the host's history. */
  function portHistory(port: number, hours: number): Promise<PortHistory> {
    return call<PortHistory>({ type: 'portHistory', port, hours });
  }

  function showReplay(messages: StreamMessage[], name: string): Replay {
    messages.forEach(escapeMessage);
    replay = markRaw(new Replay(messages));
    show(replay.table, { kind: 'replay', name });
    return replay;
  }

  /** After a replay seek: the replay may have started a new table. */
  function replayMoved(): void {
    if (replay && source.value.kind === 'replay') {
      shown = replay.table;
      rowsChanged();
    }
  }

  function showLive(): void {
    replay = null;
    show(live, { kind: 'live' });
  }

  /** Starts recording: the first line is the whole table now, as a resync. */
  function startRecording(): void {
    recording = [JSON.stringify({ type: 'resync', resync: live.current() } satisfies StreamMessage)];
    recordingCount.value = 1;
  }

  /** Stops recording; returns the NDJSON text. */
  function stopRecording(): string {
    const text = (recording ?? []).join('\n') + '\n';
    recording = null;
    recordingCount.value = null;
    return text;
  }

  /** The tables the views show: this machine's and, while live, every source's. */
  const tables = (): LiveTable[] => (shown === live ? [live, ...remotes.values()] : [shown]);
  /** A socket's owner, looked up on the machine it was read on. */
  const processOf = (pid: number | null, host?: string): ProcessInfo | undefined =>
    pid === null ? undefined : (host === undefined ? shown : remotes.get(host))?.processes.get(pid);
  /** The table a socket key belongs to (another machine's keys end in its name). */
  const tableOfKey = (key: string): LiveTable | undefined => {
    const host = hostOfKey(key);
    return host === undefined ? shown : remotes.get(host);
  };

  // Raw, not reactive: 50,000 rows read through Vue's proxies cost a tracked access per field
  // (a keystroke's filter took 45 ms that way); the version above is what views react to.
  // One machine (the usual case) is copied once, not once more by flatMap: 50,000 rows a change.
  const gather = (of: (t: LiveTable) => Socket[]): Socket[] => {
    const all = tables();
    return markRaw(all.length === 1 ? of(all[0]) : all.flatMap(of));
  };
  const rows = computed<Socket[]>(() => {
    void rowsVersion.value;
    return gather((t) => [...t.sockets.values(), ...t.lingering.values()]);
  });
  /** Every socket now (no lingering ones), of every machine shown. */
  const current = computed<Socket[]>(() => {
    void rowsVersion.value;
    return gather((t) => [...t.sockets.values()]);
  });
  const listeners = computed(() => {
    void version.value;
    return listenerGroups(current.value, shown.publishedPorts);
  });
  /** The sources' names, while live (empty: one machine, no host column). */
  const hostNames = computed(
    () => (void version.value, shown === live ? (hosts.value?.sources ?? []).map((h) => h.name) : []),
  );
  /** The namespaces of what is shown (empty: one namespace), and the ports published into them. */
  const namespaces = computed(() => (void version.value, shown.namespaces));
  const publishedPorts = computed(() => (void version.value, shown.publishedPorts));
  const stats = computed(() => (void version.value, shown.stats));
  /** The table came before its owners (the first one of a poll loop): an owner missing is "resolving…". */
  const ownersPending = computed(() => stats.value?.ownersPending === true);
  /** The host's mode now (the status bar), and the mode of what is shown (a snapshot's may differ). */
  const eventMode = computed(() => (void version.value, live.eventMode));
  const shownEventMode = computed(() => (void version.value, shown.eventMode));
  const intervalMs = computed(() => (void version.value, live.intervalMs));
  const chainsDropped = computed(() => (void version.value, live.chainsDropped));
  const seq = computed(() => (void version.value, shown.seq));
  const size = computed(() => (void version.value, shown.sockets.size));

  return {
    live,
    version,
    connected,
    resyncs,
    rows,
    listeners,
    namespaces,
    publishedPorts,
    stats,
    ownersPending,
    eventMode,
    shownEventMode,
    intervalMs,
    chainsDropped,
    seq,
    size,
    receive,
    connect,
    onDelta,
    setPollInterval: setInterval_,
    ownersNote,
    showAllOwners,
    highlight: (key: string) => (void highlightVersion.value, tableOfKey(key)?.highlights.get(key)?.kind),
    isGone: (key: string) => tableOfKey(key)?.lingering.has(key) ?? false,
    process: processOf,
    /** The owners' maps by machine, read once per filter pass (see ConnectionsView). */
    processTables: () => ({ local: shown.processes, remote: new Map([...remotes].map(([h, t]) => [h, t.processes])) }),
    tableOfKey,
    receiveHost,
    hosts,
    loop,
    history,
    setRecording,
    pastError,
    showPast,
    portHistory,
    cutRecording,
    hostNames,
    /** Sources whose rows are not current (stale, refused, unreachable): their rows are marked so. */
    notCurrent: computed(
      () =>
        new Set(
          (hosts.value?.sources ?? [])
            .filter((h) => h.state !== 'connected' && h.state !== 'connecting')
            .map((h) => h.name),
        ),
    ),
    current,
    /** Asks the host to act (port doctor, kill, snapshot, save, open folder). */
    call,
    transport: () => client?.transport ?? 'websocket',
    onCommand: (listener: (command: MenuCommand) => void) => void commandListeners.push(listener),
    source,
    showSnapshot,
    showReplay,
    replayMoved,
    showLive,
    recordingCount,
    startRecording,
    stopRecording,
    shownTable: () => shown,
    currentReplay: () => replay,
    /** Finished connections a shown snapshot or replay carries; null while live (see the transitions store). */
    recordedChains: (): ConnectionChain[] | null => {
      if (source.value.kind === 'snapshot') return source.value.snapshot.chains ?? [];
      // A replay's chains grow as it plays (each step bumps the version); a snapshot's never change.
      if (source.value.kind === 'replay') return (void version.value, replay?.chains() ?? []);
      return null;
    },
  };
});
