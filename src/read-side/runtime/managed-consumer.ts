import { AsyncResource } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Logger } from '@nestjs/common';
import { ApplicationError } from '../../shared/application/errors.js';
import type {
  ConsumerGroups,
  ConsumerGroupSettings,
  DeliveredEvent,
  DeliveryOutcome,
  GroupSubscription,
} from '../../event-store/consumer-groups.port.js';

/** What a consumer group feeds: a projection (a read model) or a process manager (commands). */
export type ConsumerKind = 'projection' | 'process-manager';

export interface ManagedConsumerSpec {
  /** Operator-facing name (`orders`, `place-order-on-checkout`); unique. */
  readonly name: string;
  readonly kind: ConsumerKind;
  readonly settings: ConsumerGroupSettings;
  /**
   * Handles one batch (see the ConsumerGroups port's DeliveryHandler). A handler whose batches may take long
   * calls `onProgress` as it goes: a slow batch that moves is not a stalled one.
   */
  readonly handler: (
    batch: readonly DeliveredEvent[],
    onProgress: () => void,
  ) => Promise<readonly DeliveryOutcome[]>;
}

/** Consecutive batches that failed as a whole (the handler threw) before a consumer is `faulted`. */
export const FAULT_AFTER_FAILURES = 3;
/**
 * How long a batch that failed because a store could not be reached is tried again in place before it is handed
 * back as failed (which counts a delivery of each of its events towards parking them). Below the EventStoreDB
 * subscription's message timeout (2 min), which would count one too.
 */
export const OUTAGE_RIDE_OUT_MS = 60_000;
const OUTAGE_BACKOFF_MS = { first: 100, max: 2_000 } as const;
/** Window of the events/s rate, in seconds. */
const RATE_WINDOW_S = 10;

/**
 * What this process knows of one consumer's delivery loop. Instance-local: another instance has its own
 * loop (cluster-wide facts — checkpoint, lag, parked events, jobs — come from the stores).
 */
export interface ConsumerRuntime {
  readonly name: string;
  readonly kind: ConsumerKind;
  readonly group: string;
  readonly eventTypes: readonly string[];
  /** The operator paused it (persisted; every instance follows within one heartbeat period). */
  readonly paused: boolean;
  /** A rebuild holds its subscription for the generation switch. */
  readonly held: boolean;
  /** Subscribed to its group in this process right now. */
  readonly subscribed: boolean;
  readonly subscribedAt: Date | null;
  /** End of the last batch handled (successfully or not). */
  readonly lastBatchAt: Date | null;
  /** The last sign of life of the batch in flight (a read or write done), or of the last one. */
  readonly lastProgressAt: Date | null;
  /** Evidence that the delivery loop is alive: every batch, and every idle tick while no batch is stuck. */
  readonly lastHeartbeatAt: Date | null;
  /** When the batch being handled started (null: none in flight). */
  readonly batchInFlightSince: Date | null;
  readonly consecutiveFailures: number;
  /** The last failure seen: of a batch as a whole, or why an event was retried or parked (null: none yet). */
  readonly lastError: string | null;
  /** The handler keeps failing as a whole (e.g. its store is down), or the subscription cannot start. */
  readonly faulted: boolean;
  /** Events acknowledged per second over the last ten seconds (this process). */
  readonly eventsPerSecond: number;
  /** Events acknowledged by this process since it started (monotonic). */
  readonly eventsApplied: number;
}

/** Events per second over a sliding window of one-second buckets. */
class RateMeter {
  private readonly buckets = new Map<number, number>();
  private total = 0;

  constructor(private readonly since: number) {}

  add(count: number, now: number): void {
    const second = Math.floor(now / 1000);
    this.buckets.set(second, (this.buckets.get(second) ?? 0) + count);
    this.total += count;
    for (const key of this.buckets.keys()) if (key <= second - RATE_WINDOW_S) this.buckets.delete(key);
  }

