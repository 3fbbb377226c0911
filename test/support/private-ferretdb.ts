import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/ferretdb.sh');

/**
 * A FerretDB of a suite's own, for suites that kill and restart their read store: started by
 * scripts/ferretdb.sh in the suite's directory, from the binary `.ci/run` built (cached in `.cache/`).
 * Never the shared server of MONGODB_URI: `stop` is given this one's pid and directory.
 */
export interface PrivateFerretDb {
  readonly uri: string;
  readonly pid: string;
  readonly dir: string;
  readonly port: string;
}

/** Whether scripts/ferretdb.sh has a built binary in `.cache/` (suites that need one skip without it). */
export function ferretDbBuilt(): boolean {
  const cache = join(ROOT, '.cache');
  return (
    existsSync(cache) &&
    readdirSync(cache).some(
      (name) => name.startsWith('ferretdb-') && existsSync(join(cache, name, 'bin/ferretdb')),
    )
  );
}

/** Starts one with its data in `dir`, on `port` (to come back where it was) or a free one. */
export async function startPrivateFerretDb(dir: string, port?: string): Promise<PrivateFerretDb> {
  const { stdout } = await run('bash', [SCRIPT, 'start', dir], {
    env: { ...process.env, ...(port && { FERRETDB_PORT: port }) },
  });
  const value = (name: string) => new RegExp(`export ${name}=(\\S+)`).exec(stdout)?.[1] ?? '';
  const uri = value('MONGODB_URI');
  return { uri, pid: value('FERRETDB_PID'), dir, port: new URL(uri).port };
}

/** Stops it (a process already killed is fine); its directory stays for the suite to remove. */
export async function stopPrivateFerretDb(ferret: PrivateFerretDb | undefined): Promise<void> {
  if (ferret?.pid) await run('bash', [SCRIPT, 'stop', ferret.pid, ferret.dir]).catch(() => undefined);
}

/** The URI of database `name` on the same server. */
export function databaseUri(ferret: PrivateFerretDb, name: string): string {
  return `${ferret.uri.replace(/\/[^/]*$/, '')}/${name}`;
}
