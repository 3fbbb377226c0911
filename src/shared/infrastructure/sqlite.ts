import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';

const require = createRequire(import.meta.url);
const nodeMajor = Number(process.versions.node.split('.')[0]);

/**
 * better-sqlite3 12 wraps its objects with V8's ObjectWrap, which on Node 24.19+ aborts the whole process
 * when the garbage collector finalizes a statement outside a JavaScript context ("Assertion failed: (env)
 * != nullptr", WiseLibs/better-sqlite3#1515) — seen here as a service dying at start on Node 24. Version 13
 * (Node-API) fixes that but segfaults on Node 20. Both have the same API, so each Node gets the one that
 * works with it: 13 (installed under the alias `better-sqlite3-napi`) on Node 22+, 12 on Node 20.
 */
const Driver = (
  nodeMajor >= 22 ? require('better-sqlite3-napi') : require('better-sqlite3')
) as typeof Database;

/** An SQLite file that cannot be opened: the message names it and says why, when the file system tells. */
export class SqliteOpenError extends Error {
  readonly code: string | undefined;
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    const code = (cause as { code?: unknown }).code;
    const why = whyNotWritable(file);
    super(
      `cannot open ${file}: ${cause instanceof Error ? cause.message : String(cause)}` +
        (typeof code === 'string' ? ` (${code})` : '') +
        (why ? `; ${why}` : ''),
      { cause },
    );
    this.name = 'SqliteOpenError';
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/** Opens (creating it if needed) an SQLite database file with the driver that suits this Node. */
export function openSqlite(file: string, options?: Database.Options): Database.Database {
  try {
    return new Driver(file, options);
  } catch (error) {
    // SQLite says only "unable to open database file": the file system says which path and why.
    throw new SqliteOpenError(file, error);
  }
}

function failure(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'string' ? code : String(message);
}

/**
 * Why this process cannot write `path` (a file, or a directory with `directory`), or null when it can: it
 * is missing, not a directory (or a directory where a file is expected), on a read-only file system
 * (EROFS), or not writable for this user (EACCES, with the uid).
 */
export function whyNotWritable(path: string, directory = false): string | null {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = failure(error);
    if (code === 'ENOTDIR') return `a part of ${path} is a file, not a directory (ENOTDIR)`;
    if (code !== 'ENOENT') return `${path} cannot be read (${code})`;
    if (directory) return `${path} does not exist`;
    return whyNotWritable(dirname(path), true);
  }
  if (directory && !stats.isDirectory()) return `${path} is not a directory`;
  if (!directory && stats.isDirectory()) return `${path} is a directory`;
  try {
    accessSync(path, directory ? constants.W_OK | constants.X_OK : constants.R_OK | constants.W_OK);
    return null;
  } catch (error) {
    const code = failure(error);
    const who = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
    if (code === 'EROFS') return `${path} is on a read-only file system (EROFS)`;
    return `${path} is not writable by this process${who} (${code})`;
  }
}

/** Which driver this process uses (for logs and the health of the embedded stores). */
export const SQLITE_DRIVER = `better-sqlite3 ${(require(nodeMajor >= 22 ? 'better-sqlite3-napi/package.json' : 'better-sqlite3/package.json') as { version: string }).version}`;
