import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  EventStore,
  EventStoreUnavailableError,
  InvalidPositionError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadByCorrelationOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamMetadata,
} from '../event-store.port.js';
import { appendInTransaction } from './postgres-append.js';
import { PostgresConsumerGroups, type PostgresConsumerGroupOptions } from './postgres-consumer-groups.js';
import { toPortError, violatedConstraint } from './postgres-errors.js';
import { PostgresNotifier } from './postgres-notifier.js';
import {
  FORWARDS,
  BACKWARDS,
  ALL,
  ALL_OF_TYPES,
  COUNT_ALL,
  COUNT_OF_TYPES,
  BY_CORRELATION,
  type HorizonColumns,
  type LogRow,
} from './postgres-reads.js';
import { channelsOf, eventColumns, sqlBigint, toRecorded, type EventRow } from './postgres-rows.js';
import { migrate, SCHEMA_NAME } from './postgres-schema.js';

export interface PostgresEventStoreOptions extends PostgresConsumerGroupOptions {
  /** The schema that holds the store's tables (POSTGRES_SCHEMA; created if missing). Default `ordertrail`. */
  readonly schema?: string;
  /** Connections in the pool. Default 10. */
  readonly poolSize?: number;
  /** How long getting a connection may take before the call fails as unavailable. Default 3 s. */
  readonly connectTimeoutMs?: number;
  /**
   * How long a read of the global log waits for transactions that began before events it can already see
   * committed (postgres-positions.ts) before answering without them. Default 1 s.
   */
  readonly visibilityWaitMs?: number;
}

const DEFAULT_SCHEMA = 'ordertrail';
const E = eventColumns('e');
/**
 * The PostgreSQL event store (node-postgres, one pool): one row per event in `events`, appended in one
 * transaction per append with the expected revision checked under the stream's row lock; global positions
 * that no reader ever skips (postgres-positions.ts); consumer groups with checkpoints, retries, parked events
 * and leases in the same database (`consumerGroups`), woken by LISTEN/NOTIFY on a connection of their own.
 * Several service instances share one database: commands go anywhere, each consumer group runs on one
 * instance at a time.
 *
 * Open it with `PostgresEventStore.connect`, which creates or migrates the schema first.
 */
