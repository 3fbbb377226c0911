import { createRequire } from 'node:module';
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

/** Opens (creating it if needed) an SQLite database file with the driver that suits this Node. */
export function openSqlite(file: string, options?: Database.Options): Database.Database {
  return new Driver(file, options);
}

/** Which driver this process uses (for logs and the health of the embedded stores). */
export const SQLITE_DRIVER = `better-sqlite3 ${(require(nodeMajor >= 22 ? 'better-sqlite3-napi/package.json' : 'better-sqlite3/package.json') as { version: string }).version}`;
