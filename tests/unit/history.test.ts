// The flight recorder on real SQLite files: spans from a stream, the port's history asked back,
// a restart after a crash, a corrupt file moved aside, a newer schema refused, retention and the
// size cap, and the times people type.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Delta, ProcessInfo, ScanStats, Socket, StreamMessage } from '../../src-main/shared/contract';
import { socketKey } from '../../src-main/track/identity';
import { cutRecording } from '../../src-main/history/cut';
import { answerHistory, portHistory, tableAt, type HistoryQuestion } from '../../src-main/history/query';
import { parseRecording } from '../../src-main/export/import-recording';
import { DEFAULT_LIMITS, HistoryRecorder } from '../../src-main/history/recorder';
import { defaultHistoryPath, HistoryError, HistoryStore } from '../../src-main/history/store';
import { parseWhen } from '../../src-main/history/when';
import { localMinute, localTime } from '../../src-main/shared/local-time';
import { historyLimits, historyText } from '../../src-main/cli/history';
import Database from 'libsql';
import { tcp } from '../helpers/sockets';

const stats: ScanStats = { unattributed: 0, malformedRows: 0, repairedRows: 0, hiddenProcesses: 0, scanMs: 1 };
const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const node: ProcessInfo = {
  pid: 4711,
  ppid: 1,
  name: 'node',
  command: 'node server.js',
  user: 'dev',
  uid: 1000,
  startedAt: '2026-12-01T09:00:00.000Z',
  cwd: '/home/dev/shop-api',
};
const listener = tcp('127.0.0.1:8080', null, {
  state: 'LISTEN',
  pid: 4711,
  pids: [4711],
  processName: 'node',
  inode: 1,
});
const accepted = tcp('127.0.0.1:8080', '127.0.0.1:50000', { pid: 4711, pids: [4711], processName: 'node', inode: 2 });
const resync = (seq: number, s: number, sockets: Socket[]): StreamMessage => ({
  type: 'resync',
  resync: { seq, at: at(s), sockets, processes: [node], stats },
});
const delta = (seq: number, s: number, over: Partial<Delta>): StreamMessage => ({
  type: 'delta',
  delta: { seq, since: seq - 1, at: at(s), added: [], removed: [], changed: [], processes: [], stats, ...over },
});

