import type Database from 'better-sqlite3';
import { openSqlite } from '../../shared/infrastructure/sqlite.js';
import type { DeliveredEvent, DeliveryOutcome, ParkedEvent } from '../consumer-groups.port.js';
import { planSettlement, type RetrySchedule } from '../consumer-group-rules.js';
import { EVENT_COLUMNS, eventColumnsOf, placeholders, toRecorded, type EventRow } from './embedded-rows.js';

/**
 * Consumer-group state, in the store's own SQLite file. `checkpoint` is NULL until the group has settled
 * something (the port's "null checkpoint"). `consumer_pending` holds the events to deliver again (retries
 * with their due time, replayed parked events) and `consumer_parked` the parked ones: both are tables, not
 * memory, so that a restart still delivers a retry and still lists a parked event. No extra index on
 * `events`: the delivery query walks the primary key between the group's cursor and the head, and the
 * cursor skips past events of other types, so every event is read at most once per group (measured with
 * 100k events of mixed types: a (type, position) index only paid off for a 1% type, 16 ms → 2.5 ms per
 * 100k events, and cost every append ~2 µs more CPU and the file ~5% more space).
 */
export const CONSUMER_GROUP_SCHEMA = `
  CREATE TABLE IF NOT EXISTS consumer_groups (
    name       TEXT    PRIMARY KEY,
    checkpoint INTEGER,
    created    INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS consumer_pending (
    grp         TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    retry_count INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    PRIMARY KEY (grp, position)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS consumer_parked (
    grp         TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    retry_count INTEGER NOT NULL,
    parked_at   INTEGER NOT NULL,
    PRIMARY KEY (grp, position)
  ) WITHOUT ROWID;
`;

/** An event of `consumer_pending` that is due, with the deliveries it had before. */
export interface PendingRow extends EventRow {
  retry_count: number;
}

interface ParkedRow extends EventRow {
  reason: string;
  retry_count: number;
  parked_at: number;
}

/** A handled batch, as the tables record it. */
export interface SettledBatch {
  readonly events: readonly DeliveredEvent[];
  /** The first `fromPending` events came from consumer_pending (their row goes once they are settled). */
  readonly fromPending: number;
  readonly outcomes: readonly DeliveryOutcome[];
  /** The group's new checkpoint (null: unchanged). */
  readonly checkpoint: number | null;
}

/**
 * The consumer groups' access to the file: checkpoints, pending redeliveries and parked events, and the
 * queries that find what to deliver. Every statement is prepared once.
 *
 * A connection of its own with `synchronous=NORMAL`: settling a batch then costs no fsync, and the append
 * path keeps its group commit to itself. WAL keeps each settle atomic; a power cut can lose only the latest
 * settles (until the next append's fsync or checkpoint carries them), which means redelivery from an older
 * checkpoint, never a lost or skipped event: consumers are at-least-once anyway, and events are fsynced
 * (FULL) before any consumer sees them. better-sqlite3 is synchronous, so two connections in one thread
 * never hold transactions at the same time and never wait on each other.
 */
export class ConsumerGroupTables {
  private readonly db: Database.Database;
  private readonly freshByTypeCount = new Map<number, Database.Statement<unknown[], EventRow>>();
  private readonly stmt: {
    ensureGroup: Database.Statement<[string, number]>;
    checkpoint: Database.Statement<[string], { checkpoint: number | null }>;
    setCheckpoint: Database.Statement<[number, string]>;
    head: Database.Statement<[], { head: number | null }>;
    duePending: Database.Statement<[string, number, number], PendingRow>;
    nextDue: Database.Statement<[string], { due: number | null }>;
    upsertPending: Database.Statement<[string, number, number, number]>;
    deletePending: Database.Statement<[string, number]>;
    park: Database.Statement<[string, number, string, number, number]>;
    listParked: Database.Statement<[string, number], ParkedRow>;
    oldestParked: Database.Statement<[string, number], { position: number }>;
    unpark: Database.Statement<[string, number]>;
    parkedCount: Database.Statement<[string], { n: number }>;
  };
  private readonly replayTx: Database.Transaction<(group: string, limit: number, now: number) => number>;
  private readonly settleTx: Database.Transaction<
    (group: string, maxRetries: number, batch: SettledBatch) => void
  >;

