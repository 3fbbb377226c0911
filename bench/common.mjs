/** Helpers every part of `npm run bench` shares. */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MongoClient } from 'mongodb';

/** Imports a compiled module of the service (dist/, built by `npm run bench`). */
export async function importDist(root, relative) {
  const file = join(root, 'dist', relative);
  try {
    return await import(pathToFileURL(file).href);
  } catch (error) {
    throw new Error(`cannot import ${file} (run \`npm run build\` first): ${error?.message ?? error}`, {
      cause: error,
    });
  }
}

/** An HS256 bearer token valid for six hours. */
export function signJwt(claims, secret) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iat: now, exp: now + 6 * 3600, ...claims })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** A loopback port nothing listens on right now. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** A process's resident memory in MB (NaN when it cannot be read). */
export function rssMegabytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * What serves a MongoDB URI, for a table's heading: FerretDB and its version when `buildInfo` says so, and its
 * backend when FERRETDB_PID is a FerretDB process listening on the URI's port (its command line names the
 * handler: the server itself does not tell).
 */
export async function describeMongo(uri) {
  const { host } = new URL(uri);
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  let info;
  try {
    info = await client.db('admin').command({ buildInfo: 1 });
  } finally {
    await client.close();
  }
  if (typeof info.ferretdbVersion !== 'string') return `MongoDB ${info.version} at ${host}`;
  let backend = 'an unknown backend (FERRETDB_PID is not the server at MONGODB_URI)';
  try {
    const args = readFileSync(`/proc/${process.env.FERRETDB_PID}/cmdline`, 'utf8').split('\0');
    const listen = args
      .find((a) => a.startsWith('--listen-addr='))
      ?.split(':')
      .pop();
    const handler = args.find((a) => a.startsWith('--handler='))?.slice('--handler='.length);
    if (listen === new URL(uri).port)
      backend = { postgresql: 'PostgreSQL', sqlite: 'SQLite' }[handler] ?? `handler ${handler ?? 'unknown'}`;
  } catch {
    // no FERRETDB_PID, or that process is gone
  }
  return `FerretDB ${info.ferretdbVersion} on ${backend}`;
}

const TICK_MS = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10;
  }
})();

/**
 * A process's user + system CPU time in milliseconds, from /proc/<pid>/stat (Linux; null when it cannot be
 * read). The same reading as bench/postgres.mjs's, shared here for the http part's CPU per command.
 */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime is field 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}
