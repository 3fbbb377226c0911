import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { HeldAppends } from '../contract/event-store.contract.js';
import { appendInTransaction } from '../../src/event-store/postgres/postgres-append.js';
import { channelsOf } from '../../src/event-store/postgres/postgres-rows.js';

/**
 * PostgreSQL for the tests: the server named by POSTGRES_URL (scripts/postgres.sh start prints it), a schema
 * of its own per run so that runs and suites never see each other's events, groups or leases.
 */
export const postgresUrl: string | undefined = process.env.POSTGRES_URL || undefined;

/** A schema name nobody else uses (`ot_test_<12 hex>`). */
export function uniqueSchema(): string {
  return `ot_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

/** Whether the server answers; the error otherwise (a suite then fails loudly rather than skipping). */
export async function probePostgres(url: string): Promise<{ error: string } | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs SQL on a connection of its own (for what the suites check behind the adapter's back). */
export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
}

/**
 * The contract suites' out-of-order appends on PostgreSQL: each append runs in a transaction of its own on a
 * connection of its own, exactly as the adapter runs it, and is held open (its positions taken) until
 * `commit`.
 */
export function postgresHeldAppends(url: string, schema: string): HeldAppends {
  return {
    async begin(streamId, events, expected) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`SET search_path TO ${schema}`);
        await client.query('BEGIN');
        const { result } = await appendInTransaction(
          client,
          streamId,
          events,
          expected,
          channelsOf(schema).events,
        );
        return {
          commit: async () => {
            try {
              await client.query('COMMIT');
              return result;
            } finally {
              await client.end();
            }
          },
        };
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
    },
  };
}
