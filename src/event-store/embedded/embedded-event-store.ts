import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { openSqlite } from '../../shared/infrastructure/sqlite.js';
import {
  EventStore,
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
  type AppendResult,
  type ConsumerGroupInfo,
  type ConsumerGroupSettings,
  type DeliveryHandler,
  type EventToAppend,
  type ExpectedRevision,
  type GroupSubscription,
  type ParkedEvent,
  type ReadAllOptions,
  type ReadByCorrelationOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamMetadata,
} from '../event-store.port.js';
import {
  EmbeddedConsumerGroups,
  type ConsumerGroupOptions,
  type ConsumerGroupStats,
} from './embedded-consumer-groups.js';
import { EVENT_COLUMNS, placeholders, toRecorded, type EventRow } from './embedded-rows.js';

export type EmbeddedEventStoreOptions = ConsumerGroupOptions;

interface PendingAppend {
  readonly streamId: string;
  readonly events: readonly EventToAppend[];
  readonly expected: ExpectedRevision;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position  INTEGER PRIMARY KEY,
    stream_id TEXT    NOT NULL,
    revision  INTEGER NOT NULL,
    event_id  TEXT    NOT NULL UNIQUE,
    type      TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    metadata  TEXT    NOT NULL,
    created   INTEGER NOT NULL,
    UNIQUE (stream_id, revision)
  );
  CREATE TABLE IF NOT EXISTS streams (
    stream_id TEXT PRIMARY KEY,
    revision  INTEGER NOT NULL,
    max_count INTEGER
  ) WITHOUT ROWID;
  -- Audit: every event of one request or process (GET /correlations/:id) without scanning the log. An
  -- expression index, so the events table and every existing row stay as they are; the first start on an
  -- older file builds it once.
  CREATE INDEX IF NOT EXISTS events_by_correlation
    ON events (json_extract(metadata, '$.correlationId'), position);