let dir: string;
beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'porthole-history-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the history database', () => {
  it('is made 0600 in a 0700 folder, at the per-user state path by default', () => {
    const path = join(dir, 'state', 'porthole', 'history.sqlite');
    const { store, note } = HistoryStore.open(path);
    store.close();
    expect(note).toBeNull();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'state', 'porthole')).mode & 0o777).toBe(0o700);
    expect(defaultHistoryPath({ XDG_STATE_HOME: '/s' }, 'linux', '/home/u')).toBe('/s/porthole/history.sqlite');
    expect(defaultHistoryPath({}, 'linux', '/home/u')).toBe('/home/u/.local/state/porthole/history.sqlite');
    expect(defaultHistoryPath({ LOCALAPPDATA: 'C:\\L' }, 'win32', 'C:\\U')).toMatch(/Porthole.history\.sqlite$/);
  });

  it('records a listener and its connection as spans with their owner, and answers who held the port', () => {
    const path = join(dir, 'h.sqlite');
    const { store } = HistoryStore.open(path);
    const recorder = new HistoryRecorder(store);
    recorder.receive(resync(1, 0, [listener]));
    recorder.receive(delta(2, 5, { added: [accepted] }));
    recorder.receive(
      delta(3, 7, {
        changed: [
          { key: socketKey(accepted), from: { state: 'ESTABLISHED' }, to: { ...accepted, state: 'CLOSE_WAIT' } },
        ],
      }),
    );
    recorder.receive(delta(4, 9, { removed: [socketKey(accepted)] }));
    recorder.receive(delta(5, 30, { removed: [socketKey(listener)] }));
    const answer = portHistory(store, 8080, T0 - 60_000, T0 + 60_000);
    expect(answer.uses.map((u) => [u.role, u.pid, u.command, u.cwd, u.state, u.from - T0, (u.to ?? 0) - T0])).toEqual([
      ['listener', 4711, 'node server.js', '/home/dev/shop-api', 'LISTEN', 0, 30_000],
      ['server', 4711, 'node server.js', '/home/dev/shop-api', 'CLOSE_WAIT', 5_000, 9_000],
    ]);
    // A window after the listener went finds nothing.
    expect(portHistory(store, 8080, T0 + 31_000, T0 + 60_000).uses).toEqual([]);
    // One owner row for both sockets; one span per state they were in.
    expect((store.db.prepare('SELECT count(*) AS n FROM owners').get() as { n: number }).n).toBe(1);
    expect((store.db.prepare('SELECT count(*) AS n FROM spans').get() as { n: number }).n).toBe(3);
    // The table at a moment, as it was then: the state of that moment, the owner with it.
    const states = (s: number) =>
      tableAt(store, T0 + s * 1000).sockets.map((x) => [x.localPort, x.remotePort, x.state, x.pid]);
    expect(states(6)).toEqual([
      [8080, null, 'LISTEN', 4711],
      [8080, 50000, 'ESTABLISHED', 4711],
    ]);
    expect(states(8)).toEqual([
      [8080, null, 'LISTEN', 4711],
      [8080, 50000, 'CLOSE_WAIT', 4711],
    ]);
    expect(states(20)).toEqual([[8080, null, 'LISTEN', 4711]]);
    expect(tableAt(store, T0 + 6000).processes).toEqual([
      expect.objectContaining({
        pid: 4711,
        command: 'node server.js',
        cwd: '/home/dev/shop-api',
        startedAt: node.startedAt,
      }),
    ]);
    // Moments it cannot speak for are refused with why.
    expect(() => tableAt(store, T0 + 31_000)).toThrow(/last written at 2026-12-01T10:00:30/);
    expect(() => tableAt(store, T0 - 1)).toThrow(/starts at 2026-12-01T10:00:00/);
    store.close();
  });

  it('fills in the owners of a table recorded before them, from the delta or from a resync in its place', () => {
    const unowned = (s: Socket) => ({ ...s, pid: null, processName: null, pids: [] });
    const pending = { ...stats, ownersPending: true as const };
    for (const fill of ['delta', 'resync'] as const) {
      const { store } = HistoryStore.open(join(dir, `${fill}.sqlite`));
      const recorder = new HistoryRecorder(store);
      recorder.receive({
        type: 'resync',
        resync: { seq: 1, at: at(0), sockets: [unowned(listener), unowned(accepted)], processes: [], stats: pending },
      });
      if (fill === 'delta')
        recorder.receive(
          delta(2, 1, {
            changed: [listener, accepted].map((s) => ({ key: socketKey(s), from: { pid: null }, to: s })),
            processes: [node],
          }),
        );
      // A subscriber that fell behind gets the whole table instead of the delta that filled it in.
      else recorder.receive(resync(2, 1, [listener, accepted]));
      const uses = portHistory(store, 8080, T0 - 60_000, T0 + 60_000).uses;
      expect(uses.map((u) => [fill, u.role, u.pid, u.command])).toEqual([
        [fill, 'listener', 4711, 'node server.js'],
        [fill, 'server', 4711, 'node server.js'],
      ]);
      store.close();
    }
  });

  it('ends the spans a killed recorder left open where it last recorded, and records on', () => {
    const path = join(dir, 'h.sqlite');
    const first = HistoryStore.open(path).store;
    new HistoryRecorder(first).receive(resync(1, 0, [listener]));
    first.close(); // as after kill -9: the last transaction is all there is
    const second = HistoryStore.open(path).store;
    const recorder = new HistoryRecorder(second);
    expect(portHistory(second, 8080, T0, T0 + 1000).uses[0].to).toBe(T0);
    recorder.receive(resync(1, 100, [listener]));
    const uses = portHistory(second, 8080, T0, T0 + 200_000).uses;
    expect(uses.map((u) => [u.from - T0, u.to === null ? null : u.to - T0])).toEqual([
      [0, 0],
      [100_000, null],
    ]);
    second.close();
  });

  it('moves a corrupt file aside with a timestamp and starts a new one, saying so', () => {
    const path = join(dir, 'h.sqlite');
    writeFileSync(path, 'this is not a database, it is a text file of 4096 bytes'.repeat(80), { mode: 0o600 });
    const { store, note } = HistoryStore.open(path);
    store.close();
    expect(note).toMatch(/unreadable .*moved aside to .*h\.sqlite\.corrupt-\d{4}-/);
    expect(readdirSync(dir).filter((f) => f.includes('.corrupt-'))).toHaveLength(1);
  });

  it('refuses, and leaves alone, a file made by a newer Porthole', () => {
    const path = join(dir, 'h.sqlite');
    const { store } = HistoryStore.open(path);
    store.db.exec('PRAGMA user_version = 99');
    store.close();
    expect(() => HistoryStore.open(path)).toThrow(HistoryError);
    expect(() => HistoryStore.open(path)).toThrow(/newer Porthole \(schema 99/);
  });

  it('is asked about only where it exists: a question of a missing history says where it looked', () => {
    expect(() => HistoryStore.open(join(dir, 'none', 'h.sqlite'), true)).toThrow(/no history at .*none\/h\.sqlite/);
    // A file a recorder has only just made (no schema yet) has nothing recorded: said so, not an SQL error.
    writeFileSync(join(dir, 'new.sqlite'), '', { mode: 0o600 });
    expect(() => HistoryStore.open(join(dir, 'new.sqlite'), true)).toThrow(/nothing is recorded at .*new\.sqlite yet/);
  });

  it('has one recorder a file: a second is refused naming the first; the lock a killed one left is taken over', () => {
    const path = join(dir, 'h.sqlite');
    const first = HistoryStore.open(path).store;
    expect(() => HistoryStore.open(path)).toThrow(
      new RegExp(`another Porthole \\(pid ${process.pid}\\) is recording into .*h\\.sqlite; only one may`),
    );
    // Readers take no lock.
    HistoryStore.open(path, true).store.close();
    first.close();
    expect(readdirSync(dir)).not.toContain('h.sqlite.lock');
    // A recorder killed with its lock held: a pid no process has now.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'h.sqlite.lock'), `${dead.stdout} 12345`);
    const second = HistoryStore.open(path).store;
    second.close();
  });

  it('cuts a recording of any range: the table then as a resync, a delta at each change, as import reads it', () => {
    const { store } = HistoryStore.open(join(dir, 'h.sqlite'));
    const recorder = new HistoryRecorder(store);
    const key = socketKey(accepted);
    recorder.receive(resync(1, 0, [listener]));
    recorder.receive(delta(2, 10, { added: [accepted] }));
    recorder.receive(
      delta(3, 20, { changed: [{ key, from: { state: 'ESTABLISHED' }, to: { ...accepted, state: 'CLOSE_WAIT' } }] }),
    );
    recorder.receive(delta(4, 30, { removed: [key] }));
    recorder.receive(delta(5, 40, {}));
    const text = cutRecording(store, T0 + 5000, T0 + 40_000);
    const messages = parseRecording(text);
    expect(messages.map((m) => m.type)).toEqual(['resync', 'delta', 'delta', 'delta']);
    const [first, added, changed, removed] = messages;
    expect(first.type === 'resync' && first.resync.sockets.map((s) => s.state)).toEqual(['LISTEN']);
    expect(first.type === 'resync' && first.resync.processes.map((p) => p.cwd)).toEqual(['/home/dev/shop-api']);
    expect(added.type === 'delta' && [added.delta.at, added.delta.added.map((s) => s.remotePort)]).toEqual([
      at(10),
      [50000],
    ]);
    expect(changed.type === 'delta' && changed.delta.changed.map((c) => [c.key, c.from.state, c.to.state])).toEqual([
      [key, 'ESTABLISHED', 'CLOSE_WAIT'],
    ]);
    expect(removed.type === 'delta' && removed.delta.removed).toEqual([key]);
    // A range the history does not cover, or one that ends first, is refused with why.
    expect(() => cutRecording(store, T0 - 60_000, T0)).toThrow(/starts at 2026-12-01T10:00:00/);
    expect(() => cutRecording(store, T0 + 20_000, T0 + 10_000)).toThrow(/ends before it starts/);
    store.close();
  });

  it('answers for a pid, a process name and a remote address, alone or together', () => {
    const { store } = HistoryStore.open(join(dir, 'h.sqlite'));
    const recorder = new HistoryRecorder(store);
    const postgres: ProcessInfo = { ...node, pid: 5000, name: 'postgres', command: 'postgres -D /db', cwd: '/db' };
    const long: ProcessInfo = { ...node, pid: 6000, name: 'chromium-browse', command: '/usr/lib/chromium-browser' };
    const toDb = tcp('10.0.0.9:41000', '10.0.0.5:5432', { pid: 4711, pids: [4711], processName: 'node', inode: 3 });
    // A dual-stack socket sees the same v4 peer as ::ffff:10.0.0.5.
    const mapped = tcp('[::ffff:10.0.0.9]:41001', '[::ffff:10.0.0.5]:5433', {
      pid: 5000,
      pids: [5000],
      processName: 'postgres',
      inode: 4,
    });
    const browser = tcp('127.0.0.1:42000', '127.0.0.1:8080', {
      pid: 6000,
      pids: [6000],
      processName: 'chromium-browse',
      inode: 5,
    });
    recorder.receive({
      type: 'resync',
      resync: {
        seq: 1,
        at: at(0),
        sockets: [listener, toDb, mapped, browser],
        processes: [node, postgres, long],
        stats,
      },
    });
    recorder.receive(delta(2, 10, { removed: [socketKey(toDb)] }));
    // Pid 4711 is reused by another process, which connects to the same database.
    const python: ProcessInfo = {
      ...node,
      name: 'python3',
      command: 'python3 job.py',
      startedAt: '2026-12-01T10:00:20.000Z',
    };
    const reused = tcp('10.0.0.9:41002', '10.0.0.5:5432', {
      pid: 4711,
      pids: [4711],
      processName: 'python3',
      inode: 6,
    });
    recorder.receive(delta(3, 30, { removed: [socketKey(listener)], added: [reused], processes: [python] }));
    const ask = (question: HistoryQuestion) =>
      answerHistory(store, question, T0 - 60_000, T0 + 60_000).uses.map((u) => [u.role, u.pid, u.name, u.remotePort]);
    // A pid: every process that had it (the listener's and the reused pid's).
    expect(ask({ pid: 4711 })).toEqual([
      ['listener', 4711, 'node', null],
      ['connection', 4711, 'node', 5432],
      ['connection', 4711, 'python3', 5432],
    ]);
    // A name, whatever its case; a name longer than Linux keeps matches the 15 bytes kept.
    expect(ask({ process: 'NODE' })).toEqual([
      ['listener', 4711, 'node', null],
      ['connection', 4711, 'node', 5432],
    ]);
    expect(ask({ process: 'chromium-browser' })).toEqual([['connection', 6000, 'chromium-browse', 8080]]);
    // A remote address: its v4 and IPv4-mapped forms; with a port, that port only.
    expect(ask({ remote: '10.0.0.5' })).toEqual([
      ['connection', 4711, 'node', 5432],
      ['connection', 5000, 'postgres', 5433],
      ['connection', 4711, 'python3', 5432],
    ]);
    expect(ask({ remote: '10.0.0.5', remotePort: 5433 })).toEqual([['connection', 5000, 'postgres', 5433]]);
    // Together: what matches them all.
    expect(ask({ process: 'python3', remote: '10.0.0.5' })).toEqual([['connection', 4711, 'python3', 5432]]);
    expect(ask({ port: 8080, process: 'node' })).toEqual([['listener', 4711, 'node', null]]);
    expect(ask({ remote: '10.0.0.6' })).toEqual([]);
    expect(answerHistory(store, { pid: 5000 }, T0, T0 + 1000)).toMatchObject({ pid: 5000, more: 0, dropped: 0 });
    expect(() => answerHistory(store, {}, T0, T0)).toThrow(/a port, a pid, a process or a remote address/);
    store.close();
  });

  it('past its budget a minute, folds short connections into counts and records the lasting ones after all', () => {
    const { store } = HistoryStore.open(join(dir, 'h.sqlite'));
    const recorder = new HistoryRecorder(store, { ...DEFAULT_LIMITS, connectionsPerMinute: 3 });
    const from = (i: number, over: Partial<Socket> = {}) =>
      tcp('127.0.0.1:8080', `127.0.0.3:${50000 + i}`, {
        pid: 4711,
        pids: [4711],
        processName: 'node',
        inode: 10 + i,
        ...over,
      });
    const toDb = tcp('10.0.0.9:41000', '10.0.0.5:5432', { pid: 4711, pids: [4711], processName: 'node', inode: 9 });
    const accepted = [0, 1, 2, 3, 4, 5].map((i) => from(i));
    recorder.receive(resync(1, 0, [listener]));
    // Six accepted and one made to the database in the first minute: three are kept one by one.
    recorder.receive(delta(2, 1, { added: [...accepted, toDb] }));
    // Of the four folded: two end at once, one goes to TIME_WAIT (done: its leftover is not recorded
    // even when it lasts), one and the database connection last.
    recorder.receive(
      delta(3, 5, {
        removed: [socketKey(accepted[3]), socketKey(accepted[4])],
        changed: [
          { key: socketKey(accepted[5]), from: { state: 'ESTABLISHED' }, to: { ...accepted[5], state: 'TIME_WAIT' } },
          // The database closes its end while this one is folded: it is recorded as it is then.
          { key: socketKey(toDb), from: { state: 'ESTABLISHED' }, to: { ...toDb, state: 'CLOSE_WAIT' } },
        ],
      }),
    );
    expect(recorder.foldedCount).toBe(4);
    const minute = (s: number) => answerHistory(store, { port: 8080 }, T0 + s * 1000, T0 + s * 1000);
    expect(minute(3).foldedCount).toBe(3);
    expect(tableAt(store, T0 + 3000).folded).toBe(4);
    // A new minute has a new budget: this one is kept one by one.
    const later = from(6, { inode: 30 });
    recorder.receive(delta(4, 61, { added: [later] }));
    // A minute after it was first seen, the lasting one is recorded from then, out of its count.
    recorder.receive(delta(5, 62, {}));
    expect(recorder.foldedCount).toBe(3);
    const answer = answerHistory(store, { port: 8080 }, T0, T0 + 70_000);
    expect(answer.uses.map((u) => [u.role, u.remotePort, u.from - T0])).toEqual([
      ['listener', null, 0],
      ['server', 50000, 1000],
      ['server', 50001, 1000],
      ['server', 50002, 1000],
      ['server', 50006, 61_000],
    ]);
    // toDb was the seventh: folded on the client's side, made to 10.0.0.5:5432; it lasted, so it
    // is one by one now, and its fold is empty.
    expect(
      answerHistory(store, { remote: '10.0.0.5' }, T0, T0 + 70_000).uses.map((u) => [u.remotePort, u.from - T0]),
    ).toEqual([[5432, 1000]]);
    expect(store.db.prepare('SELECT state, to_ms FROM spans WHERE remote_port = 5432').all()).toEqual([
      { state: 'CLOSE_WAIT', to_ms: null },
    ]);
    expect(answer.folded).toEqual([
      {
        protocol: 'tcp',
        role: 'server',
        localPort: 8080,
        remoteAddress: '127.0.0.3',
        remotePort: null,
        pid: 4711,
        name: 'node',
        command: 'node server.js',
        cwd: '/home/dev/shop-api',
        from: T0,
        to: T0 + 60_000,
        count: 3,
      },
    ]);
    expect(answer.foldedCount).toBe(3);
    // The same question of another pid or address finds no fold; the table at a moment says its minute's.
    expect(answerHistory(store, { pid: 1 }, T0, T0 + 70_000).foldedCount).toBe(0);
    expect(tableAt(store, T0 + 3000).folded).toBe(3);
    expect(tableAt(store, T0 + 61_500).folded).toBe(0);
    const text = historyText(answer);
    expect(text).toContain('+ 3 short connections kept only as counts a minute');
    expect(text).toMatch(/\d\d:\d\d–\d\d:\d\d +3 × tcp :8080 ← 127\.0\.0\.3 {2}node \(pid 4711\)/);
    store.close();
  });

  it('keeps its order when the clock is stepped back: later messages are recorded at the last moment written', () => {
    const { store } = HistoryStore.open(join(dir, 'h.sqlite'));
    const recorder = new HistoryRecorder(store);
    recorder.receive(resync(1, 100, [listener]));
    // The wall clock goes back 90 s between two polls: the connection is recorded at 100, not 10.
    recorder.receive(delta(2, 10, { added: [accepted] }));
    recorder.receive(delta(3, 20, { removed: [socketKey(accepted)] }));
    recorder.receive(delta(4, 110, { removed: [socketKey(listener)] }));
    const spans = store.db.prepare('SELECT from_ms, to_ms FROM spans ORDER BY id').all() as {
      from_ms: number;
      to_ms: number;
    }[];
    expect(spans.map((r) => [r.from_ms - T0, r.to_ms - T0])).toEqual([
      [100_000, 110_000],
      [100_000, 100_000],
    ]);
    expect(Number(store.meta('last_at')) - T0).toBe(110_000);
    store.close();
    // A recorder started after the step carries on from what the file says was last written.
    const again = HistoryStore.open(join(dir, 'h.sqlite')).store;
    new HistoryRecorder(again).receive(resync(1, 50, [listener]));
    expect(Number(again.meta('last_at')) - T0).toBe(110_000);
    again.close();
  });

  it('reads a file of an older schema as it is, and a recorder migrates it', () => {
    const path = join(dir, 'h.sqlite');
    const first = HistoryStore.open(path).store;
    new HistoryRecorder(first).receive(resync(1, 0, [listener]));
    first.close();
    // Made as schema 1 was: without the indexes of 2 and the folds of 3.
    const raw = new Database(path);
    raw.exec('DROP TABLE folds; DROP INDEX spans_pid; DROP INDEX spans_remote; PRAGMA user_version = 1');
    raw.close();
    const reader = HistoryStore.open(path, true).store;
    expect(reader.version).toBe(1);
    expect(answerHistory(reader, { pid: 4711 }, T0, T0 + 1000)).toMatchObject({
      uses: [{ pid: 4711 }],
      folded: [],
      foldedCount: 0,
    });
    expect(tableAt(reader, T0).folded).toBe(0);
    reader.close();
    const writer = HistoryStore.open(path).store;
    expect(writer.version).toBe(3);
    const names = (
      writer.db
        .prepare("SELECT name FROM sqlite_master WHERE name IN ('folds', 'spans_pid', 'spans_remote')")
        .all() as { name: string }[]
    )
      .map((r) => r.name)
      .sort();
    expect(names).toEqual(['folds', 'spans_pid', 'spans_remote']);
    expect(portHistory(writer, 8080, T0, T0 + 1000).uses).toHaveLength(1);
    writer.close();
  });

  it('drops spans past the retention, and the oldest past the size cap, counting them', () => {
    const path = join(dir, 'h.sqlite');
    const { store } = HistoryStore.open(path);
    const recorder = new HistoryRecorder(store, { ...DEFAULT_LIMITS, retentionMs: 3600_000, maxBytes: 1 << 30 });
    const many = Array.from({ length: 2000 }, (_, i) =>
      tcp('127.0.0.1:9000', `127.0.0.1:${10000 + i}`, { inode: 100 + i, pid: 4711, pids: [4711], processName: 'node' }),
    );
    recorder.receive(resync(1, 0, many));
    recorder.receive(delta(2, 10, { removed: many.map(socketKey) }));
    recorder.prune(T0 + 10_000 + 3600_000 + 1);
    // 600 were recorded one by one (the budget of a minute), 1,400 folded: both go, counted apart.
    expect(recorder.dropped).toBe(600);
    expect(portHistory(store, 9000, 0, T0 + 1e9)).toMatchObject({ dropped: 600, droppedFolded: 1400, foldedCount: 0 });
    // Past the size cap, the oldest ended spans go until it fits.
    const capped = new HistoryRecorder(store, { retentionMs: 1e12, maxBytes: 64 * 1024, connectionsPerMinute: 1e9 });
    capped.receive(resync(1, 20_000, many));
    capped.receive(delta(2, 20_010, { removed: many.map(socketKey) }));
    capped.prune(T0 + 20_010_000);
    expect(capped.dropped).toBeGreaterThan(0);
    expect(store.sizeBytes()).toBeLessThan(1 << 20);
    store.close();
  });
});