  get applied(): number {
    return this.total;
  }

  perSecond(now: number): number {
    const second = Math.floor(now / 1000);
    let sum = 0;
    for (const [key, count] of this.buckets) if (key > second - RATE_WINDOW_S) sum += count;
    // A consumer up for 3 s has 3 s of history, not 10.
    const span = Math.min(RATE_WINDOW_S, Math.max(1, (now - this.since) / 1000));
    return sum / span;
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One consumer group subscription that an operator can pause and a rebuild can hold, with the evidence
 * health needs: a heartbeat, the last batch, consecutive failures and a recent rate.
 *
 * Pausing and holding unsubscribe (the batch in flight is settled first) rather than blocking inside the
 * handler: an EventStoreDB persistent subscription would time a blocked event out and count retries
 * towards parking it. Resuming subscribes again and the group redelivers from its checkpoint.
 * Start, stop, pause, hold and release are applied one at a time, in order.
 */
export class ManagedConsumer {
  private subscription: GroupSubscription | null = null;
  private started = false;
  private paused = false;
  private holds = 0;
  private transition: Promise<void> = Promise.resolve();
  private subscribedAt: Date | null = null;
  private subscribeError: string | null = null;
  private lastBatchAt: Date | null = null;
  private lastProgressAt: Date | null = null;
  private lastHeartbeatAt: Date | null = null;
  private batchInFlightSince: Date | null = null;
  private consecutiveFailures = 0;
  private lastError: string | null = null;
  private readonly rate = new RateMeter(Date.now());

  constructor(
    readonly spec: ManagedConsumerSpec,
    private readonly groups: ConsumerGroups,
    private readonly logger: Logger,
    /**
     * The async context deliveries run in. A resume comes from an operator's request: subscribing in that
     * request's context would make every later batch (and its log lines) carry that request's correlation id.
     */
    private readonly scope: AsyncResource = new AsyncResource('ordertrail.consumer'),
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /** Subscribes (unless paused or held) and keeps it that way until stopped. */
  start(paused: boolean): Promise<void> {
    this.started = true;
    this.paused = paused;
    return this.reconcile();
  }

  /** Unsubscribes; resolves once the batch in flight (if any) is settled. */
  stop(): Promise<void> {
    this.started = false;
    return this.reconcile();
  }

  get isStarted(): boolean {
    return this.started;
  }

  setPaused(paused: boolean): Promise<void> {
    if (this.paused === paused) return this.transition;
    this.paused = paused;
    return this.reconcile();
  }

  /**
   * Holds the subscription (for a generation switch): resolves once this process has stopped delivering
   * and its batch in flight is settled. The returned function releases the hold (idempotent).
   */
  async hold(): Promise<() => Promise<void>> {
    this.holds += 1;
    await this.reconcile();
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      await this.reconcile();
    };
  }

  /** An idle tick: a live loop with nothing stuck in flight beats; a failed subscription is retried. */
  tick(now: Date): void {
    if (this.subscription && this.batchInFlightSince === null) this.lastHeartbeatAt = now;
    if (this.wanted && !this.subscription) void this.reconcile();
  }

  runtime(now = Date.now()): ConsumerRuntime {
    return {
      name: this.spec.name,
      kind: this.spec.kind,
      group: this.spec.settings.group,
      eventTypes: this.spec.settings.eventTypes,
      paused: this.paused,
      held: this.holds > 0,
      subscribed: this.subscription !== null,
      subscribedAt: this.subscribedAt,
      lastBatchAt: this.lastBatchAt,
      lastProgressAt: this.lastProgressAt,
      lastHeartbeatAt: this.lastHeartbeatAt,
      batchInFlightSince: this.batchInFlightSince,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.subscribeError ?? this.lastError,
      faulted:
        this.wanted && (this.subscribeError !== null || this.consecutiveFailures >= FAULT_AFTER_FAILURES),
      eventsPerSecond: this.rate.perSecond(now),
      eventsApplied: this.rate.applied,
    };
  }

  private get wanted(): boolean {
    return this.started && !this.paused && this.holds === 0;
  }

  private reconcile(): Promise<void> {
    const next = this.transition.then(async () => {
      if (this.wanted && !this.subscription) {
        try {
          this.subscription = this.scope.runInAsyncScope(() =>
            this.groups.subscribeToGroup(this.spec.settings, this.deliver),
          );
          const now = new Date();
          this.subscribedAt = now;
          this.lastHeartbeatAt = now;
          this.subscribeError = null;
        } catch (error) {
          // Retried on the next tick; meanwhile the consumer is faulted.
          if (this.subscribeError === null) {
            this.logger.warn(
              `${this.spec.name}: cannot subscribe to ${this.spec.settings.group}: ${errorText(error)}`,
            );
          }
          this.subscribeError = errorText(error);
        }
      } else if (!this.wanted && this.subscription) {
        const subscription = this.subscription;
        this.subscription = null;
        await subscription.stop();
      }
    });
    this.transition = next.catch(() => undefined);
    return next;
  }

  private readonly progressed = (): void => {
    this.lastProgressAt = new Date();
  };

  private readonly deliver = async (
    batch: readonly DeliveredEvent[],
  ): Promise<readonly DeliveryOutcome[]> => {
    this.batchInFlightSince = new Date();
    try {
      const outcomes = await this.rideOutOutages(batch);
      this.consecutiveFailures = 0;
      let acked = 0;
      for (const outcome of outcomes) {
        if (outcome.action === 'ack') acked++;
        // A stream that failed (retried, then parked): the loop is fine, but an operator wants the reason.
        else this.lastError = outcome.reason;
      }
      this.rate.add(acked, Date.now());
      return outcomes;
    } catch (error) {
      this.failed(error);
      throw error;
    } finally {
      const now = new Date();
      this.batchInFlightSince = null;
      this.lastBatchAt = now;
      this.lastProgressAt = now;
      this.lastHeartbeatAt = now;
    }
  };

  /**
   * Runs the handler; when it fails because a store cannot be reached (the read store during an outage, the
   * event store for a process manager's command), which is nothing its events did, it is run again here with
   * backoff instead of being handed back: a failed batch counts a delivery of each event, and an outage of a
   * few seconds would otherwise park every event the group received meanwhile. Given up (handed back) after
   * OUTAGE_RIDE_OUT_MS, or as soon as the consumer is stopped, paused or held. Each failed try counts as a
   * failure: the consumer shows the outage (lastError, faulted after a few) while it lasts.
   */
  private async rideOutOutages(batch: readonly DeliveredEvent[]): Promise<readonly DeliveryOutcome[]> {
    const givenUpAt = Date.now() + OUTAGE_RIDE_OUT_MS;
    for (
      let backoff: number = OUTAGE_BACKOFF_MS.first;
      ;
      backoff = Math.min(backoff * 2, OUTAGE_BACKOFF_MS.max)
    ) {
      try {
        return await this.spec.handler(batch, this.progressed);
      } catch (error) {
        if (!isUnavailable(error) || !this.wanted || Date.now() + backoff > givenUpAt) throw error;
        this.failed(error);
        await sleep(backoff);
        if (!this.wanted) throw error;
      }
    }
  }

  private failed(error: unknown): void {
    this.consecutiveFailures += 1;
    this.lastError = errorText(error);
    if (this.consecutiveFailures === FAULT_AFTER_FAILURES) {
      this.logger.error(
        `${this.spec.name}: ${this.consecutiveFailures} batches failed in a row: ${this.lastError}`,
      );
    }
  }
}

/** A store that cannot be reached (ReadStoreUnavailableError, EventStoreUnavailableError): retrying may help. */
function isUnavailable(error: unknown): boolean {
  return error instanceof ApplicationError && error.kind === 'unavailable';
}
