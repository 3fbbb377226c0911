import type { DomainEvent } from '../shared/domain/index.js';
import type { JsonObject, RecordedEvent } from '../event-store/event-store.port.js';

/**
 * Everything the aggregate store needs to know about one aggregate kind (cart, order).
 * Stream ids are `<category>-<id>`; snapshots live in `<category>snapshot-<id>` (a category of their own,
 * so they never show up in `$ce-<category>` or in projections).
 */
export interface AggregateType<State, Event extends DomainEvent> {
  readonly category: string;
  readonly initialState: State;
  evolve(state: State, event: Event): State;
  /** Version of the *state* shape. Snapshots written with another version are ignored, never trusted. */
  readonly stateSchemaVersion: number;
  /**
   * Turns a stored event into the current domain event shape, upcasting older schema versions
   * (metadata.schemaVersion). Unknown types throw: a stream must never be folded partially.
   */
  toDomainEvent(recorded: Pick<RecordedEvent, 'type' | 'data' | 'metadata'>): Event;
}

/** What the aggregate store remembers of one idempotency key seen on a stream. */
export interface IdempotencyRecord {
  /** sha-256 of the request (route + parameters + body) that used the key. */
  readonly requestHash: string;
  /** Revision of the last event the request appended. */
  readonly revision: bigint;
}

/** An aggregate folded from its stream (latest usable snapshot + the events after it). */
export interface LoadedAggregate<State> {
  readonly streamId: string;
  readonly state: State;
  /** Revision of the stream's last event, or `no_stream` if nothing was ever appended. */
  readonly revision: bigint | 'no_stream';
  /** The last N idempotency keys seen on the stream (oldest first), from event metadata. */
  readonly idempotency: ReadonlyMap<string, IdempotencyRecord>;
}

/** One event the caller wants appended: the domain event plus its id and metadata. */
export interface PendingEvent<Event extends DomainEvent> {
  readonly id: string;
  readonly event: Event;
  /** Must carry schemaVersion; carries idempotencyKey + requestHash when the command had a key. */
  readonly metadata: JsonObject;
}