describe('times as people type them', () => {
  const now = Date.parse('2026-12-06T15:30:00');
  it('reads durations ago, a clock time (today, or yesterday when still to come) and ISO times', () => {
    expect(parseWhen('2h', now)).toBe(now - 7_200_000);
    expect(parseWhen('10 min ago', now)).toBe(now - 600_000);
    expect(parseWhen('15:12', now)).toBe(Date.parse('2026-12-06T15:12:00'));
    expect(parseWhen('16:00', now)).toBe(Date.parse('2026-12-05T16:00:00'));
    expect(parseWhen('2026-12-06T10:00:00Z', now)).toBe(Date.parse('2026-12-06T10:00:00Z'));
    expect(parseWhen(' Now ', now)).toBe(now);
    for (const bad of ['yesterday', '25:00', '12:60', 'Dec 6', '', '2h ago later'])
      expect(parseWhen(bad, now)).toBeNull();
  });

  it('prints moments in local time as sv-SE does, to the second and to the minute', () => {
    for (const at of [now, Date.parse('2026-01-02T03:04:05'), Date.parse('1999-12-31T23:59:59.999'), 0]) {
      expect(localTime(at)).toBe(new Date(at).toLocaleString('sv-SE'));
      expect(localMinute(at)).toBe(new Date(at).toLocaleTimeString('sv-SE', { hour: '2-digit', minute: '2-digit' }));
    }
  });
});

describe('what a recorder keeps, as set on the command line', () => {
  it('reads --history-keep, --history-max and --history-budget, and refuses what is not one', () => {
    expect(historyLimits({})).toEqual(DEFAULT_LIMITS);
    expect(historyLimits({ 'history-keep': '2d', 'history-max': '64MB', 'history-budget': '100' })).toEqual({
      retentionMs: 2 * 86_400_000,
      maxBytes: 64 * 1024 * 1024,
      connectionsPerMinute: 100,
    });
    expect(historyLimits({ 'history-max': '1GiB', 'history-budget': '0' })).toMatchObject({
      maxBytes: 1024 ** 3,
      connectionsPerMinute: 0,
    });
    expect(() => historyLimits({ 'history-keep': '30s' })).toThrow(/--history-keep takes a time of a minute or more/);
    expect(() => historyLimits({ 'history-keep': 'forever' })).toThrow(/not "forever"/);
    expect(() => historyLimits({ 'history-max': '10KB' })).toThrow(/--history-max takes a size of 1MB or more/);
    expect(() => historyLimits({ 'history-budget': '-1' })).toThrow(/--history-budget takes a number/);
  });
});
