import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { openSqlite } from '../../shared/infrastructure/sqlite.js';
import {
  EventStore,
  EventStoreUnavailableError,
  InvalidPositionError,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadByCorrelationOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamMetadata,
} from '../event-store.port.js';
import { EmbeddedConsumerGroups, type ConsumerGroupOptions } from './embedded-consumer-groups.js';
import { GroupCommitAppender } from './embedded-group-commit.js';
import { EVENT_COLUMNS, placeholders, toRecorded, type EventRow } from './embedded-rows.js';

/** Options of the store's consumer groups (the store itself has none). */
export type EmbeddedEventStoreOptions = ConsumerGroupOptions;

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

/**
 * The embedded event store: one SQLite file in WAL mode with `synchronous=FULL`, so an acknowledged append
 * survives a power cut; appends are group-committed (GroupCommitAppender).
 *
 * It makes the file's consumer groups too (`consumerGroups`, the adapter's ConsumerGroups port): they keep
 * their state in the same file through a second connection, and wake up on this store's post-commit
 * notification instead of polling the file. They share its lifetime: `close()` stops them first.
 */
export class EmbeddedEventStore extends EventStore {
  readonly consumerGroups: EmbeddedConsumerGroups;
  private readonly db: Database.Database;
  private readonly emitter = new EventEmitter();
  private readonly appender: GroupCommitAppender;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly filteredAll = new Map<number, Database.Statement<unknown[], EventRow>>();
  /** COUNT statements by number of event types (0: every type). */
  private readonly countStatements = new Map<number, Database.Statement<unknown[], { n: number }>>();

  private readonly stmt: {
    streamRevision: Database.Statement<[string], { revision: number; max_count: number | null }>;
    forwards: Database.Statement<[string, number, number], EventRow>;
    backwards: Database.Statement<[string, number, number, number], EventRow>;
    all: Database.Statement<[number, number], EventRow>;
    byCorrelation: Database.Statement<[string, number, number], EventRow>;
    head: Database.Statement<[], { head: number | null }>;
    at: Database.Statement<[number], EventRow>;
    exists: Database.Statement<[number], { found: number }>;
    setMaxCount: Database.Statement<[string, number | null]>;
  };

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
      at: this.db.prepare(`SELECT ${COLUMNS} FROM events WHERE position = ?`),
      exists: this.db.prepare('SELECT 1 AS found FROM events WHERE position = ?'),
      setMaxCount: this.db.prepare(
        'INSERT INTO streams (stream_id, revision, max_count) VALUES (?, -1, ?) ON CONFLICT (stream_id) DO UPDATE SET max_count = excluded.max_count',
      ),
    };
    this.appender = new GroupCommitAppender(this.db, (lastPosition) =>
      this.emitter.emit('appended', lastPosition),
    );
    // One listener per consumer group (plus the application's): more than EventEmitter's default ten is normal.
    this.emitter.setMaxListeners(0);
    // After the schema: the second connection finds the events table and WAL mode in place.
    this.consumerGroups = new EmbeddedConsumerGroups(file, this, options);
  }

  append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    // Still accepted while close() stops the consumer groups: a handler in flight may append (a saga).
    if (this.closed) return Promise.reject(new EventStoreUnavailableError('the event store is closed'));
    return this.appender.append(streamId, events, expected);
  }

  /** Fired after each committed batch with the global position of its last event. */
  onAppended(listener: (lastPosition: bigint) => void): () => void {
    this.emitter.on('appended', listener);
    return () => this.emitter.off('appended', listener);
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
   * (no type index: see CONSUMER_GROUP_SCHEMA in embedded-consumer-group-tables.ts for the measurements).
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const after = this.handedOut(options.after);
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
    const after = this.handedOut(options.after);
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

  async eventAt(position: bigint): Promise<RecordedEvent | null> {
    this.assertOpen();
    if (position === -1n) return null;
    const row = this.isRowId(position) ? this.stmt.at.get(Number(position)) : undefined;
    if (!row) throw new InvalidPositionError(position);
    return toRecorded(row);
  }

  async readByCorrelation(
    correlationId: string,
    options: ReadByCorrelationOptions = {},
  ): Promise<RecordedEvent[]> {
    this.assertOpen();
    const after = this.handedOut(options.after);
    const limit = options.limit ?? -1;
    if (limit === 0) return [];
    return this.stmt.byCorrelation.all(correlationId, after, limit).map(toRecorded);
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

  /**
   * A position passed in, as the row position to compare with (0: before the first event, which is 1). Only
   * -1n and the positions of stored events are accepted (the port's rule): positions here are dense row ids,
   * so anything else is below -1, 0, or past the head — never a silent "nothing there".
   */
  private handedOut(position: bigint | undefined): number {
    if (position === undefined || position === -1n) return 0;
    if (!this.isRowId(position) || !this.stmt.exists.get(Number(position))) {
      throw new InvalidPositionError(position);
    }
    return Number(position);
  }

  private isRowId(position: bigint): boolean {
    return position >= 1n && position <= BigInt(Number.MAX_SAFE_INTEGER);
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
        await this.consumerGroups.close();
      } finally {
        // Every append accepted before this point is committed.
        this.appender.flush();
        this.closed = true;
        this.db.close();
      }
    })();
    return this.closing;
  }
}
