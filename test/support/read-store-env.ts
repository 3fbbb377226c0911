import { randomUUID } from 'node:crypto';
import { afterAll } from '@jest/globals';
import { MongoClient } from 'mongodb';

/** The databases this test file created on the MongoDB server, dropped once the file is done. */
const createdDatabases = new Set<string>();
let dropRegistered = false;

/**
 * Environments for running the app on each read store: embedded always, MongoDB (a database of its own per
 * call, so suites never see each other's documents) when MONGODB_URI is set.
 *
 * The MongoDB databases are dropped after the test file (not when one app closes: restart tests reopen the
 * same database). FerretDB on SQLite keeps one file open per database until it is dropped, so a whole run
 * that never drops them ends with "unable to open database file" once the server's file limit is reached.
 */
export function readStoreEnvs(): [name: string, env: () => Record<string, string>][] {
  const envs: [string, () => Record<string, string>][] = [['embedded read store', () => ({})]];
  const uri = process.env.MONGODB_URI;
  if (uri) {
    registerDrop(uri);
    envs.push([
      'MongoDB read store',
      () => {
        const database = `e2e_${randomUUID().slice(0, 8)}`;
        createdDatabases.add(database);
        return { MONGODB_URI: withDatabase(uri, database) };
      },
    ]);
  } else process.stdout.write('MongoDB runs of this suite skipped: MONGODB_URI is not set\n');
  return envs;
}

function registerDrop(uri: string): void {
  if (dropRegistered) return;
  dropRegistered = true;
  afterAll(async () => {
    if (createdDatabases.size === 0) return;
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
    try {
      for (const database of createdDatabases) await client.db(database).dropDatabase();
      createdDatabases.clear();
    } finally {
      await client.close();
    }
  }, 60_000);
}

/** The same server with another database (the path of a mongodb:// URI names the database). */
export function withDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}
