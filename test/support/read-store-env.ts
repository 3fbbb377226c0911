import { randomUUID } from 'node:crypto';

/**
 * Environments for running the app on each read store: embedded always, MongoDB (a database of its own per
 * call, so suites never see each other's documents) when MONGODB_URI is set.
 */
export function readStoreEnvs(): [name: string, env: () => Record<string, string>][] {
  const envs: [string, () => Record<string, string>][] = [['embedded read store', () => ({})]];
  const uri = process.env.MONGODB_URI;
  if (uri)
    envs.push([
      'MongoDB read store',
      () => ({ MONGODB_URI: withDatabase(uri, `e2e_${randomUUID().slice(0, 8)}`) }),
    ]);
  else process.stdout.write('MongoDB runs of this suite skipped: MONGODB_URI is not set\n');
  return envs;
}

/** The same server with another database (the path of a mongodb:// URI names the database). */
export function withDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}
