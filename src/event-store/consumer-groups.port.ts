import type { RecordedEvent } from './event-store.port.js';

/**
 * The consumer-groups port: durable, at-least-once delivery of the store's events to named groups. Every
 * event-store adapter provides one beside its EventStore and passes one contract suite
 * (test/contract/consumer-groups.contract.ts). It has no `close` of its own: the groups share the adapter's
 * connection (the SQLite file, the EventStoreDB client, the PostgreSQL pool), and closing that EventStore
 * stops them first.
 */

/**
 * A durable consumer group (EventStoreDB: a persistent subscription to `$all` filtered by event type,
 * starting at the very first event; embedded and PostgreSQL: a checkpoint, retry counts and a parked table in
 * the store). Delivery is at least once and not necessarily in order: a consumer must be idempotent and
 * order-safe.
 */
export interface ConsumerGroupSettings {
  /** The group's name; one per projection or process manager. Created on first subscription. */
  readonly group: string;
  /** Only events of these types are delivered. */
  readonly eventTypes: readonly string[];
  /** Deliveries an event gets after its first before it is parked (never dropped). */
  readonly maxRetries: number;
  /** Largest batch handed to the handler at once. */
  readonly batchSize: number;
}

export interface DeliveredEvent {
  readonly event: RecordedEvent;
  /** 0 on the first delivery; how many times it was delivered before otherwise. */
  readonly retryCount: number;
}

/** What the consumer did with one delivered event. */
export type DeliveryOutcome =
  | { readonly action: 'ack' }
  /** Deliver it again later (with backoff); after `maxRetries` it is parked. */
  | { readonly action: 'retry'; readonly reason: string }
  /** Park it now: kept with the reason, replayable by an operator. */
  | { readonly action: 'park'; readonly reason: string };

/**
 * Handles one batch and answers one outcome per event, in the batch's order. Only acknowledge an event once
 * its effects are durable. A handler that throws is treated as `retry` for the whole batch.
 */
export type DeliveryHandler = (batch: readonly DeliveredEvent[]) => Promise<readonly DeliveryOutcome[]>;

export interface GroupSubscription {
  /** Stops delivering; resolves once the batch in flight (if any) is settled. */
  stop(): Promise<void>;
}

export interface ParkedEvent {
  readonly event: RecordedEvent;
  readonly reason: string;
  readonly retryCount: number;
  readonly parkedAt: Date;
}

export interface ConsumerGroupInfo {
  readonly group: string;
  /** Every matching event at or below this position has been settled (acked, parked or queued for retry). */
  readonly checkpoint: bigint | null;
  readonly parkedCount: number;
  /**
   * The instance delivering the group now (its INSTANCE_ID), or null when none is known: PostgreSQL, the
   * holder of the group's lease (one instance at a time); embedded, this process while it has a subscriber;
   * EventStoreDB, always null — the server hands events to competing subscribers on every instance.
   */
  readonly owner: string | null;
}

/**
 * Port to the durable consumer groups. Used as a NestJS DI token (abstract class); only modules bind adapters.
 */
export abstract class ConsumerGroups {
  /**
   * Joins the consumer group (creating it on first use, from the very first event) and delivers its events
   * to `handler` until stopped. Several subscribers of one group compete for its events (PostgreSQL: only
   * the instance holding the group's lease delivers; a subscriber elsewhere delivers nothing until it takes
   * the lease over). A subscription that loses its connection resubscribes by itself with backoff.
   */
  abstract subscribeToGroup(settings: ConsumerGroupSettings, handler: DeliveryHandler): GroupSubscription;

  /** The group's parked events, oldest first. */
  abstract listParked(group: string, options?: { limit?: number }): Promise<ParkedEvent[]>;

  /** Moves parked events (all, or the oldest `limit`) back to delivery; answers how many. */
  abstract replayParked(group: string, options?: { limit?: number }): Promise<number>;

  /** Checkpoint, parked count and owner of a group (null checkpoint: the group has settled nothing yet). */
  abstract groupInfo(group: string): Promise<ConsumerGroupInfo>;
}
