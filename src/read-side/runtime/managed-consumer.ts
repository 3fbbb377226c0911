import { AsyncResource } from 'node:async_hooks';
import { Logger } from '@nestjs/common';
import type {
  ConsumerGroupSettings,
  DeliveredEvent,
  DeliveryHandler,
  DeliveryOutcome,
  EventStore,
  GroupSubscription,
} from '../../event-store/event-store.port.js';
import type { ReadStore } from '../read-store.port.js';

/** What a consumer group feeds: a projection (a read model) or a process manager (commands). */
export type ConsumerKind = 'projection' | 'process-manager';

export interface ManagedConsumerSpec {
  /** Operator-facing name (`orders`, `place-order-on-checkout`); unique. */
  readonly name: string;
  readonly kind: ConsumerKind;
  readonly settings: ConsumerGroupSettings;
  readonly handler: DeliveryHandler;
}

/** Consecutive batches that failed as a whole (the handler threw) before a consumer is `faulted`. */
export const FAULT_AFTER_FAILURES = 3;
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

function errorText(error: unknown): string {
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
  private lastHeartbeatAt: Date | null = null;
  private batchInFlightSince: Date | null = null;
  private consecutiveFailures = 0;
  private lastError: string | null = null;
  private readonly rate = new RateMeter(Date.now());

  constructor(
    readonly spec: ManagedConsumerSpec,
    private readonly events: EventStore,
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
            this.events.subscribeToGroup(this.spec.settings, this.deliver),
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

  private readonly deliver = async (
    batch: readonly DeliveredEvent[],
  ): Promise<readonly DeliveryOutcome[]> => {
    this.batchInFlightSince = new Date();
    try {
      const outcomes = await this.spec.handler(batch);
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
      this.consecutiveFailures += 1;
      this.lastError = errorText(error);
      if (this.consecutiveFailures === FAULT_AFTER_FAILURES) {
        this.logger.error(
          `${this.spec.name}: ${this.consecutiveFailures} batches failed in a row: ${this.lastError}`,
        );
      }
      throw error;
    } finally {
      const now = new Date();
      this.batchInFlightSince = null;
      this.lastBatchAt = now;
      this.lastHeartbeatAt = now;
    }
  };
}

/** Meta key of a consumer's paused flag (shared by every instance through the read store). */
export function pausedKey(name: string): string {
  return `consumer-paused:${name}`;
}

export interface ConsumerRegistryOptions {
  /** Idle heartbeat period, and how often every instance re-reads the paused flags. */
  readonly heartbeatMs: number;
}

/**
 * Every consumer group of this process (the projections and the checkout process manager), with their
 * paused flags. A paused flag lives in the read store's meta (`consumer-paused:<name>`), so it survives a
 * restart and reaches every instance: each one re-reads the flags every heartbeat period and follows them.
 */
export class ConsumerRegistry {
  private readonly consumers = new Map<string, ManagedConsumer>();
  private readonly logger = new Logger('Consumers');
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private refreshFailed = false;
  /** Made with the registry (at start, outside any request): the context every consumer delivers in. */
  private readonly scope = new AsyncResource('ordertrail.consumers');

  constructor(
    private readonly events: EventStore,
    private readonly store: ReadStore,
    readonly options: ConsumerRegistryOptions,
  ) {}

  register(spec: ManagedConsumerSpec): ManagedConsumer {
    if (this.consumers.has(spec.name)) throw new Error(`consumer ${spec.name} is registered twice`);
    const consumer = new ManagedConsumer(spec, this.events, this.logger, this.scope);
    this.consumers.set(spec.name, consumer);
    return consumer;
  }

  get(name: string): ManagedConsumer | undefined {
    return this.consumers.get(name);
  }

  list(): ManagedConsumer[] {
    return [...this.consumers.values()];
  }

  /** Starts a registered consumer, paused if its persisted flag says so. */
  async start(name: string): Promise<void> {
    const consumer = this.required(name);
    await consumer.start(await this.readPaused(name));
    this.ensureTimer();
  }

  async stop(name: string): Promise<void> {
    await this.required(name).stop();
    if (this.list().every((c) => !c.isStarted)) this.clearTimer();
  }

  /**
   * Persists the paused flag, then applies it here at once (resolves once this process has stopped
   * delivering, batch in flight settled, or has subscribed again). Other instances follow within one
   * heartbeat period.
   */
  async setPaused(name: string, paused: boolean, by: string): Promise<void> {
    const consumer = this.required(name);
    await this.store.setMeta(pausedKey(name), { paused, changedAt: new Date().toISOString(), changedBy: by });
    await consumer.setPaused(paused);
  }

  private required(name: string): ManagedConsumer {
    const consumer = this.consumers.get(name);
    if (!consumer) throw new Error(`no consumer named ${name}`);
    return consumer;
  }

  private async readPaused(name: string): Promise<boolean> {
    const value = await this.store.getMeta(pausedKey(name));
    return value?.paused === true;
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.onTick(), this.options.heartbeatMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async onTick(): Promise<void> {
    const now = new Date();
    for (const consumer of this.consumers.values()) consumer.tick(now);
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      for (const consumer of this.consumers.values()) {
        if (!consumer.isStarted) continue;
        await consumer.setPaused(await this.readPaused(consumer.name));
      }
      this.refreshFailed = false;
    } catch (error) {
      if (!this.refreshFailed) this.logger.warn(`cannot re-read the paused flags: ${errorText(error)}`);
      this.refreshFailed = true;
    } finally {
      this.refreshing = false;
    }
  }
}
