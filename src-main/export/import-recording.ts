// Reads a recording of the delta stream (NDJSON: `porthole watch --json`, or the UI's Record
// button): untrusted like a snapshot file. Every line is checked, and the messages must chain
// (each delta follows on from the one before, or a resync restarts), so a replay never shows a
// table the stream never had.

import {
  PID_MAX,
  type ProcessInfo,
  type Socket,
  type SocketChange,
  type StreamMessage,
  type TrafficUpdate,
} from '../shared/contract';
import {
  array,
  chain,
  date,
  eventMode,
  ImportError,
  integer,
  Invalid,
  MAX_SNAPSHOT_BYTES,
  object,
  namespaceLists,
  onlyKeys,
  parseUntrustedJson,
  processInfo,
  uniquePids,
  socket,
  stats,
  string,
  tcpTraffic,
} from './import-snapshot';

const MAX_ROWS = 1_000_000;
const SEQ_MAX = Number.MAX_SAFE_INTEGER;

function changeEntry(value: unknown, path: string): SocketChange {
  const c = object(value, path);
  onlyKeys(c, path, ['key', 'from', 'to']);
  const to = socket(c.to, `${path}.to`);
  // `from` holds the previous values of the changed fields: check them against a whole socket.
  const from = object(c.from, `${path}.from`);
  const checked = socket({ ...to, ...from }, `${path}.from`);
  const previous: Partial<Socket> = {};
  for (const field of Object.keys(from) as (keyof Socket)[])
    (previous as Record<string, unknown>)[field] = checked[field];
  return { key: string(c.key, `${path}.key`), from: previous, to };
}

function trafficUpdate(value: unknown, path: string): TrafficUpdate {
  const u = object(value, path);
  onlyKeys(u, path, ['key', 'traffic']);
  return { key: string(u.key, `${path}.key`), traffic: tcpTraffic(u.traffic, `${path}.traffic`) };
}

/** One stream message (a resync or a delta), every field checked. */
export function streamMessage(value: unknown): StreamMessage {
  const m = object(value, 'the line');
  if (m.type === 'resync') {
    onlyKeys(m, 'the line', ['type', 'resync']);
    const r = object(m.resync, 'resync');
    onlyKeys(r, 'resync', [
      'seq',
      'at',
      'sockets',
      'processes',
      'stats',
      'eventMode',
      'intervalMs',
      'namespaces',
      'publishedPorts',
    ]);
    const sockets = array(r.sockets, 'resync.sockets', MAX_ROWS).map((s, i) => socket(s, `resync.sockets[${i}]`));
    return {
      type: 'resync',
      resync: {
        seq: integer(r.seq, 'resync.seq', 0, SEQ_MAX),
        at: r.at === '' ? '' : date(r.at, 'resync.at'),
        sockets,
        processes: uniquePids(
          array(r.processes, 'resync.processes', MAX_ROWS).map((p, i): ProcessInfo =>
            processInfo(p, `resync.processes[${i}]`),
          ),
          'resync.processes',
        ),
        stats: r.stats === null ? null : stats(r.stats, 'resync.stats', sockets),
        ...(r.eventMode === undefined ? {} : { eventMode: eventMode(r.eventMode, 'resync.eventMode') }),
        ...(r.intervalMs === undefined
          ? {}
          : { intervalMs: integer(r.intervalMs, 'resync.intervalMs', 1, 86_400_000) }),
        ...namespaceLists(r, 'resync.'),
      },
    };
  }
  if (m.type === 'delta') {
    onlyKeys(m, 'the line', ['type', 'delta']);
    const d = object(m.delta, 'delta');
    onlyKeys(d, 'delta', [
      'seq',
      'since',
      'at',
      'added',
      'removed',
      'changed',
      'traffic',
      'processes',
      'processesGone',
      'stats',
      'chains',
      'chainsDropped',
      'eventMode',
      'namespaces',
      'publishedPorts',
    ]);
    const added = array(d.added, 'delta.added', MAX_ROWS).map((s, i) => socket(s, `delta.added[${i}]`));
    const processes = uniquePids(
      array(d.processes, 'delta.processes', MAX_ROWS).map((p, i) => processInfo(p, `delta.processes[${i}]`)),
      'delta.processes',
    );
    return {
      type: 'delta',
      delta: {
        seq: integer(d.seq, 'delta.seq', 1, SEQ_MAX),
        since: integer(d.since, 'delta.since', -1, SEQ_MAX),
        at: date(d.at, 'delta.at'),
        added,
        removed: array(d.removed, 'delta.removed', MAX_ROWS).map((k, i) => string(k, `delta.removed[${i}]`)),
        changed: array(d.changed, 'delta.changed', MAX_ROWS).map((c, i) => changeEntry(c, `delta.changed[${i}]`)),
        ...(d.traffic === undefined
          ? {}
          : {
              traffic: array(d.traffic, 'delta.traffic', MAX_ROWS).map((u, i) =>
                trafficUpdate(u, `delta.traffic[${i}]`),
              ),
            }),
        processes,
        ...(d.processesGone === undefined ? {} : { processesGone: processesGone(d.processesGone, processes) }),
        stats: stats(d.stats, 'delta.stats', added),
        ...(d.chains === undefined
          ? {}
          : { chains: array(d.chains, 'delta.chains', MAX_ROWS).map((c, i) => chain(c, `delta.chains[${i}]`)) }),
        ...(d.chainsDropped === undefined
          ? {}
          : { chainsDropped: integer(d.chainsDropped, 'delta.chainsDropped', 0, Number.MAX_SAFE_INTEGER) }),
        ...(d.eventMode === undefined ? {} : { eventMode: eventMode(d.eventMode, 'delta.eventMode') }),
        ...namespaceLists(d, 'delta.'),
      },
    };
  }
  throw new Invalid('type', 'must be "resync" or "delta"');
}

