// The flight recorder's database: one SQLite file per user (libsql: better-sqlite3's API with
// prebuilt binaries in the registry, loaded alike by Node and Electron). What it holds is said in
// docs/history.md; the schema is versioned (PRAGMA user_version) and migrated on open.

import { existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type LibsqlDatabase from 'libsql';
import { userStateFolder } from '../collect/state-folder';

/** Each migration takes the schema from its index to the next version. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE owners (
     id INTEGER PRIMARY KEY,
     pid INTEGER NOT NULL,
     started_at TEXT,
     name TEXT NOT NULL,
     command TEXT NOT NULL,
     user TEXT,
     cwd TEXT,
     container_json TEXT,
     UNIQUE (pid, started_at)
   );
   CREATE TABLE spans (
     id INTEGER PRIMARY KEY,
     protocol TEXT NOT NULL,
     family INTEGER NOT NULL,
     local_address TEXT,
     local_port INTEGER,
     remote_address TEXT,
     remote_port INTEGER,
     state TEXT NOT NULL,
     listening INTEGER NOT NULL,
     netns INTEGER,
     netns_name TEXT,
     pid INTEGER,
     process_name TEXT,
     owner_id INTEGER REFERENCES owners (id),
     conn INTEGER,
     from_ms INTEGER NOT NULL,
     to_ms INTEGER
   );
   CREATE INDEX spans_conn ON spans (conn);
   CREATE INDEX spans_from ON spans (from_ms);
   -- Spans longer than an hour, or still open: few (listeners, long connections). The table at a
   -- moment is the short spans that began in the hour before it, and these (see query.ts).
   CREATE INDEX spans_long ON spans (from_ms) WHERE to_ms IS NULL OR to_ms - from_ms > 3600000;
   CREATE INDEX spans_local_port ON spans (local_port, from_ms);
   CREATE INDEX spans_remote_port ON spans (remote_port, from_ms);
   CREATE INDEX spans_to ON spans (to_ms);`,
  // 2: history --pid, --process (through owners' pids) and --remote.
  `CREATE INDEX spans_pid ON spans (pid, from_ms);
   CREATE INDEX spans_remote ON spans (remote_address, from_ms);`,
  // 3: short connections past the budget, as per-minute counts (recorder.ts fold()). 0 stands
  // for the ephemeral port of the other side, and for no visible owner (a key has no NULLs).
  `CREATE TABLE folds (
     minute_ms INTEGER NOT NULL,
     protocol TEXT NOT NULL,
     local_port INTEGER NOT NULL,
     remote_address TEXT NOT NULL,
     remote_port INTEGER NOT NULL,
     pid INTEGER NOT NULL,
     process_name TEXT,
     owner_id INTEGER REFERENCES owners (id),
     count INTEGER NOT NULL,
     PRIMARY KEY (minute_ms, protocol, local_port, remote_address, remote_port, pid)
   ) WITHOUT ROWID;`,
];
export const HISTORY_SCHEMA_VERSION = MIGRATIONS.length;

/** Where the history is kept by default: the platform's per-user state folder. */
export function defaultHistoryPath(...where: Parameters<typeof userStateFolder>): string {
  return join(userStateFolder(...where), 'history.sqlite');
}

export class HistoryError extends Error {}

/**
 * Runs `work` in one transaction. Where SQLite has already rolled it back itself (a full disk),
 * the error that caused it is what is thrown, not the failed ROLLBACK's.
 */
export function inTransaction(db: Db, work: () => void): void {
  db.exec('BEGIN');
  try {
    work();
    db.exec('COMMIT');
  } catch (error) {
    try {
      db.exec('ROLLBACK');
    } catch {
      // already rolled back by SQLite
    }
    throw error;
  }
}

/**
 * The folder (0700), and its parents. Where it cannot be made, the error names the folder that
 * refused (a recursive mkdir says ENOENT for a read-only file system).
 */
function makeFolder(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
  } catch (error) {
    let missing = folder;
    while (!existsSync(dirname(missing)) && dirname(missing) !== missing) missing = dirname(missing);
    mkdirSync(missing, { mode: 0o700 }); // throws the real reason (EROFS, EACCES)
    throw error;
  }
}

type Db = InstanceType<typeof LibsqlDatabase>;

/**
 * How long a statement waits for another connection’s lock (a reader’s, a checkpoint) before it
 * fails as "database is locked" (libsql's `timeout`, in ms). Given when the connection is made:
 * libsql's default is not to wait, and a pragma run before a `busy_timeout` pragma would not
 * wait either.
 */
const BUSY_WAIT_MS = 2_000;

/**
 * A connection to `path`. libsql is loaded on first use, not with this module: a host whose
 * native build cannot load (a broken install, another platform's package) serves on without
 * history, saying why, rather than not starting.
 */