  constructor(
    file: string,
    private readonly retry: RetrySchedule,
  ) {
    this.db = openSqlite(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(CONSUMER_GROUP_SCHEMA);
    const e = eventColumnsOf('e');
    this.stmt = {
      ensureGroup: this.db.prepare(
        'INSERT INTO consumer_groups (name, checkpoint, created) VALUES (?, NULL, ?) ON CONFLICT (name) DO NOTHING',
      ),
      checkpoint: this.db.prepare('SELECT checkpoint FROM consumer_groups WHERE name = ?'),
      setCheckpoint: this.db.prepare('UPDATE consumer_groups SET checkpoint = ? WHERE name = ?'),
      head: this.db.prepare('SELECT MAX(position) AS head FROM events'),
      // Joined with events so that a pending row can never be "due" without an event to deliver.
      duePending: this.db.prepare(
        `SELECT p.retry_count, ${e} FROM consumer_pending p JOIN events e ON e.position = p.position
         WHERE p.grp = ? AND p.due_at <= ? ORDER BY p.position LIMIT ?`,
      ),
      nextDue: this.db.prepare(
        `SELECT MIN(p.due_at) AS due FROM consumer_pending p JOIN events e ON e.position = p.position
         WHERE p.grp = ?`,
      ),
      upsertPending: this.db.prepare(
        `INSERT INTO consumer_pending (grp, position, retry_count, due_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (grp, position) DO UPDATE SET retry_count = excluded.retry_count, due_at = excluded.due_at`,
      ),
      deletePending: this.db.prepare('DELETE FROM consumer_pending WHERE grp = ? AND position = ?'),
      park: this.db.prepare(
        `INSERT INTO consumer_parked (grp, position, reason, retry_count, parked_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (grp, position) DO UPDATE SET
           reason = excluded.reason, retry_count = excluded.retry_count, parked_at = excluded.parked_at`,
      ),
      listParked: this.db.prepare(
        `SELECT p.reason, p.retry_count, p.parked_at, ${e} FROM consumer_parked p
         JOIN events e ON e.position = p.position
         WHERE p.grp = ? ORDER BY p.parked_at, p.position LIMIT ?`,
      ),
      oldestParked: this.db.prepare(
        'SELECT position FROM consumer_parked WHERE grp = ? ORDER BY parked_at, position LIMIT ?',
      ),
      unpark: this.db.prepare('DELETE FROM consumer_parked WHERE grp = ? AND position = ?'),
      parkedCount: this.db.prepare('SELECT COUNT(*) AS n FROM consumer_parked WHERE grp = ?'),
    };
    this.replayTx = this.db.transaction((group: string, limit: number, now: number) => {
      const rows = this.stmt.oldestParked.all(group, limit);
      for (const { position } of rows) {
        this.stmt.upsertPending.run(group, position, 0, now);
        this.stmt.unpark.run(group, position);
      }
      return rows.length;
    });
    this.settleTx = this.db.transaction((group: string, maxRetries: number, batch: SettledBatch) =>
      this.settleInTransaction(group, maxRetries, batch),
    );
  }

  /** Creates the group's row (no checkpoint yet) unless it exists. */
  ensureGroup(group: string, now: number): void {
    this.stmt.ensureGroup.run(group, now);
  }

  checkpoint(group: string): number | null {
    return this.stmt.checkpoint.get(group)?.checkpoint ?? null;
  }

  setCheckpoint(group: string, checkpoint: number): void {
    this.stmt.setCheckpoint.run(checkpoint, group);
  }

  /** Position of the newest event in the file (0 when empty). */
  head(): number {
    return this.stmt.head.get()?.head ?? 0;
  }

  /** Pending redeliveries of the group due by `now`, oldest position first. */
  duePending(group: string, now: number, limit: number): PendingRow[] {
    return this.stmt.duePending.all(group, now, limit);
  }

  /** Earliest due time of the group's pending redeliveries (Infinity: none). */
  nextDue(group: string): number {
    return this.stmt.nextDue.get(group)?.due ?? Number.POSITIVE_INFINITY;
  }

  /** Events of these types after `after` and up to `upTo`, in position order. */
  freshEvents(types: readonly string[], after: number, upTo: number, limit: number): EventRow[] {
    return this.freshStatement(types.length).all(after, upTo, ...types, limit);
  }

  /** One transaction: every outcome and the new checkpoint, or nothing (then the batch comes again). */
  settle(group: string, maxRetries: number, batch: SettledBatch): void {
    this.settleTx(group, maxRetries, batch);
  }

  listParked(group: string, limit: number): ParkedEvent[] {
    return this.stmt.listParked.all(group, limit).map((row) => ({
      event: toRecorded(row),
      reason: row.reason,
      retryCount: row.retry_count,
      parkedAt: new Date(row.parked_at),
    }));
  }

  parkedCount(group: string): number {
    return this.stmt.parkedCount.get(group)?.n ?? 0;
  }

  /** Parked → pending with retry count 0, due at `now`, oldest first (limit -1: all); answers how many. */
  replayParked(group: string, limit: number, now: number): number {
    return this.replayTx.immediate(group, limit, now);
  }

  close(): void {
    this.db.close();
  }

  private settleInTransaction(group: string, maxRetries: number, batch: SettledBatch): void {
    const { stmt } = this;
    const now = Date.now();
    const plan = planSettlement(batch.events, batch.fromPending, batch.outcomes, maxRetries, this.retry);
    for (const retry of plan.retries) {
      stmt.upsertPending.run(group, Number(retry.position), retry.retryCount, now + retry.delayMs);
    }
    for (const park of plan.parks) {
      stmt.park.run(group, Number(park.position), park.reason, park.retryCount, now);
    }
    for (const position of plan.unpend) stmt.deletePending.run(group, Number(position));
    if (batch.checkpoint !== null) stmt.setCheckpoint.run(batch.checkpoint, group);
  }

  /** The delivery query for `count` event types, prepared once per count. */
  private freshStatement(count: number): Database.Statement<unknown[], EventRow> {
    let stmt = this.freshByTypeCount.get(count);
    if (!stmt) {
      stmt = this.db.prepare<unknown[], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ? AND type IN (${placeholders(count)})
         ORDER BY position LIMIT ?`,
      );
      this.freshByTypeCount.set(count, stmt);
    }
    return stmt;
  }
}