/** The pids a delta says went: each once, and none it also sends. */
function processesGone(value: unknown, processes: readonly ProcessInfo[]): number[] {
  const sent = new Set(processes.map((p) => p.pid));
  const pids = array(value, 'delta.processesGone', MAX_ROWS).map((pid, i) =>
    integer(pid, `delta.processesGone[${i}]`, 1, PID_MAX),
  );
  const seen = new Set<number>();
  pids.forEach((pid, i) => {
    if (seen.has(pid) || sent.has(pid))
      throw new Invalid(`delta.processesGone[${i}]`, 'names a pid twice, or one the delta also sends');
    seen.add(pid);
  });
  return pids;
}

/** Parses a recording; throws ImportError naming the line and the reason. */
export function parseRecording(text: string, name = 'the recording'): StreamMessage[] {
  const fail = (reason: string) => new ImportError(`Cannot import ${name}: ${reason}.`);
  if (text.length > MAX_SNAPSHOT_BYTES) throw fail(`it is larger than ${MAX_SNAPSHOT_BYTES} bytes`);
  const lines = text.split('\n');
  const messages: StreamMessage[] = [];
  let seq: number | null = null;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const at = (reason: string) => fail(`line ${i + 1}: ${reason}`);
    let parsed: StreamMessage;
    try {
      parsed = streamMessage(parseUntrustedJson(lines[i], at));
    } catch (error) {
      if (error instanceof Invalid) throw at(`${error.path} ${error.message}`);
      throw error;
    }
    if (parsed.type === 'resync') seq = parsed.resync.seq;
    else if (seq === null) throw at('a recording starts with a resync (the whole table)');
    else if (parsed.delta.since !== seq)
      throw at(`delta ${parsed.delta.seq} follows on from ${parsed.delta.since}, not ${seq}: the recording has a gap`);
    else seq = parsed.delta.seq;
    messages.push(parsed);
  }
  if (messages.length === 0) throw fail('it holds no stream messages');
  return messages;
}
