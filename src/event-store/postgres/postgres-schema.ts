import type { Pool, PoolClient } from 'pg';
import { transactionPartOf } from './postgres-positions.js';

/** A schema name the adapter accepts: lower-case letters, digits and `_`, short enough for channel names. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;

/** The schema version this code writes; a database at a newer one was migrated by newer code. */
export const SCHEMA_VERSION = 1;

/**
 * The tables, all in one schema of their own (`ordertrail` unless told otherwise; the connections' search_path).
 *
 * - `events`: the log. `position` is the global position (postgres-positions.ts: built from the appending
 *   transaction's id, so that no reader skips an event); `(stream_id, revision)` is unique — the last line of
 *   defence behind the expected-revision check —, and so is `event_id` (an id names one event). `data` and
 *   `metadata` are `json`, not `jsonb`: stored as written, so they read back byte for byte (key order
 *   included). Correlation reads use an index on the metadata's `correlationId`.
 * - `streams`: each stream's last revision (-1 while it has metadata only) and `max_count`. Its row is the
 *   lock an append takes, so appends to one stream queue up while appends to others run side by side.
 * - `consumer_groups`, `consumer_pending`, `consumer_parked`: each group's checkpoint (NULL until it settled
 *   something), the events to deliver again (retries with their due time, replayed parked events) and the
 *   parked ones — as in the embedded store.
 * - `consumer_leases`: which instance delivers a group (one at a time) and until when, unless it renews.
 * - `consumer_instances`: the live instances (a heartbeat row each, with the groups it subscribes to), from
 *   which each instance works out its fair share of the groups (postgres-leases.ts).
 * - `ordertrail_meta`: the schema version and the transaction-id offset of positions.
 */
const VERSION_1 = `
  CREATE TABLE IF NOT EXISTS events (
    position  bigint      PRIMARY KEY,
    stream_id text        NOT NULL,
    revision  bigint      NOT NULL,
    event_id  text        NOT NULL,
    type      text        NOT NULL,
    data      json        NOT NULL,
    metadata  json        NOT NULL,
    created   timestamptz NOT NULL,
    CONSTRAINT events_stream_revision UNIQUE (stream_id, revision),
    CONSTRAINT events_event_id UNIQUE (event_id)
  );
  CREATE INDEX IF NOT EXISTS events_by_correlation ON events ((metadata ->> 'correlationId'), position);
  CREATE TABLE IF NOT EXISTS streams (
    stream_id text    PRIMARY KEY,
    revision  bigint  NOT NULL,
    max_count integer
  );
  CREATE TABLE IF NOT EXISTS consumer_groups (
    name       text        PRIMARY KEY,
    checkpoint bigint,
    created    timestamptz NOT NULL DEFAULT clock_timestamp()
  );
  CREATE TABLE IF NOT EXISTS consumer_pending (
    grp         text        NOT NULL,
    position    bigint      NOT NULL,
    retry_count integer     NOT NULL,
    due_at      timestamptz NOT NULL,
    PRIMARY KEY (grp, position)
  );
  CREATE TABLE IF NOT EXISTS consumer_parked (
    grp         text        NOT NULL,
    position    bigint      NOT NULL,
    reason      text        NOT NULL,
    retry_count integer     NOT NULL,
    parked_at   timestamptz NOT NULL,
    PRIMARY KEY (grp, position)
  );
  CREATE INDEX IF NOT EXISTS consumer_parked_oldest ON consumer_parked (grp, parked_at, position);
  CREATE TABLE IF NOT EXISTS consumer_leases (
    grp         text        PRIMARY KEY,
    owner       text,
    expires_at  timestamptz NOT NULL,
    acquired_at timestamptz NOT NULL
  );
  CREATE TABLE IF NOT EXISTS consumer_instances (
    instance_id  text        PRIMARY KEY,
    incarnation  uuid        NOT NULL,
    groups       text[]      NOT NULL,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
  );
  INSERT INTO ordertrail_meta (key, value) VALUES ('xid_offset', 0) ON CONFLICT (key) DO NOTHING;
`;

/** Each version's DDL, applied in order from the database's version + 1. */
const MIGRATIONS: readonly (readonly [version: number, sql: string])[] = [[1, VERSION_1]];

/**
 * Creates or migrates the schema, idempotently, and checks the positions' transaction-id offset. Safe when
 * several instances start at once: it all runs in one transaction under a transaction-level advisory lock
 * keyed by the schema, so one instance migrates while the others wait, then find nothing left to do (`IF
 * NOT EXISTS` alone is not enough: two concurrent `CREATE TABLE IF NOT EXISTS` can still collide).
 */
export async function migrate(pool: Pool, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new RangeError(`invalid PostgreSQL schema name ${schema}`);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ordertrail-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET LOCAL search_path TO ${schema}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS ordertrail_meta (key text PRIMARY KEY, value bigint NOT NULL)',
    );
    await client.query(
      `INSERT INTO ordertrail_meta (key, value) VALUES ('schema_version', 0) ON CONFLICT (key) DO NOTHING`,
    );
    const { rows } = await client.query<{ value: string }>(
      `SELECT value FROM ordertrail_meta WHERE key = 'schema_version'`,
    );
    const current = Number(rows[0]?.value ?? 0);
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `the PostgreSQL schema ${schema} is at version ${current}, newer than this code's ${SCHEMA_VERSION}: run a newer ordertrail`,
      );
    }
    for (const [version, sql] of MIGRATIONS) {
      if (version <= current) continue;
      await client.query(sql);
      await client.query(`UPDATE ordertrail_meta SET value = $1 WHERE key = 'schema_version'`, [version]);
    }
    await raiseOffsetAfterRestore(client);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * New positions must stay above every stored one. On the cluster that wrote them they do (transaction ids only
 * grow); in another cluster (a restore, a logical copy) the ids may start lower: raise the offset so that this
 * transaction's id — and every later one — makes positions above the newest stored position.
 */
async function raiseOffsetAfterRestore(client: PoolClient): Promise<void> {
  const { rows } = await client.query<{ head: string | null; xid: string; offset: string }>(
    `SELECT (SELECT max(position) FROM events)::text AS head, pg_current_xact_id()::text AS xid,
            (SELECT value FROM ordertrail_meta WHERE key = 'xid_offset')::text AS offset`,
  );
  const row = rows[0];
  if (!row || row.head === null) return;
  const stored = transactionPartOf(BigInt(row.head));
  const next = BigInt(row.xid) + BigInt(row.offset);
  if (next > stored) return;
  const offset = stored + 1n - BigInt(row.xid);
  await client.query(`UPDATE ordertrail_meta SET value = $1 WHERE key = 'xid_offset'`, [offset.toString()]);
}
