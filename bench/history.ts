// The flight recorder's figures for `npm run bench` (issue 26): what recording costs on a busy
// table (50,000 sockets, 1,000 connections opening and 1,000 closing a second, at a 1 s poll),
// how fast its file grows, and how long `history --port` and `snapshot --at` take from the shell
// on a file filled to its 256 MB cap over 7 days.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Delta, ProcessInfo, ScanStats, Socket, StreamMessage } from '../src-main/shared/contract';
import { socketKey } from '../src-main/track/identity';
import { syntheticConnection } from './synthetic';
import { DEFAULT_MAX_BYTES, HistoryRecorder } from '../src-main/history/recorder';
import { HistoryStore } from '../src-main/history/store';
import { portHistory, tableAt } from '../src-main/history/query';

const SOCKETS = 50_000;
const CHURN = 1_000;
const POLLS = 60;
const DAY = 86_400_000;

const stats: ScanStats = { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 50 };
const processes: ProcessInfo[] = Array.from({ length: 20 }, (_, i) => ({
  pid: 1000 + i,
  ppid: 1,
  name: `server-${i}`,
  command: `node server-${i}.js --port ${3000 + i}`,
  user: 'dev',
  uid: 1000,
  startedAt: '2026-12-01T00:00:00.000Z',
  cwd: `/home/dev/project-${i}`,
}));
let serial = 0;
const connection = (): Socket => syntheticConnection(serial++);

export interface HistoryFigures {
  /** CPU per poll recorded (ms), and as a share of one core at a 1 s poll (%). */
  cpuMsPerPoll: number;
  cpuPercentAt1Hz: number;
  /** Growth of the file per hour of that churn (MB), before the size cap prunes it. */
  growthMbPerHour: number;
  /** The filled file: its size (MB), spans, and the shell's wall time of each question (median, ms). */
  filledMb: number;
  filledSpans: number;
  historyPortMs: number;
  snapshotAtMs: number;
  /** The same questions asked in-process (the database's part, ms), and Node's own start. */
  historyPortQueryMs: number;
  snapshotAtQueryMs: number;
  nodeStartMs: number;
}

function wallMs(args: string[]): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (run.status !== 0) throw new Error(`${args.join(' ')}: ${String(run.stderr)}`);
  return performance.now() - started;
}

