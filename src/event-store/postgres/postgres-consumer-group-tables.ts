import type { Pool } from 'pg';
import type { ParkedEvent } from '../consumer-groups.port.js';
import type { Settlement } from '../consumer-group-rules.js';
import { VISIBLE_BELOW } from './postgres-positions.js';
import { eventColumns, sqlBigint, toRecorded, type EventRow } from './postgres-rows.js';

/** An event of `consumer_pending` that is due, with the deliveries it had before. */
export interface PendingRow extends EventRow {
  retry_count: number;
}

interface ParkedRow extends EventRow {
  reason: string;
  retry_count: number;
  parked_at: Date;
}

/** A page of fresh events for a group, and what the reader may and may not see yet. */
export interface FreshPage {
  readonly events: EventRow[];
  /**
   * The newest position readers may see (below the horizon), whatever its type: when the page is not full,
   * every matching event up to it was in the page. Null: no event is visible yet.
   */
  readonly visibleHead: bigint | null;
  /** Committed events lie above the horizon (a transaction that began earlier is still open): look again soon. */
  readonly blocked: boolean;
}

const E = eventColumns('e');

/**
 * Fresh events of a group's types after its cursor, below the horizon (postgres-positions.ts), with the
 * newest visible position and the newest committed one: the loop needs both to know how far it has looked
 * and whether something it cannot see yet is waiting.
 */
const FRESH = `
  SELECT b.visible_head::text, b.head::text, ${eventColumns('f')}
  FROM (
    SELECT v.visible_below,
           (SELECT max(position) FROM events WHERE position < v.visible_below) AS visible_head,
           (SELECT max(position) FROM events) AS head
    FROM (SELECT ${VISIBLE_BELOW} AS visible_below) v
  ) b
  LEFT JOIN LATERAL (
    SELECT ${E} FROM events e
    WHERE e.position > $1 AND e.position < b.visible_below AND e.type = ANY($2::text[])
    ORDER BY e.position LIMIT $3
  ) f ON true
  ORDER BY f.position`;

const DUE = `
  SELECT p.retry_count, ${E} FROM consumer_pending p JOIN events e ON e.position = p.position
  WHERE p.grp = $1 AND p.due_at <= clock_timestamp() ORDER BY p.position LIMIT $2`;

const NEXT_DUE = `
  SELECT (extract(epoch FROM min(due_at) - clock_timestamp()) * 1000)::float8 AS in_ms
  FROM consumer_pending WHERE grp = $1`;

/**
 * Every outcome of a batch and the group's new checkpoint in one statement — only while this instance holds
 * the group's lease, checked (and held against a take-over, FOR SHARE) in the same statement. The checkpoint
 * only moves forwards.
 */
const SETTLE = `
  WITH lease AS (
    SELECT 1 FROM consumer_leases WHERE grp = $1 AND owner = $2 FOR SHARE
  ), retried AS (
    INSERT INTO consumer_pending (grp, position, retry_count, due_at)
    SELECT $1, r.position, r.retry_count, clock_timestamp() + r.delay_ms * interval '1 millisecond'
    FROM unnest($3::bigint[], $4::int[], $5::float8[]) AS r(position, retry_count, delay_ms)
    WHERE EXISTS (SELECT 1 FROM lease)
    ON CONFLICT (grp, position) DO UPDATE SET retry_count = excluded.retry_count, due_at = excluded.due_at
  ), parked AS (
    INSERT INTO consumer_parked (grp, position, reason, retry_count, parked_at)
    SELECT $1, p.position, p.reason, p.retry_count, clock_timestamp()
    FROM unnest($6::bigint[], $7::text[], $8::int[]) AS p(position, reason, retry_count)
    WHERE EXISTS (SELECT 1 FROM lease)
    ON CONFLICT (grp, position) DO UPDATE SET
      reason = excluded.reason, retry_count = excluded.retry_count, parked_at = excluded.parked_at
  ), unpended AS (
    DELETE FROM consumer_pending
    WHERE grp = $1 AND position = ANY($9::bigint[]) AND EXISTS (SELECT 1 FROM lease)
  ), moved AS (
    UPDATE consumer_groups SET checkpoint = GREATEST(coalesce(checkpoint, $10::bigint), $10::bigint)
    WHERE name = $1 AND $10::bigint IS NOT NULL AND EXISTS (SELECT 1 FROM lease)
  )
  SELECT EXISTS (SELECT 1 FROM lease) AS owned`;

const PARKED = `
  SELECT p.reason, p.retry_count, p.parked_at, ${E} FROM consumer_parked p
  JOIN events e ON e.position = p.position
  WHERE p.grp = $1 ORDER BY p.parked_at, p.position LIMIT $2`;

