import type { JsonObject, RecordedEvent } from '../event-store/event-store.port.js';
import { mayChange, maySee, type AccessPolicy } from '../shared/application/access-policy.js';
import type { Actor } from '../shared/application/command-context.js';
import type { DomainEvent } from '../shared/domain/index.js';

/**
 * Everything the write path, the read models and audit need to know about one aggregate kind (cart,
 * order): its stream category, how its events fold, and who may see or change one.
 * Stream ids are `<category>-<id>`; snapshots live in `<category>snapshot-<id>` (see shared/domain's
 * stream names).
 */
export interface AggregateType<State, Event extends DomainEvent> {
  /** Stream category, and the resource name in errors (`cart` → 404 CART_NOT_FOUND). */
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
  /** False for the initial state: nothing that opened the aggregate was ever appended. */
  exists(state: State): boolean;
  /** The customer it belongs to (null before it exists). It never changes once set. */
  ownerOf(state: State): string | null;
  readonly access: AccessPolicy;
}

/** The actor may see this aggregate (it exists, and they own it or their role reads every one). */
export function canSee<State>(type: AggregateType<State, DomainEvent>, actor: Actor, state: State): boolean {
  return type.exists(state) && maySee(type.access, actor, type.ownerOf(state));
}

/** The actor may act on this existing aggregate (they own it, or their role changes every one). */
export function canChange<State>(
  type: AggregateType<State, DomainEvent>,
  actor: Actor,
  state: State,
): boolean {
  return type.exists(state) && mayChange(type.access, actor, type.ownerOf(state));
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
