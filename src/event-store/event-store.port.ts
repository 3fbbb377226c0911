/**
 * The event store port: streams and the global log. Three adapters implement it (embedded SQLite,
 * EventStoreDB, PostgreSQL) and pass one contract suite (test/contract/event-store.contract.ts). Each adapter
 * provides the consumer-groups port beside it (consumer-groups.port.ts). Revisions and positions are bigint
 * everywhere.
 *
 * Positions are opaque. A position passed *to* the store (`after`, `eventAt`) must be one the store handed
 * out — an event's `position`, an `AppendResult.position`, `headPosition()`, a consumer group's checkpoint —
 * or `-1n`, "before the first event". Never compute one (`position - 1n`, `position + 1n`): EventStoreDB's
 * positions are byte offsets in its log and only record boundaries can be read from, and an adapter may keep
 * gaps of its own (PostgreSQL's are sparse). Every adapter refuses a position it did not hand out with
 * InvalidPositionError (a 400 where it reaches HTTP), as the contract suite checks; an adapter that cannot
 * tell cheaply whether it handed a position out (EventStoreDB, beyond its head) may answer as if it were the
 * head.
 *
 * The global order: a reader of the log (`readAll`, a consumer group) never skips an event. An event that
 * becomes visible later than another must have a greater position — a store whose positions are taken before
 * commit (a PostgreSQL sequence) must not hand out a position that a transaction still open could fall
 * below (see postgres/postgres-positions.ts).
 */

import { ApplicationError } from '../shared/application/errors.js';

/** JSON value as stored in event data and metadata. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * Expected revision of a stream when appending, as in EventStoreDB:
 * - a bigint: the revision of the stream's **last** event (0-based);
 * - `no_stream`: the stream must not exist; `stream_exists`: it must; `any`: no check.
 */
export type ExpectedRevision = bigint | 'no_stream' | 'stream_exists' | 'any';

export interface EventToAppend {
  /**
   * UUID. Re-appending the same ids at the same expected revision is idempotent. With `any` it is only best
   * effort on EventStoreDB (the server remembers recent ids in a bounded cache): use an exact revision,
   * `no_stream` or `stream_exists` where a duplicate matters.
   */
  readonly id: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
}

export interface RecordedEvent {
  readonly streamId: string;
  readonly id: string;
  readonly type: string;
  /** 0-based position of the event in its stream. */
  readonly revision: bigint;
  /** Global, strictly increasing position in the whole store ($all commit position on EventStoreDB). */
  readonly position: bigint;
  /** Server time of the append, millisecond precision. Order by revision/position, never by this. */
  readonly created: Date;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append (pass it as expected revision next time). */
  readonly nextExpectedRevision: bigint;
  /** Global position of the last appended event. */
  readonly position: bigint;
  /**
   * True when these very events (the same ids, at that position) were already in the stream: a retried
   * append, answered as the first one was, with nothing appended. Adapters that cannot tell leave it out.
   */
  readonly duplicate?: boolean;
}

export interface ReadStreamOptions {
  /** First revision to return (inclusive). Default: start (forwards) or end (backwards). */
  readonly from?: bigint;
  readonly direction?: 'forwards' | 'backwards';
  /** Maximum number of events. Default: no limit. */
  readonly limit?: number;
}

export interface ReadByCorrelationOptions {
  /** Return events strictly after this global position (one the store handed out). Default: from the very start. */
  readonly after?: bigint;
  /** Maximum number of events. Default: no limit. */
  readonly limit?: number;
}

export interface ReadAllOptions {
  /**
   * Return events strictly after this global position: one the store handed out, or -1n (the default: from
   * the very start). Anything else is refused with InvalidPositionError.
   */
  readonly after?: bigint;
  readonly limit?: number;
  /** Only events of these types (default: every type). Snapshot streams never match a domain event type. */
  readonly eventTypes?: readonly string[];
}

export interface StreamMetadata {
  /** Only the newest `maxCount` events of the stream stay readable (used to cap snapshot streams). */
  readonly maxCount?: number;
}

/** The stream's revision did not match the expected revision: somebody else appended first. */
export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** Revision of the stream's last event, or `no_stream`. */
    readonly actual: bigint | 'no_stream',
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/**
 * A position the store never handed out (see the positions rule at the top of this file). The caller's
 * mistake, not the store's: a 400 where it reaches HTTP.
 */
export class InvalidPositionError extends ApplicationError {
  constructor(
    readonly position: bigint,
    reason = 'it is not a position this event store handed out',
  ) {
    super(
      'invalid-request',
      'INVALID_POSITION',
      `position ${position}: ${reason}`,
      {},
      `Position ${position} is not a position of this event store; use one it returned, or -1 for the start`,
    );
  }
}

/** The event store cannot be reached or failed; the operation may be retried later. */
export class EventStoreUnavailableError extends ApplicationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(
      'unavailable',
      'EVENT_STORE_UNAVAILABLE',
      message,
      {},
      'The event store is unavailable; retry shortly',
      options,
    );
  }
}

/**
 * Port to the system of record. Used as a NestJS DI token (abstract class); only modules bind adapters.
 */
export abstract class EventStore {
  /**
   * Appends events atomically if the stream's current revision matches `expected`.
   * Throws WrongExpectedRevisionError otherwise — unless the very same event ids were already appended at
   * that position, in which case it succeeds without appending anything (idempotent retry).
   */
  abstract append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult>;

  /** Reads a stream. A stream that does not exist reads as empty. Events hidden by `maxCount` are skipped. */
  abstract readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;

  /** Revision of the stream's last event, or `no_stream`. */
  abstract streamRevision(streamId: string): Promise<bigint | 'no_stream'>;

  /** Reads every stream's events in global position order (system events excluded). */
  abstract readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;

  /**
   * How many events `readAll(options)` would return, counting at most `options.limit` (the cap bounds the
   * cost: operators ask "how far behind", and "more than 100,000" is an answer). Used for projection lag and
   * rebuild totals.
   */
  abstract countAll(options?: ReadAllOptions): Promise<number>;

  /** Global position of the newest event in the store (-1n when empty). */
  abstract headPosition(): Promise<bigint>;

  /**
   * The event at a position the store handed out (null for -1n, or when the store holds no application
   * event there, e.g. an EventStoreDB system record). A position it never handed out: InvalidPositionError.
   */
  abstract eventAt(position: bigint): Promise<RecordedEvent | null>;

  /**
   * Every event whose metadata `correlationId` is the given id (one request, or one process that reused the
   * request's id), in global position order, across streams. Embedded: an index on the metadata field.
   * EventStoreDB: the `$bc-<id>` stream of the `$by_correlation_id` system projection (which must be
   * running; it is fed asynchronously, so a just-appended event may show up a moment later).
   */
  abstract readByCorrelation(
    correlationId: string,
    options?: ReadByCorrelationOptions,
  ): Promise<RecordedEvent[]>;

  abstract setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void>;
  abstract getStreamMetadata(streamId: string): Promise<StreamMetadata>;

  /**
   * Releases connections and file handles. The adapter's ConsumerGroups share them, so its subscriptions are
   * stopped first (each settles its batch in flight, which may still append).
   */
  abstract close(): Promise<void>;
}