export class PostgresEventStore extends EventStore {
  readonly consumerGroups: PostgresConsumerGroups;
  readonly schema: string;
  private readonly notifier: PostgresNotifier;
  private readonly channels: { readonly events: string; readonly groups: string };
  private readonly visibilityWaitMs: number;
  private closed = false;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    newClient: () => pg.Client,
    schema: string,
    options: PostgresEventStoreOptions,
  ) {
    super();
    this.schema = schema;
    this.channels = channelsOf(schema);
    this.visibilityWaitMs = options.visibilityWaitMs ?? 1_000;
    const reportListenError = (error: unknown) => (options.onError ?? warn)('(notifications)', error);
    this.notifier = new PostgresNotifier(
      newClient,
      [this.channels.events, this.channels.groups],
      reportListenError,
    );
    this.consumerGroups = new PostgresConsumerGroups(pool, this.notifier, this.channels, options);
  }

  /**
   * Connects to the database at `url` (a postgres:// URL) and creates or migrates the schema (safe when
   * several instances start at once). Rejects when the server cannot be reached or the schema is newer than
   * this code.
   */
  static async connect(url: string, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
    const schema = options.schema ?? DEFAULT_SCHEMA;
    if (!SCHEMA_NAME.test(schema)) {
      throw new RangeError(`PostgreSQL schema ${schema}: use lower-case letters, digits and _ (at most 40)`);
    }
    const config: pg.PoolConfig = {
      connectionString: withSearchPath(url, schema),
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3_000,
      keepAlive: true,
      application_name: 'ordertrail',
    };
    const pool = new pg.Pool({ ...config, max: options.poolSize ?? 10 });
    // An idle connection that dies (a server restart) is reported here; without a listener it would crash us.
    pool.on('error', (error) => (options.onError ?? warn)('(pool)', error));
    const newClient = () => new pg.Client(config);
    try {
      await migrate(pool, schema);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw toPortError(error, `prepare the schema ${schema}`);
    }
    return new PostgresEventStore(pool, newClient, schema, options);
  }

  async append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    // Still accepted while close() stops the consumer groups: a handler in flight may append (a saga).
    if (this.closed) throw new EventStoreUnavailableError('the event store is closed');
    const client = await this.connection('append');
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const { result, wrote } = await appendInTransaction(
        client,
        streamId,
        events,
        expected,
        this.channels.events,
      );
      await client.query(wrote ? 'COMMIT' : 'ROLLBACK');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: unknown) => {
        broken = rollback instanceof Error ? rollback : new Error(String(rollback));
      });
      throw await this.appendError(error, streamId, expected);
    } finally {
      client.release(broken);
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    if (options.limit === 0) return [];
    const backwards = options.direction === 'backwards';
    const rows = await this.query<EventRow>('read a stream', backwards ? BACKWARDS : FORWARDS, [
      streamId,
      options.from === undefined ? (backwards ? null : '0') : sqlBigint(options.from),
      options.limit ?? null,
    ]);
    return rows.map(toRecorded);
  }

  async streamRevision(streamId: string): Promise<bigint | 'no_stream'> {
    const [row] = await this.query<{ revision: string }>(
      'read a stream revision',
      'SELECT revision::text FROM streams WHERE stream_id = $1',
      [streamId],
    );
    const revision = row === undefined ? -1n : BigInt(row.revision);
    return revision >= 0n ? revision : 'no_stream';
  }

  /** Note: like EventStoreDB's $all before a scavenge, this also returns events hidden by maxCount. */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const types = options.eventTypes === undefined ? null : [...new Set(options.eventTypes)];
    if (options.limit === 0 || types?.length === 0) return [];
    return this.readLog(options.after, options.limit, types === null ? ALL : ALL_OF_TYPES, types);
  }

  /** A COUNT over the same read as readAll (below the horizon), stopped at the limit. */
  async countAll(options: ReadAllOptions = {}): Promise<number> {
    const types = options.eventTypes === undefined ? null : [...new Set(options.eventTypes)];
    if (options.limit === 0 || types?.length === 0) return 0;
    const after = this.handedOut(options.after);
    const limit = options.limit ?? null;
    return this.untilVisible(async () => {
      const params: unknown[] = [sqlBigint(after), limit];
      if (types !== null) params.push(types);
      const [row] = await this.query<HorizonColumns & { n: number }>(
        'count events',
        types === null ? COUNT_ALL : COUNT_OF_TYPES,
        params,
      );
      if (!row) throw new Error('the count answered no row');
      this.assertKnown(row, after);
      return { value: row.n, complete: limit !== null && row.n >= limit, horizon: row };
    }, after);
  }

  async headPosition(): Promise<bigint> {
    const [row] = await this.query<{ head: string | null }>(
      'read the head position',
      'SELECT max(position)::text AS head FROM events',
      [],
    );
    return row?.head == null ? -1n : BigInt(row.head);
  }

  /** The event at a position this store handed out (null for -1); InvalidPositionError for any other. */
  async eventAt(position: bigint): Promise<RecordedEvent | null> {
    if (position === -1n) return null;
    const [row] = await this.query<EventRow>(
      'read an event',
      `SELECT ${E} FROM events e WHERE position = $1`,
      [sqlBigint(position)],
    );
    if (!row) throw new InvalidPositionError(position);
    return toRecorded(row);
  }

  async readByCorrelation(
    correlationId: string,
    options: ReadByCorrelationOptions = {},
  ): Promise<RecordedEvent[]> {
    if (options.limit === 0) return [];
    return this.readLog(options.after, options.limit, BY_CORRELATION, correlationId);
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    await this.query(
      'write stream metadata',
      `INSERT INTO streams (stream_id, revision, max_count) VALUES ($1, -1, $2)
       ON CONFLICT (stream_id) DO UPDATE SET max_count = excluded.max_count`,
      [streamId, metadata.maxCount ?? null],
    );
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    const [row] = await this.query<{ max_count: number | null }>(
      'read stream metadata',
      'SELECT max_count FROM streams WHERE stream_id = $1',
      [streamId],
    );
    return row?.max_count != null ? { maxCount: row.max_count } : {};
  }

  /**
   * Stops every consumer group first (each settles its batch in flight, which may still append), releases
   * their leases, then closes the notifications and the pool.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.consumerGroups.close();
      } finally {
        this.closed = true;
        await this.notifier.close();
        await this.pool.end().catch(() => undefined);
      }
    })();
    return this.closing;
  }

  /** readAll and readByCorrelation: one page below the horizon, waiting a little for open transactions. */
  private async readLog(
    afterOption: bigint | undefined,
    limitOption: number | undefined,
    sql: string,
    filter: unknown,
  ): Promise<RecordedEvent[]> {
    const after = this.handedOut(afterOption);
    const limit = limitOption ?? null;
    return this.untilVisible(async () => {
      const params: unknown[] = [sqlBigint(after), limit];
      if (filter !== null) params.push(filter);
      const rows = await this.query<LogRow>('read the log', sql, params);
      const first = rows[0];
      if (!first) throw new Error('the log read answered no row');
      this.assertKnown(first, after);
      const events = rows.filter((row): row is LogRow & EventRow => row.position !== null).map(toRecorded);
      return { value: events, complete: limit !== null && events.length >= limit, horizon: first };
    }, after);
  }

  /**
   * Reads until nothing committed lies above the horizon (a transaction that began earlier is still open
   * below events already committed), or `visibilityWaitMs` has passed: then it answers what is final so far —
   * never more, so that a reader moving its cursor on never skips what commits later.
   */
  private async untilVisible<T>(
    read: () => Promise<{ value: T; complete: boolean; horizon: HorizonColumns }>,
    after: bigint,
  ): Promise<T> {
    const deadline = Date.now() + this.visibilityWaitMs;
    let delay = 2;
    for (;;) {
      const { value, complete, horizon } = await read();
      const head = horizon.head === null ? null : BigInt(horizon.head);
      const waiting = head !== null && head > after && head >= BigInt(horizon.visible_below);
      if (complete || !waiting || Date.now() >= deadline) return value;
      await sleep(delay);
      delay = Math.min(50, delay * 2);
    }
  }

  /** -1 (the start) or a position to be checked against the store's (by the read itself). */
  private handedOut(position: bigint | undefined): bigint {
    if (position === undefined) return -1n;
    if (position < -1n) throw new InvalidPositionError(position);
    return position;
  }

  private assertKnown(row: HorizonColumns, after: bigint): void {
    if (!row.known) throw new InvalidPositionError(after);
  }

  private async connection(doing: string): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw toPortError(error, doing);
    }
  }

  private async query<R extends object>(doing: string, sql: string, params: unknown[]): Promise<R[]> {
    if (this.closed) throw new EventStoreUnavailableError('the event store is closed');
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (error) {
      throw toPortError(error, doing);
    }
  }

  /** A failed append as the port reports it. */
  private async appendError(error: unknown, streamId: string, expected: ExpectedRevision): Promise<unknown> {
    const constraint = violatedConstraint(error);
    if (constraint === 'events_stream_revision') {
      // The last line of defence: another append took these revisions (the row lock makes this rare).
      const actual = await this.streamRevision(streamId).catch(() => 'no_stream' as const);
      return new WrongExpectedRevisionError(streamId, expected, actual);
    }
    if (constraint === 'events_event_id') {
      const detail = (error as { detail?: unknown }).detail;
      const id = typeof detail === 'string' ? /\(event_id\)=\((.*)\)/.exec(detail)?.[1] : undefined;
      return new Error(`event id ${id ?? '(one of them)'} is already used by another event`);
    }
    return toPortError(error, `append to ${streamId}`);
  }
}

/**
 * The URL with the schema as every connection's search_path (a startup option, so that no query can run
 * before it is set), after any options the URL already carries.
 */
function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  const options = parsed.searchParams.get('options');
  parsed.searchParams.set('options', `${options ? `${options} ` : ''}-c search_path=${schema}`);
  return parsed.toString();
}

function warn(source: string, error: unknown): void {
  process.emitWarning(
    `PostgreSQL event store ${source}: ${error instanceof Error ? error.message : String(error)}`,
    'EventStoreWarning',
  );
}