`;

const COLUMNS = EVENT_COLUMNS;

/** Raised inside the batch transaction for one append; rolls back only that append's savepoint. */
class AppendRejected extends Error {
  constructor(readonly reason: unknown) {
    super('append rejected');
  }
}

/**
 * The embedded event store: one SQLite file in WAL mode with `synchronous=FULL`, so an acknowledged append
 * survives a power cut. Throughput comes from group commit: every append requested during one event-loop
 * turn is committed in one transaction (one fsync), each append still checked on its own inside its own
 * savepoint, so one failing append never takes the others down.
 *
 * Consumer groups (see EmbeddedConsumerGroups) keep their state in the same file through a second
 * connection, and wake up on this store's post-commit notification instead of polling the file.
 */
export class EmbeddedEventStore extends EventStore {
  private readonly db: Database.Database;
  private readonly emitter = new EventEmitter();
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly consumers: EmbeddedConsumerGroups;
  private readonly filteredAll = new Map<number, Database.Statement<unknown[], EventRow>>();
  /** COUNT statements by number of event types (0: every type). */
  private readonly countStatements = new Map<number, Database.Statement<unknown[], { n: number }>>();

  private readonly stmt: {
    streamRevision: Database.Statement<[string], { revision: number; max_count: number | null }>;
    insertEvent: Database.Statement<[string, number, string, string, string, string, number]>;
    upsertStream: Database.Statement<[string, number]>;
    idsFrom: Database.Statement<
      [string, number, number],
      { event_id: string; position: number; revision: number }
    >;
    eventById: Database.Statement<[string], { stream_id: string; revision: number; position: number }>;
    forwards: Database.Statement<[string, number, number], EventRow>;
    backwards: Database.Statement<[string, number, number, number], EventRow>;
    all: Database.Statement<[number, number], EventRow>;
    byCorrelation: Database.Statement<[string, number, number], EventRow>;
    head: Database.Statement<[], { head: number | null }>;
    setMaxCount: Database.Statement<[string, number | null]>;
  };
  private readonly appendBatch: Database.Transaction<
    (batch: PendingAppend[]) => (AppendResult | AppendRejected)[]
  >;

  constructor(
    readonly file: string,
    options: EmbeddedEventStoreOptions = {},
  ) {
    super();
    mkdirSync(dirname(file), { recursive: true });
    this.db = openSqlite(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmt = {
      streamRevision: this.db.prepare('SELECT revision, max_count FROM streams WHERE stream_id = ?'),
      insertEvent: this.db.prepare(
        'INSERT INTO events (stream_id, revision, event_id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      upsertStream: this.db.prepare(
        'INSERT INTO streams (stream_id, revision) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision',
      ),
      idsFrom: this.db.prepare(
        'SELECT event_id, position, revision FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?',
      ),
      eventById: this.db.prepare('SELECT stream_id, revision, position FROM events WHERE event_id = ?'),
      forwards: this.db.prepare(
        `SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`,
      ),
      backwards: this.db.prepare(
        `SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? AND revision >= ? ORDER BY revision DESC LIMIT ?`,
      ),
      all: this.db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position ASC LIMIT ?`),
      // The expression must be written exactly as in the index for SQLite to use it.
      byCorrelation: this.db.prepare(
        `SELECT ${COLUMNS} FROM events WHERE json_extract(metadata, '$.correlationId') = ? AND position > ?
         ORDER BY position ASC LIMIT ?`,
      ),
      head: this.db.prepare('SELECT MAX(position) AS head FROM events'),
      setMaxCount: this.db.prepare(
        'INSERT INTO streams (stream_id, revision, max_count) VALUES (?, -1, ?) ON CONFLICT (stream_id) DO UPDATE SET max_count = excluded.max_count',
      ),
    };
    const appendOne = this.db.transaction((pending: PendingAppend) => this.appendInTransaction(pending));
    this.appendBatch = this.db.transaction((batch: PendingAppend[]) =>
      batch.map((pending) => {
        try {
          // A nested transaction is a savepoint: a rejected append rolls back alone.
          return appendOne(pending);
        } catch (error) {
          return error instanceof AppendRejected ? error : new AppendRejected(error);
        }
      }),
    );
    // One listener per consumer group (plus the application's): more than EventEmitter's default ten is normal.
    this.emitter.setMaxListeners(0);
    // After the schema: the second connection finds the events table and WAL mode in place.
    this.consumers = new EmbeddedConsumerGroups(file, this, options);
  }

  append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    // Still accepted while close() stops the consumer groups: a handler in flight may append (a saga).
    if (this.closed) return Promise.reject(new EventStoreUnavailableError('the event store is closed'));
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ streamId, events, expected, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Fired after each committed batch with the global position of its last event. */
  onAppended(listener: (lastPosition: bigint) => void): () => void {
    this.emitter.on('appended', listener);
    return () => this.emitter.off('appended', listener);
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let results: (AppendResult | AppendRejected)[];
    try {
      results = this.appendBatch.immediate(batch);
    } catch (error) {
      const failure = new EventStoreUnavailableError('the embedded event store could not commit', {
        cause: error,
      });
      for (const pending of batch) pending.reject(failure);
      return;
    }
    let last = -1n;
    results.forEach((result, i) => {
      const pending = batch[i]!;
      if (result instanceof AppendRejected) {
        pending.reject(result.reason);
      } else {
        if (result.position > last) last = result.position;
        pending.resolve(result);
      }
    });
    if (last >= 0n) this.emitter.emit('appended', last);
  }

  private appendInTransaction({ streamId, events, expected }: PendingAppend): AppendResult {
    const row = this.stmt.streamRevision.get(streamId);
    const current = row && row.revision >= 0 ? row.revision : -1;
    const matches =
      expected === 'any' ||
      (expected === 'no_stream' && current === -1) ||
      (expected === 'stream_exists' && current >= 0) ||
      (typeof expected === 'bigint' && BigInt(current) === expected);

    const replay = this.previousAppend(streamId, events, expected, matches);
    if (replay) return replay;
    if (!matches) {
      throw new AppendRejected(
        new WrongExpectedRevisionError(streamId, expected, current < 0 ? 'no_stream' : BigInt(current)),
      );
    }
    if (events.length === 0) return { nextExpectedRevision: BigInt(current), position: -1n };

    const created = Date.now();
    let revision = current;
    let position = 0;
    for (const event of events) {
      revision += 1;
      try {
        position = Number(
          this.stmt.insertEvent.run(
            streamId,
            revision,
            event.id,
            event.type,
            JSON.stringify(event.data),
            JSON.stringify(event.metadata),
            created,
          ).lastInsertRowid,
        );
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new AppendRejected(new Error(`event id ${event.id} is already used by another event`));
        }
        throw error;
      }
    }
    this.stmt.upsertStream.run(streamId, revision);
    return { nextExpectedRevision: BigInt(revision), position: BigInt(position) };
  }

  /**
   * The same event ids already appended at the position this append expects: a retried append. Answer what
   * the first one answered, append nothing (EventStoreDB's idempotent append semantics).
   */
  private previousAppend(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
    matches: boolean,
  ): AppendResult | null {
    const first = events[0];
    if (!first) return null;
    let from: number;
    if (!matches && expected === 'no_stream') from = 0;
    else if (!matches && typeof expected === 'bigint') from = Number(expected) + 1;
    else if (expected === 'any' || expected === 'stream_exists') {
      const existing = this.stmt.eventById.get(first.id);
      if (!existing || existing.stream_id !== streamId) return null;
      from = existing.revision;
    } else return null;
    const rows = this.stmt.idsFrom.all(streamId, from, events.length);
    if (rows.length !== events.length || rows.some((row, i) => row.event_id !== events[i]!.id)) return null;
    const last = rows[rows.length - 1]!;
    return { nextExpectedRevision: BigInt(last.revision), position: BigInt(last.position) };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const row = this.stmt.streamRevision.get(streamId);
    if (!row || row.revision < 0) return [];
    // Events older than the newest max_count are hidden, as with EventStoreDB's $maxCount.
    const oldest = row.max_count === null ? 0 : Math.max(0, row.revision - row.max_count + 1);
    const limit = options.limit ?? -1;
    if (limit === 0) return [];
    const rows =
      options.direction === 'backwards'
        ? this.stmt.backwards.all(
            streamId,
            options.from === undefined ? row.revision : Number(options.from),
            oldest,
            limit,
          )
        : this.stmt.forwards.all(
            streamId,
            Math.max(oldest, options.from === undefined ? 0 : Number(options.from)),
            limit,
          );
    return rows.map(toRecorded);
  }

  async streamRevision(streamId: string): Promise<bigint | 'no_stream'> {
    this.assertOpen();
    const row = this.stmt.streamRevision.get(streamId);
    return row && row.revision >= 0 ? BigInt(row.revision) : 'no_stream';
  }

  /**
   * Note: like EventStoreDB's $all before a scavenge, this also returns events hidden by maxCount.
   * `eventTypes` filters in SQL: the primary key is walked from `after` and rows of other types are skipped
   * (no type index: see CONSUMER_GROUP_SCHEMA for the measurements).
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const after = options.after === undefined ? 0 : Number(options.after);
    const limit = options.limit ?? -1;
    if (options.eventTypes === undefined) return this.stmt.all.all(after, limit).map(toRecorded);
    const types = [...new Set(options.eventTypes)];
    if (types.length === 0 || limit === 0) return [];
    return this.filteredAllStatement(types.length)
      .all(after, ...types, limit)
      .map(toRecorded);
  }

  /** A COUNT over the same primary-key walk as readAll, stopped at the limit. */
  async countAll(options: ReadAllOptions = {}): Promise<number> {
    this.assertOpen();
    const after = options.after === undefined ? 0 : Number(options.after);
    const limit = options.limit ?? -1;
    if (limit === 0) return 0;
    const types = options.eventTypes === undefined ? null : [...new Set(options.eventTypes)];
    if (types !== null && types.length === 0) return 0;
    const count = types?.length ?? 0;
    let stmt = this.countStatements.get(count);
    if (!stmt) {
      const typed = types === null ? '' : ` AND type IN (${placeholders(count)})`;
      stmt = this.db.prepare<unknown[], { n: number }>(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM events WHERE position > ?${typed} ORDER BY position LIMIT ?)`,
      );
      this.countStatements.set(count, stmt);
    }
    return stmt.get(after, ...(types ?? []), limit)?.n ?? 0;
  }

  async headPosition(): Promise<bigint> {
    this.assertOpen();
    const head = this.stmt.head.get()?.head ?? null;
    return head === null ? -1n : BigInt(head);
  }

  async readByCorrelation(
    correlationId: string,
    options: ReadByCorrelationOptions = {},
  ): Promise<RecordedEvent[]> {
    this.assertOpen();
    const limit = options.limit ?? -1;
    if (limit === 0) return [];
    const after = options.after === undefined ? 0 : Number(options.after);
    return this.stmt.byCorrelation.all(correlationId, after, limit).map(toRecorded);
  }

  subscribeToGroup(settings: ConsumerGroupSettings, handler: DeliveryHandler): GroupSubscription {
    if (this.closing) throw new EventStoreUnavailableError('the event store is closed');
    return this.consumers.subscribe(settings, handler);
  }

  async listParked(group: string, options: { limit?: number } = {}): Promise<ParkedEvent[]> {
    return this.consumers.listParked(group, options.limit);
  }

  async replayParked(group: string, options: { limit?: number } = {}): Promise<number> {
    return this.consumers.replayParked(group, options.limit);
  }

  async groupInfo(group: string): Promise<ConsumerGroupInfo> {
    return this.consumers.groupInfo(group);
  }

  /** What a group's delivery loop in this process has done (null: no subscriber here). Diagnostics, tests. */
  consumerGroupStats(group: string): ConsumerGroupStats | null {
    return this.consumers.stats(group);
  }

  private filteredAllStatement(count: number): Database.Statement<unknown[], EventRow> {
    let stmt = this.filteredAll.get(count);
    if (!stmt) {
      stmt = this.db.prepare<unknown[], EventRow>(
        `SELECT ${COLUMNS} FROM events WHERE position > ? AND type IN (${placeholders(count)})
         ORDER BY position ASC LIMIT ?`,
      );
      this.filteredAll.set(count, stmt);
    }
    return stmt;
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    this.stmt.setMaxCount.run(streamId, metadata.maxCount ?? null);
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    const row = this.stmt.streamRevision.get(streamId);
    return row?.max_count != null ? { maxCount: row.max_count } : {};
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreUnavailableError('the event store is closed');
  }

  /**
   * Stops every consumer group first (each settles its batch in flight, which may still need the file),
   * then commits the appends still queued and closes both connections.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.consumers.close();
      } finally {
        // Every append accepted before this point is committed.
        this.flush();
        this.closed = true;
        this.db.close();
      }
    })();
    return this.closing;
  }
}