function connect(path: string, options: ConstructorParameters<typeof LibsqlDatabase>[1] = {}): Db {
  let Database: typeof LibsqlDatabase;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Database = require('libsql') as typeof LibsqlDatabase;
  } catch (error) {
    throw new HistoryError(
      `the SQLite library (libsql) could not be loaded: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  return new Database(path, { timeout: BUSY_WAIT_MS, ...options });
}

/** A pragma's number (libsql's `simple` option still answers a row, with metadata beside the value). */
export function pragmaNumber(db: Db, name: string): number {
  const row = db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown> | undefined;
  return Number(row?.[name]);
}

/**
 * One recorder per file: a second one would write every span twice. The writer holds `PATH.lock`
 * (made exclusively, 0600) naming its pid and that process's start; a lock whose process is gone
 * (or whose pid now belongs to another process) is stale and taken over. Readers take no lock.
 */
function takeWriterLock(path: string): () => void {
  const lock = `${path}.lock`;
  const me = `${process.pid} ${processStart(process.pid)}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, me);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(lock, 'utf8') === me) rmSync(lock);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLockHolder(lock);
      if (holder && holderAlive(holder))
        throw new HistoryError(`another Porthole (pid ${holder.pid}) is recording into ${path}; only one may`);
      rmSync(lock, { force: true }); // stale: its recorder was killed
    }
  }
  throw new HistoryError(`could not take ${lock}`);
}

/** A process's start (Linux: clock ticks after boot, from /proc), to tell a reused pid; '' elsewhere. */
function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function readLockHolder(lock: string): { pid: number; start: string } | null {
  try {
    const [pid, start = ''] = readFileSync(lock, 'utf8').slice(0, 64).split(' ');
    return /^\d{1,10}$/.test(pid) ? { pid: Number(pid), start } : null;
  } catch {
    return null;
  }
}

function holderAlive(holder: { pid: number; start: string }): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return holder.start === '' || processStart(holder.pid) === holder.start;
}

export interface HistoryOpening {
  store: HistoryStore;
  /** Said once when the file could not be used as it was (moved aside); null otherwise. */
  note: string | null;
}

export class HistoryStore {
  /** The schema the file has: a reader leaves an older file as it is, and asks only what it holds. */
  readonly version: number;

  private constructor(
    readonly db: Db,
    readonly path: string,
    /** Gives the writer's lock back (readers hold none). */
    private readonly unlock: () => void = () => undefined,
  ) {
    this.version = pragmaNumber(db, 'user_version');
  }

  /**
   * Opens (or makes) the history at `path`: its folder 0700, the file 0600, WAL, the schema
   * migrated. A file that is not a database, or one SQLite finds corrupt, is moved aside with a
   * timestamp and a new one started; one made by a newer Porthole is refused, never changed.
   */
  static open(path: string, readOnly = false): HistoryOpening {
    if (readOnly) {
      if (!existsSync(path))
        throw new HistoryError(`no history at ${path} (is recording on? see "porthole serve --help")`);
      const db = connect(path, { readonly: true, fileMustExist: true });
      const version = pragmaNumber(db, 'user_version');
      // A recorder that has only just made the file has not written its schema yet.
      if (version === 0 || version > HISTORY_SCHEMA_VERSION) {
        db.close();
        throw new HistoryError(
          version === 0
            ? `nothing is recorded at ${path} yet`
            : `the history at ${path} was written by a newer Porthole (schema ${version}, this one knows ${HISTORY_SCHEMA_VERSION})`,
        );
      }
      return { store: new HistoryStore(db, path), note: null };
    }
    makeFolder(dirname(path));
    const unlock = takeWriterLock(path);
    try {
      return HistoryStore.openForWriting(path, unlock);
    } catch (error) {
      unlock();
      throw error;
    }
  }

  private static openForWriting(path: string, unlock: () => void): HistoryOpening {
    // Made here with its mode, not by SQLite (0644 less the umask): it holds command lines.
    if (!existsSync(path)) closeSync(openSync(path, 'wx', 0o600));
    try {
      return { store: HistoryStore.prepare(path, unlock), note: null };
    } catch (error) {
      if (error instanceof HistoryError) throw error;
      const code = (error as { code?: string }).code ?? '';
      if (!/NOTADB|CORRUPT/.test(code)) throw error;
      const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(path, aside);
      for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
      closeSync(openSync(path, 'wx', 0o600));
      return {
        store: HistoryStore.prepare(path, unlock),
        note: `the history at ${path} was unreadable (${code}): moved aside to ${aside}, a new one started`,
      };
    }
  }

  private static prepare(path: string, unlock: () => void): HistoryStore {
    const db = connect(path);
    try {
      // Before any table exists: deleted rows can then be given back to the file system.
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      // A crash loses at most the last transaction (one poll), never the file's consistency.
      db.pragma('synchronous = NORMAL');
      const version = pragmaNumber(db, 'user_version');
      if (version > HISTORY_SCHEMA_VERSION)
        throw new HistoryError(
          `the history at ${path} was written by a newer Porthole (schema ${version}, this one knows ${HISTORY_SCHEMA_VERSION}): left as it is`,
        );
      inTransaction(db, () => {
        for (let v = version; v < HISTORY_SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
        db.exec(`PRAGMA user_version = ${HISTORY_SCHEMA_VERSION}`);
      });
      return new HistoryStore(db, path, unlock);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  meta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  /** The file's size in bytes as SQLite counts it (pages in use and free). */
  sizeBytes(): number {
    return pragmaNumber(this.db, 'page_count') * pragmaNumber(this.db, 'page_size');
  }

  close(): void {
    this.db.close();
    this.unlock();
  }
}
