import esdb, {
  type PersistentAction,
  type PersistentSubscriptionToAllResolvedEvent,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type {
  ConsumerGroupSettings,
  DeliveredEvent,
  DeliveryHandler,
  DeliveryOutcome,
  GroupSubscription,
} from '../consumer-groups.port.js';
import type { RecordedEvent } from '../event-store.port.js';
import { assertValidSettings, outcomesOf } from '../consumer-group-rules.js';
import { recordedEventAt } from './esdb-mapping.js';
import { MicroBatcher } from './esdb-micro-batcher.js';
import { backoffMs, planSettlement, type Backoff, type SettlementPlan } from './esdb-settlement.js';

export const DEFAULT_RETRY_BACKOFF: Backoff = { baseMs: 100, maxMs: 10_000 };
export const DEFAULT_RECONNECT_BACKOFF: Backoff = { baseMs: 200, maxMs: 10_000 };

/** Events in flight per connection: a batch being handled and the next one filling up meanwhile. */
export function bufferSizeFor(batchSize: number): number {
  return Math.min(Math.max(batchSize * 2, 10), 2_000);
}

/** The part of a persistent subscription this adapter uses (PersistentSubscriptionToAll has all of it). */
export interface GroupConnection {
  on(event: 'data', listener: (resolved: PersistentSubscriptionToAllResolvedEvent) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'confirmation', listener: () => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  ack(...events: ResolvedEvent[]): Promise<void>;
  nack(action: PersistentAction, reason: string, ...events: ResolvedEvent[]): Promise<void>;
  unsubscribe(): Promise<void>;
}

/** The part of the server a group subscription needs. */
export interface GroupConnector {
  /** Creates the group if it does not exist (an existing group is kept as it is). */
  ensureGroup(settings: ConsumerGroupSettings): Promise<void>;
  connect(group: string, bufferSize: number): GroupConnection;
  /** Global position of an event delivered without one (a replayed parked event is a resolved link). */
  positionOf(streamId: string, revision: bigint): Promise<bigint | null>;
}

export interface EsdbGroupOptions {
  readonly retryBackoff?: Backoff;
  readonly reconnectBackoff?: Backoff;
  /** Told about connection failures (the subscription resubscribes by itself). */
  readonly onError?: (group: string, error: unknown) => void;
}

interface Received {
  readonly connection: GroupConnection;
  readonly resolved: PersistentSubscriptionToAllResolvedEvent;
}

interface DelayedNack {
  readonly connection: GroupConnection;
  readonly reason: string;
  readonly events: ResolvedEvent[];
  timer: NodeJS.Timeout | undefined;
}

// The client is CommonJS: take its named exports from the default import.
const { PARK, RETRY } = esdb;

/**
 * One subscriber of a consumer group on EventStoreDB: a persistent subscription to `$all`, filtered by event
 * type, read in micro-batches (MicroBatcher) and settled as esdb-settlement.ts maps the port's outcomes onto
 * ack/nack; it resubscribes with backoff until stopped. It talks to the server through a narrow
 * `GroupConnector`, so that it can be tested without one.
 */
export class EsdbGroupSubscription implements GroupSubscription {
  private connection: GroupConnection | null = null;
  private readonly batcher: MicroBatcher<Received>;
  private readonly delayed = new Set<DelayedNack>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private readonly retryBackoff: Backoff;
  private readonly reconnectBackoff: Backoff;
  /** Connections made so far (1 + resubscriptions); for diagnostics and tests. */
  connects = 0;
  lastError: unknown = null;

  constructor(
    private readonly connector: GroupConnector,
    private readonly settings: ConsumerGroupSettings,
    private readonly handler: DeliveryHandler,
    private readonly options: EsdbGroupOptions = {},
  ) {
    assertValidSettings(settings);
    this.retryBackoff = options.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
    this.reconnectBackoff = options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF;
    this.batcher = new MicroBatcher(settings.batchSize, (batch) => this.handle(batch));
  }

  start(): this {
    void this.connect();
    return this;
  }

  /** Settles the batch in flight, sends the retries still waiting for their backoff, then unsubscribes. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.batcher.close();
    const connection = this.connection;
    this.connection = null;
    const delayed = [...this.delayed];
    this.delayed.clear();
    for (const nack of delayed) clearTimeout(nack.timer);
    if (connection) {
      // Retry now rather than wait for the server's message timeout.
      await Promise.all(
        delayed
          .filter((nack) => nack.connection === connection)
          .map((nack) =>
            connection.nack(RETRY, nack.reason, ...nack.events).catch((e: unknown) => this.report(e)),
          ),
      );
      // Events received but not handled yet go back to the server with the connection.
      await connection.unsubscribe().catch((e: unknown) => this.report(e));
    }
  }

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    let connection: GroupConnection;
    try {
      await this.connector.ensureGroup(this.settings);
      if (this.stopped) return;
      connection = this.connector.connect(this.settings.group, bufferSizeFor(this.settings.batchSize));
    } catch (error) {
      this.report(error);
      this.scheduleReconnect();
      return;
    }
    this.connection = connection;
    this.connects += 1;
    connection.on('confirmation', () => {
      this.reconnectAttempt = 0;
    });
    connection.on('data', (resolved) => {
      if (this.connection !== connection) return;
      this.reconnectAttempt = 0;
      this.batcher.push({ connection, resolved });
    });
    connection.on('error', (error) => this.dropped(connection, error));
    connection.on('end', () => this.dropped(connection));
    connection.on('close', () => this.dropped(connection));
  }

  /** The connection failed or ended: what it delivered and we did not settle, the server delivers again. */
  private dropped(connection: GroupConnection, error?: unknown): void {
    if (error !== undefined) this.report(error);
    if (this.connection !== connection) return;
    this.connection = null;
    this.batcher.drop((item) => item.connection === connection);
    for (const nack of [...this.delayed]) {
      if (nack.connection !== connection) continue;
      clearTimeout(nack.timer);
      this.delayed.delete(nack);
    }
    void connection.unsubscribe().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer !== undefined) return;
    const delay = backoffMs(this.reconnectAttempt, this.reconnectBackoff);
    this.reconnectAttempt += 1;
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private async handle(items: Received[]): Promise<void> {
    const deliverable: { item: Received; delivered: DeliveredEvent }[] = [];
    const unusable: { item: Received; reason: string }[] = [];
    for (const item of items) {
      try {
        const event = await this.recorded(item.resolved);
        if (event) deliverable.push({ item, delivered: { event, retryCount: item.resolved.retryCount } });
        else unusable.push({ item, reason: 'the event no longer exists (unresolved link)' });
      } catch (error) {
        unusable.push({ item, reason: `the event could not be read: ${errorMessage(error)}` });
      }
    }
    const outcomes =
      deliverable.length > 0
        ? await outcomesOf(
            this.handler,
            deliverable.map((d) => d.delivered),
          )
        : [];
    const plan = planSettlement(
      [
        ...deliverable.map((d) => ({ token: d.item, retryCount: d.delivered.retryCount })),
        ...unusable.map((u) => ({ token: u.item, retryCount: u.item.resolved.retryCount })),
      ],
      [...outcomes, ...unusable.map((u): DeliveryOutcome => ({ action: 'park', reason: u.reason }))],
      this.settings.maxRetries,
      this.retryBackoff,
    );
    await this.send(plan);
  }

  private async send(plan: SettlementPlan<Received>): Promise<void> {
    const sends: Promise<void>[] = [];
    for (const [connection, events] of byConnection(plan.ack)) sends.push(connection.ack(...events));
    for (const park of plan.park) {
      for (const [connection, events] of byConnection(park.events)) {
        sends.push(connection.nack(PARK, park.reason, ...events));
      }
    }
    // A failed ack/nack means a broken connection: its 'error' resubscribes, the server redelivers.
    await Promise.all(sends.map((send) => send.catch((error: unknown) => this.report(error))));
    for (const retry of plan.retry) {
      for (const [connection, events] of byConnection(retry.events)) {
        this.delayNack({ connection, reason: retry.reason, events, timer: undefined }, retry.delayMs);
      }
    }
  }

  private delayNack(nack: DelayedNack, delayMs: number): void {
    if (this.connection !== nack.connection) return;
    nack.timer = setTimeout(() => {
      this.delayed.delete(nack);
      nack.connection.nack(RETRY, nack.reason, ...nack.events).catch((error: unknown) => this.report(error));
    }, delayMs);
    nack.timer.unref();
    this.delayed.add(nack);
  }

  private async recorded(resolved: PersistentSubscriptionToAllResolvedEvent): Promise<RecordedEvent | null> {
    const event = resolved.event;
    if (!event) return null;
    // A replayed parked event arrives as a resolved link: the commit position is the link's, not the event's.
    const position =
      event.position?.commit ??
      (resolved.link
        ? await this.connector.positionOf(event.streamId, event.revision)
        : resolved.commitPosition);
    if (position === undefined || position === null) {
      throw new Error('EventStoreDB did not return its global position (a server 22.6 or newer is required)');
    }
    return recordedEventAt(event, position);
  }

  private report(error: unknown): void {
    this.lastError = error;
    this.options.onError?.(this.settings.group, error);
  }
}

function byConnection(items: readonly Received[]): Map<GroupConnection, ResolvedEvent[]> {
  const groups = new Map<GroupConnection, ResolvedEvent[]>();
  for (const { connection, resolved } of items) {
    const list = groups.get(connection);
    if (list) list.push(resolved);
    else groups.set(connection, [resolved]);
  }
  return groups;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
