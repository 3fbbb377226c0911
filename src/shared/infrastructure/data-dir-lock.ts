import { mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openSqlite, whyNotWritable } from './sqlite.js';

/** Another process holds the data directory: the embedded stores are one process's files. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: string,
  ) {
    super(
      `DATA_DIR ${dir} is in use by another ordertrail process (${holder}). The embedded stores serve one ` +
        'process per data directory: stop that one, or give this one another DATA_DIR (several instances ' +
        'share work through a server event store)',
    );
    this.name = 'DataDirInUseError';
  }
}

/** The data directory cannot be used: missing and not creatable, not a directory, read-only, full. */
export class DataDirUnusableError extends Error {
  constructor(
    readonly dir: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `DATA_DIR ${dir} cannot be used: ${reason}. The embedded stores keep their files there (events.sqlite, ` +
        'read.sqlite): give this process a writable directory (chown/chmod it, or set DATA_DIR to another one)',
      options,
    );
    this.name = 'DataDirUnusableError';
  }
}

/** The files the embedded stores write in the data directory (SQLite databases and their journals). */
const STORE_FILE = /\.sqlite(?:-wal|-shm|-journal)?$|^\.ordertrail\.lock/;

/**
 * Throws DataDirUnusableError naming the directory (or the file in it) this process cannot write, and why:
 * SQLite itself only says "unable to open database file" or "attempt to write a readonly database".
 */
function assertUsable(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const why = whyNotWritable(dir, true);
    throw new DataDirUnusableError(dir, why ?? (error as Error).message, why ? {} : { cause: error });
  }
  const why = whyNotWritable(dir, true);
  if (why) throw new DataDirUnusableError(dir, why);
  for (const name of readdirSync(dir)) {
    if (!STORE_FILE.test(name)) continue;
    const file = whyNotWritable(join(dir, name));
    if (file) throw new DataDirUnusableError(dir, file);
  }
}

const LOCK_FILE = '.ordertrail.lock';
const HOLDER_FILE = '.ordertrail.lock.holder';

/** Locks held by this process, by directory: opening the same directory twice in one process is fine. */
const held = new Map<string, { db: Database.Database; users: number }>();

/**
 * Takes the data directory for this process, or throws DataDirInUseError naming the process that has it. The
 * lock is an exclusive SQLite lock (an fcntl lock of the operating system) on a file of its own: it dies with
 * its holder, so a kill -9 leaves nothing to clean up. A small file beside it says who holds it (for the
 * message only; the lock itself is the truth).
 */
export function lockDataDir(dir: string): { release(): void } {
  assertUsable(dir);
  const key = realpathSync(dir);
  const mine = held.get(key);
  if (mine) {
    mine.users++;
    return releaser(key);
  }
  const db = openSqlite(join(key, LOCK_FILE));
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    // In exclusive locking mode the first write takes the lock, which is then kept until the connection closes.
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER, host TEXT, started TEXT); DELETE FROM holder');
  } catch (error) {
    db.close();
    const code = (error as { code?: string }).code;
    if (code?.startsWith('SQLITE_BUSY')) {
      throw new DataDirInUseError(key, holderOf(key));
    }
    // A read-only mount the checks above could not see, a full disk: the lock is the first write.
    if (typeof code === 'string' && /^SQLITE_(READONLY|FULL|IOERR|CANTOPEN|PERM)/.test(code)) {
      throw new DataDirUnusableError(key, `${(error as Error).message} (${code})`, { cause: error });
    }
    throw error;
  }
  const holder = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  db.prepare('INSERT INTO holder (pid, host, started) VALUES (?, ?, ?)').run(
    holder.pid,
    holder.host,
    holder.started,
  );
  writeFileSync(join(key, HOLDER_FILE), `${JSON.stringify(holder)}\n`);
  held.set(key, { db, users: 1 });
  return releaser(key);
}

function releaser(key: string): { release(): void } {
  let released = false;
  return {
    release: () => {
      const lock = held.get(key);
      if (released || !lock) return;
      released = true;
      if (--lock.users > 0) return;
      held.delete(key);
      lock.db.close();
    },
  };
}

function holderOf(dir: string): string {
  try {
    const { pid, host, started } = JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8')) as {
      pid: number;
      host: string;
      started: string;
    };
    return `pid ${pid} on ${host}, since ${started}`;
  } catch {
    return 'its pid is unknown';
  }
}
