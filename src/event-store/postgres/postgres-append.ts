import type { ClientBase } from 'pg';
import {
  WrongExpectedRevisionError,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
} from '../event-store.port.js';
import { EVENTS_PER_TRANSACTION, POSITION_BASE } from './postgres-positions.js';
import { sqlBigint } from './postgres-rows.js';

/**
 * Locks the stream's row for the rest of the transaction (creating it at revision -1 if it is missing; a
 * rolled-back append takes that row with it) and answers its revision. A second append to the same stream
 * waits here until the first commits or rolls back, then reads the revision the first left.
 */
const LOCK_STREAM = `
  INSERT INTO streams AS s (stream_id, revision) VALUES ($1, -1)
  ON CONFLICT (stream_id) DO UPDATE SET revision = s.revision
  RETURNING revision::text`;

/**
 * Inserts the events (positions from this transaction's id: postgres-positions.ts), moves the stream's
 * revision and notifies the schema's listeners — the notification leaves at commit, never before.
 */
const INSERT_EVENTS = `
  WITH inserted AS (
    INSERT INTO events (position, stream_id, revision, event_id, type, data, metadata, created)
    SELECT ${POSITION_BASE} + (t.n - 1), $1, $2::bigint + t.n, t.id, t.type, t.data::json, t.metadata::json,
           date_trunc('milliseconds', statement_timestamp())
    FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS t(id, type, data, metadata, n)
    RETURNING position
  ), moved AS (
    UPDATE streams SET revision = $7::bigint WHERE stream_id = $1
  )
  SELECT max(position)::text AS last, pg_notify($8, max(position)::text) FROM inserted`;

const EVENT_BY_ID = 'SELECT stream_id, revision::text FROM events WHERE event_id = $1';
const IDS_FROM = `
  SELECT event_id, position::text, revision::text FROM events
  WHERE stream_id = $1 AND revision >= $2 ORDER BY revision LIMIT $3`;

export interface AppendOutcome {
  readonly result: AppendResult;
  /** False when nothing was written (a retried append, or no events): roll back rather than commit. */
  readonly wrote: boolean;
}

/**
 * One append inside a transaction the caller opened (and commits when `wrote`): the expected revision is
 * checked under the stream's row lock; the unique (stream_id, revision) constraint stands behind it. The
 * same event ids already appended at the expected position make a retried append: it succeeds with the first
 * one's answer and writes nothing (EventStoreDB's idempotent append).
 */
export async function appendInTransaction(
  client: ClientBase,
  streamId: string,
  events: readonly EventToAppend[],
  expected: ExpectedRevision,
  channel: string,
): Promise<AppendOutcome> {
  if (events.length > EVENTS_PER_TRANSACTION) {
    throw new RangeError(`an append holds at most ${EVENTS_PER_TRANSACTION} events (got ${events.length})`);
  }
  const locked = await client.query<{ revision: string }>(LOCK_STREAM, [streamId]);
  const current = BigInt(locked.rows[0]?.revision ?? '-1');
  const matches =
    expected === 'any' ||
    (expected === 'no_stream' && current === -1n) ||
    (expected === 'stream_exists' && current >= 0n) ||
    (typeof expected === 'bigint' && current === expected);

  const replay = await previousAppend(client, streamId, events, expected, matches);
  if (replay) return { result: replay, wrote: false };
  if (!matches) {
    throw new WrongExpectedRevisionError(streamId, expected, current < 0n ? 'no_stream' : current);
  }
  if (events.length === 0) return { result: { nextExpectedRevision: current, position: -1n }, wrote: false };

  const next = current + BigInt(events.length);
  const inserted = await client.query<{ last: string }>(INSERT_EVENTS, [
    streamId,
    sqlBigint(current),
    events.map((event) => event.id),
    events.map((event) => event.type),
    events.map((event) => JSON.stringify(event.data)),
    events.map((event) => JSON.stringify(event.metadata)),
    sqlBigint(next),
    channel,
  ]);
  const last = inserted.rows[0]?.last;
  if (last === undefined) throw new Error(`the append to ${streamId} inserted no event`);
  return { result: { nextExpectedRevision: next, position: BigInt(last) }, wrote: true };
}

/**
 * The same event ids already appended where this append expects to write: a retried append. Answer what the
 * first one answered, saying it was a duplicate (the same rule as the embedded store).
 */
async function previousAppend(
  client: ClientBase,
  streamId: string,
  events: readonly EventToAppend[],
  expected: ExpectedRevision,
  matches: boolean,
): Promise<AppendResult | null> {
  const first = events[0];
  if (!first) return null;
  let from: bigint;
  if (!matches && expected === 'no_stream') from = 0n;
  else if (!matches && typeof expected === 'bigint') from = expected + 1n;
  else if (expected === 'any' || expected === 'stream_exists') {
    const { rows } = await client.query<{ stream_id: string; revision: string }>(EVENT_BY_ID, [first.id]);
    const existing = rows[0];
    if (!existing || existing.stream_id !== streamId) return null;
    from = BigInt(existing.revision);
  } else return null;
  const { rows } = await client.query<{ event_id: string; position: string; revision: string }>(IDS_FROM, [
    streamId,
    sqlBigint(from),
    events.length,
  ]);
  if (rows.length !== events.length || rows.some((row, i) => row.event_id !== events[i]!.id)) return null;
  const last = rows[rows.length - 1]!;
  return { nextExpectedRevision: BigInt(last.revision), position: BigInt(last.position), duplicate: true };
}