export function benchHistory(root: string, runs: number): HistoryFigures {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-bench-history-'));
  try {
    // 1. Recording a busy table: each poll's message parsed (as the subscriber does) and recorded.
    const path = join(dir, 'recording.sqlite');
    const { store } = HistoryStore.open(path);
    const recorder = new HistoryRecorder(store);
    const t0 = Date.parse('2026-12-06T10:00:00Z');
    let live = Array.from({ length: SOCKETS }, connection);
    recorder.receive({
      type: 'resync',
      resync: { seq: 1, at: new Date(t0).toISOString(), sockets: live, processes, stats },
    });
    store.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const sizeAfterResync = store.sizeBytes();
    let cpu = 0;
    for (let poll = 1; poll <= POLLS; poll++) {
      const closing = live.slice(0, CHURN);
      const opened = Array.from({ length: CHURN }, connection);
      const changed = live.slice(CHURN, CHURN + 100).map((s) => ({
        key: socketKey(s),
        from: { state: s.state },
        to: { ...s, state: s.state === 'ESTABLISHED' ? ('CLOSE_WAIT' as const) : ('ESTABLISHED' as const) },
      }));
      live = [...live.slice(CHURN).map((s, i) => (i < 100 ? changed[i].to : s)), ...opened];
      const delta: Delta = {
        seq: poll + 1,
        since: poll,
        at: new Date(t0 + poll * 1000).toISOString(),
        added: opened,
        removed: closing.map(socketKey),
        changed,
        processes: [],
        stats,
      };
      const json = JSON.stringify({ type: 'delta', delta } satisfies StreamMessage);
      const before = process.cpuUsage();
      recorder.receive(JSON.parse(json) as StreamMessage);
      const used = process.cpuUsage(before);
      cpu += (used.user + used.system) / 1000;
    }
    store.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const growth = ((store.sizeBytes() - sizeAfterResync) / POLLS) * 3600;
    store.close();

    // 2. A file filled over 7 days to the size cap: port 8080's listener all along, connections to
    // it and to 20 other ports, each a chain of two spans (ESTABLISHED, then TIME_WAIT).
    const filled = join(dir, 'filled.sqlite');
    const full = HistoryStore.open(filled).store;
    const start = t0 - 7 * DAY;
    const insert = full.db.prepare(
      `INSERT INTO spans (protocol, family, local_address, local_port, remote_address, remote_port, state,
         listening, pid, process_name, conn, from_ms, to_ms) VALUES ('tcp', 4, '127.0.0.1', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    insert.run(8080, null, null, 'LISTEN', 1, 4711, 'node', null, start, null);
    let spans = 1;
    const perBatch = 50_000;
    // Spread over the 7 days by the number of spans the cap holds, estimated after the first batch.
    let expected = 2 * perBatch;
    for (let batch = 0; full.sizeBytes() < DEFAULT_MAX_BYTES; batch++) {
      if (batch === 1) expected = Math.ceil((DEFAULT_MAX_BYTES / full.sizeBytes()) * perBatch);
      full.db.exec('BEGIN');
      for (let i = 0; i < perBatch; i += 2) {
        const n = spans + i;
        const from = start + Math.floor(Math.min(1, (batch * perBatch + i) / expected) * (7 * DAY - 120_000));
        const port = (n >> 1) % 25 === 0 ? 8080 : 3000 + (n % 20);
        const remote = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
        const first = Number(
          insert.run(
            port,
            remote,
            1024 + (n % 60000),
            'ESTABLISHED',
            0,
            1000 + (n % 20),
            'server',
            null,
            from,
            from + 2000,
          ).lastInsertRowid,
        );
        insert.run(port, remote, 1024 + (n % 60000), 'TIME_WAIT', 0, null, null, first, from + 2000, from + 62_000);
      }
      full.db.exec('COMMIT');
      spans += perBatch;
    }
    full.setMeta('last_at', String(t0));
    full.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const filledMb = full.sizeBytes() / 1e6;
    full.close();
    const cli = join(root, 'bin/porthole.js');
    const median = (samples: number[]) => samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)];
    const time = (args: string[]) => {
      wallMs(args); // the page cache warm, as on a machine that records
      return median(Array.from({ length: runs }, () => wallMs(args)));
    };
    const reader = HistoryStore.open(filled, true).store;
    const inProcess = (work: () => unknown) =>
      median(
        Array.from({ length: runs }, () => {
          const started = performance.now();
          work();
          return performance.now() - started;
        }),
      );
    const historyPortQueryMs = inProcess(() => portHistory(reader, 8080, t0 - DAY, t0));
    const snapshotAtQueryMs = inProcess(() => tableAt(reader, t0 - 3 * DAY));
    reader.close();
    return {
      historyPortQueryMs,
      snapshotAtQueryMs,
      nodeStartMs: time(['-e', '0']),
      cpuMsPerPoll: cpu / POLLS,
      cpuPercentAt1Hz: cpu / POLLS / 10,
      growthMbPerHour: growth / 1e6,
      filledMb,
      filledSpans: spans,
      historyPortMs: time([
        cli,
        'history',
        '--port',
        '8080',
        '--since',
        new Date(t0 - DAY).toISOString(),
        '--until',
        new Date(t0).toISOString(),
        '--history',
        filled,
      ]),
      snapshotAtMs: time([
        cli,
        'snapshot',
        '--at',
        new Date(t0 - 3 * DAY).toISOString(),
        '--history',
        filled,
        '--format',
        'json',
      ]),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printHistoryFigures(f: HistoryFigures): void {
  const goal = (met: boolean) => (met ? 'met' : 'MISSED');
  console.log(`
Flight recorder (${SOCKETS.toLocaleString('en-US')} sockets, ${CHURN} connections opened and ${CHURN} closed a poll, ${POLLS} polls):
  recording: ${f.cpuMsPerPoll.toFixed(1)} ms of CPU a poll = ${f.cpuPercentAt1Hz.toFixed(1)} % of one core at 1 Hz (goal ≤ 2 points: ${goal(f.cpuPercentAt1Hz <= 2)})
  the file grows ${f.growthMbPerHour.toFixed(0)} MB an hour under that churn (the 256 MB cap then keeps the newest)
  on a file filled to ${f.filledMb.toFixed(0)} MB (${f.filledSpans.toLocaleString('en-US')} spans over 7 days), from the shell (median, wall time):
    porthole history --port 8080 (a day)   ${f.historyPortMs.toFixed(0).padStart(5)} ms (goal ≤ 100 ms: ${goal(f.historyPortMs <= 100)})
    porthole snapshot --at (3 days ago)    ${f.snapshotAtMs.toFixed(0).padStart(5)} ms (goal ≤ 300 ms: ${goal(f.snapshotAtMs <= 300)})
    node -e 0 (Node starting, nothing else)  ${f.nodeStartMs.toFixed(0).padStart(5)} ms
  the same questions in-process (the database's part): history ${f.historyPortQueryMs.toFixed(1)} ms, the table at a moment ${f.snapshotAtQueryMs.toFixed(1)} ms`);
}
