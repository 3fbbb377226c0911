import type { DomainEvent } from '../../shared/domain/index.js';
import type { JsonObject, RecordedEvent } from '../../event-store/event-store.port.js';
import type { CollectionSpec } from '../read-store.port.js';

/** A recorded event as a projection sees it: the (upcast) domain event and where it sits in its stream. */
export interface ProjectedEvent<Event extends DomainEvent = DomainEvent> {
  readonly event: Event;
  readonly id: string;
  readonly streamId: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly created: Date;
  readonly metadata: JsonObject;
}

/** An immutable entry a projection emits beside its documents (e.g. a timeline line), keyed by event id. */
export interface ProjectionEntry {
  readonly data: JsonObject;
}

/**
 * Documents are plain JSON objects (no Date, bigint, Map or undefined): the read store stores them as is.
 *
 * A projection: pure functions over the events of one stream category. It keeps one document per stream
 * (e.g. one per order); the runtime makes it safe under at-least-once, reordered delivery by applying each
 * stream's events exactly in revision order from the revision the document records, healing gaps from the
 * event store. No business rule runs here: a projection only restates facts.
 */
export interface Projection<Doc extends object = object, Event extends DomainEvent = DomainEvent> {
  /** Name of the projection, its consumer group and (with a generation suffix) its collections. */
  readonly name: string;
  /** Stream category it folds (`cart` for `cart-<id>` streams). The document id is the stream's `<id>`. */
  readonly category: string;
  /**
   * Freshness budget, in milliseconds: how long after its append an event should be applied to this read
   * model (what `/metrics` counts applications over, and what `/admin/projections` shows beside the measured
   * p50/p99). Declared here, once; `FRESHNESS_BUDGETS` overrides it (docs/consistency.md#freshness-budgets).
   */
  readonly freshnessBudgetMs: number;
  readonly eventTypes: readonly Event['type'][];
  /** The per-stream documents (name is the logical collection name). */
  readonly documents: CollectionSpec;
  /** Optional collection of entries keyed by event id, written before the document that follows them. */
  readonly entries?: CollectionSpec;
  /** Turns a stored event into the current domain event (upcasting); throws on what it cannot read. */
  readEvent(recorded: Pick<RecordedEvent, 'type' | 'data' | 'metadata'>): Event;
  /** The document after `event`; `doc` is null before the stream's first event. */
  evolve(doc: Doc | null, event: ProjectedEvent<Event>): Doc;
  /** Entries the event adds (given the document after it). */
  entriesFor?(doc: Doc, event: ProjectedEvent<Event>): ProjectionEntry[];
}

/** Any projection, for registries and the runtime (methods are bivariant, so every projection fits). */
export type AnyProjection = Projection<object, DomainEvent>;