/** The oldest parked events back to pending (retry count 0, due now); the group's owner is told. */
const REPLAY = `
  WITH oldest AS (
    SELECT position FROM consumer_parked WHERE grp = $1 ORDER BY parked_at, position LIMIT $2 FOR UPDATE
  ), moved AS (
    DELETE FROM consumer_parked p USING oldest o WHERE p.grp = $1 AND p.position = o.position
    RETURNING p.position
  ), pending AS (
    INSERT INTO consumer_pending (grp, position, retry_count, due_at)
    SELECT $1, position, 0, clock_timestamp() FROM moved
    ON CONFLICT (grp, position) DO UPDATE SET retry_count = 0, due_at = excluded.due_at
  ), counted AS (SELECT count(*)::int AS n FROM moved)
  SELECT n, CASE WHEN n > 0 THEN pg_notify($3, 'replay:' || $1) END FROM counted`;

const INFO = `
  SELECT (SELECT checkpoint FROM consumer_groups WHERE name = $1)::text AS checkpoint,
         (SELECT count(*) FROM consumer_parked WHERE grp = $1)::int AS parked,
         (SELECT owner FROM consumer_leases WHERE grp = $1 AND expires_at > clock_timestamp()) AS owner`;

/**
 * The consumer groups' state in PostgreSQL — checkpoints, pending redeliveries, parked events — and the
 * queries that find what to deliver. The same tables and rules as the embedded store's, with two additions:
 * fresh events are read below the visibility horizon only, and every write a group's delivery makes is
 * conditional on this instance holding the group's lease.
 */
export class PostgresConsumerGroupTables {
  constructor(
    private readonly pool: Pool,
    /** The schema's groups channel (replayed parked events are announced there). */
    private readonly channel: string,
  ) {}

  async ensureGroup(group: string): Promise<void> {
    await this.pool.query('INSERT INTO consumer_groups (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [
      group,
    ]);
  }

  async checkpoint(group: string): Promise<bigint | null> {
    const { rows } = await this.pool.query<{ checkpoint: string | null }>(
      'SELECT checkpoint::text FROM consumer_groups WHERE name = $1',
      [group],
    );
    const checkpoint = rows[0]?.checkpoint ?? null;
    return checkpoint === null ? null : BigInt(checkpoint);
  }

  /** Pending redeliveries of the group that are due, oldest position first. */
  async duePending(group: string, limit: number): Promise<PendingRow[]> {
    return (await this.pool.query<PendingRow>(DUE, [group, limit])).rows;
  }

  /** This process's clock time when the earliest pending redelivery falls due (Infinity: none). */
  async nextDue(group: string): Promise<number> {
    const { rows } = await this.pool.query<{ in_ms: number | null }>(NEXT_DUE, [group]);
    const inMs = rows[0]?.in_ms ?? null;
    return inMs === null ? Number.POSITIVE_INFINITY : Date.now() + Math.max(0, inMs);
  }

  async freshEvents(types: readonly string[], after: bigint, limit: number): Promise<FreshPage> {
    const { rows } = await this.pool.query<
      { visible_head: string | null; head: string | null } & { [K in keyof EventRow]: EventRow[K] | null }
    >(FRESH, [sqlBigint(after), types, limit]);
    const first = rows[0];
    const visibleHead = first?.visible_head == null ? null : BigInt(first.visible_head);
    const head = first?.head == null ? null : BigInt(first.head);
    const events = rows.filter((row): row is typeof row & EventRow => row.position !== null);
    return { events, visibleHead, blocked: head !== null && (visibleHead === null || head > visibleHead) };
  }

  /** Writes a settled batch; false (and nothing written) when this instance no longer holds the lease. */
  async settle(group: string, owner: string, plan: Settlement, checkpoint: bigint | null): Promise<boolean> {
    const { rows } = await this.pool.query<{ owned: boolean }>(SETTLE, [
      group,
      owner,
      plan.retries.map((r) => sqlBigint(r.position)),
      plan.retries.map((r) => r.retryCount),
      plan.retries.map((r) => r.delayMs),
      plan.parks.map((p) => sqlBigint(p.position)),
      plan.parks.map((p) => p.reason),
      plan.parks.map((p) => p.retryCount),
      plan.unpend.map(sqlBigint),
      checkpoint === null ? null : sqlBigint(checkpoint),
    ]);
    return rows[0]?.owned === true;
  }

  async listParked(group: string, limit: number | null): Promise<ParkedEvent[]> {
    const { rows } = await this.pool.query<ParkedRow>(PARKED, [group, limit]);
    return rows.map((row) => ({
      event: toRecorded(row),
      reason: row.reason,
      retryCount: row.retry_count,
      parkedAt: row.parked_at,
    }));
  }

  /** Parked → pending (retry count 0, due now), oldest first (limit null: all); answers how many. */
  async replayParked(group: string, limit: number | null): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(REPLAY, [group, limit, this.channel]);
    return rows[0]?.n ?? 0;
  }

  async info(
    group: string,
  ): Promise<{ checkpoint: bigint | null; parkedCount: number; owner: string | null }> {
    const { rows } = await this.pool.query<{
      checkpoint: string | null;
      parked: number;
      owner: string | null;
    }>(INFO, [group]);
    const row = rows[0];
    return {
      checkpoint: row?.checkpoint == null ? null : BigInt(row.checkpoint),
      parkedCount: row?.parked ?? 0,
      owner: row?.owner ?? null,
    };
  }
}
