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
import { GroupRecovery, type RecoveryConnector } from './esdb-group-recovery.js';
import { positionOf, recordedEventAt } from './esdb-mapping.js';
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
export interface GroupConnector extends RecoveryConnector {
  /**
   * Creates the group if it does not exist (an existing group is kept as it is) and answers its name on the
   * server, which says which settings it was created with (see esdb-consumer-groups.ts).
   */
  ensureGroup(settings: ConsumerGroupSettings): Promise<string>;
  connect(serverGroup: string, bufferSize: number): GroupConnection;
  /** Ends a connection we stop using, giving what was written on it (acks, nacks) a chance to arrive first. */
  close(connection: GroupConnection): Promise<void>;
  /** Global position of an event delivered without its own (a replayed parked event is a resolved link). */
  positionOf(streamId: string, revision: bigint): Promise<bigint | null>;
}

export interface EsdbGroupOptions {
  readonly retryBackoff?: Backoff;
  readonly reconnectBackoff?: Backoff;
  /** Told about connection failures (the subscription resubscribes by itself). */
  readonly onError?: (group: string, error: unknown) => void;
  /** How often the group's progress is asked while connected, to move its settled mark (default 10 s). */
  readonly settledPollMs?: number;
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

/** Events whose deliveries are remembered (see DeliveryCounts). */
const REMEMBERED_EVENTS = 10_000;

/**
 * How many times each event was handed to the handler here, by the id the server tracks it by (the link's
 * for a replayed parked event). The server's `retryCount` also counts deliveries the handler never saw: every
 * disconnect adds one to each event in flight or queued here, and so does a message timeout that ran while
 * the event waited its turn. Counting on it would park events that never failed; the server's count is only
 * used for an event this process has not seen (delivered elsewhere before, or before a restart).
 */
class DeliveryCounts {
  private readonly counts = new Map<string, number>();

  get(key: string): number | undefined {
    return this.counts.get(key);
  }

  set(key: string, count: number): void {
    this.counts.delete(key);
    this.counts.set(key, count);
    if (this.counts.size > REMEMBERED_EVENTS) {
      const oldest = this.counts.keys().next();
      if (!oldest.done) this.counts.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.counts.delete(key);
  }
}

/** The id the server acks an event by (as the client sends it: the link's id when there is a link). */
function keyOf(resolved: ResolvedEvent): string {
  return resolved.link?.id ?? resolved.event?.id ?? '';
}

/**
 * One subscriber of a consumer group on EventStoreDB: a persistent subscription to `$all`, filtered by event
 * type, read in micro-batches (MicroBatcher) and settled as esdb-settlement.ts maps the port's outcomes onto
 * ack/nack; it resubscribes with backoff until stopped. After each (re)connection a GroupRecovery re-reads
 * what the server's checkpoint may have skipped. It talks to the server through a narrow `GroupConnector`, so
 * that it can be tested without one.
 */
export class EsdbGroupSubscription implements GroupSubscription {
  private connection: GroupConnection | null = null;
  private readonly batcher: MicroBatcher<Received>;
  private readonly delayed = new Set<DelayedNack>();
  private readonly counts = new DeliveryCounts();
  private readonly recovery: GroupRecovery;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  /** The group's name on the server, once ensured. */
  private serverGroup: string | null = null;
  /** The newest position among the events this subscriber acknowledged or parked. */
  private settledUpTo: bigint | null = null;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  /** One handler call at a time: live batches and recovered ones take turns. */
  private handlerTurn: Promise<unknown> = Promise.resolve();
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
    this.recovery = new GroupRecovery(connector, settings, {
      handle: (batch) => this.inTurn(() => outcomesOf(this.handler, batch)),
      retryBackoff: this.retryBackoff,
      pollMs: options.settledPollMs ?? 10_000,
      report: (error) => this.report(error),
    });
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
    const queued = this.batcher.queued;
    await Promise.all([this.batcher.close(), this.recovery.stop()]);
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
      // Nothing left here unsettled: let the group's mark cover what was settled (GroupRecovery).
      if (queued === 0 && delayed.length === 0 && this.serverGroup !== null && this.settledUpTo !== null) {
        await this.recovery.settle(this.serverGroup, this.settledUpTo);
      }
      // Events received but not handled yet go back to the server with the connection.
      await this.connector.close(connection).catch((e: unknown) => this.report(e));
    }
  }

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    let connection: GroupConnection;
    let serverGroup: string;
    try {
      serverGroup = await this.connector.ensureGroup(this.settings);
      if (this.stopped) return;
      connection = this.connector.connect(serverGroup, bufferSizeFor(this.settings.batchSize));
    } catch (error) {
      this.report(error);
      this.scheduleReconnect();
      return;
    }
    this.connection = connection;
    this.serverGroup = serverGroup;
    this.connects += 1;
    connection.on('confirmation', () => {
      this.reconnectAttempt = 0;
      if (this.connection === connection) this.recovery.connected(serverGroup);
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
    this.recovery.disconnected();
    // Queued here, never handed to the handler: the server's next retry count will be one too many.
    this.batcher.drop((item) => {
      if (item.connection !== connection) return false;
      const key = keyOf(item.resolved);
      if (this.counts.get(key) === undefined) this.counts.set(key, item.resolved.retryCount);
      return true;
    });
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

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.handlerTurn.then(work);
    this.handlerTurn = turn.catch(() => undefined);
    return turn;
  }

  private async handle(items: Received[]): Promise<void> {
    const deliverable: { item: Received; delivered: DeliveredEvent }[] = [];
    const unusable: { item: Received; reason: string; retryCount: number }[] = [];
    for (const item of items) {
      const key = keyOf(item.resolved);
      const retryCount = this.counts.get(key) ?? item.resolved.retryCount;
      this.counts.set(key, retryCount + 1);
      try {
        const event = await this.recorded(item.resolved);
        if (event) deliverable.push({ item, delivered: { event, retryCount } });
        else unusable.push({ item, reason: 'the event no longer exists (unresolved link)', retryCount });
      } catch (error) {
        unusable.push({ item, reason: `the event could not be read: ${errorMessage(error)}`, retryCount });
      }
    }
    const outcomes =
      deliverable.length > 0
        ? await this.inTurn(() =>
            outcomesOf(
              this.handler,
              deliverable.map((d) => d.delivered),
            ),
          )
        : [];
    const plan = planSettlement(
      [
        ...deliverable.map((d) => ({ token: d.item, retryCount: d.delivered.retryCount })),
        ...unusable.map((u) => ({ token: u.item, retryCount: u.retryCount })),
      ],
      [...outcomes, ...unusable.map((u): DeliveryOutcome => ({ action: 'park', reason: u.reason }))],
      this.settings.maxRetries,
      this.retryBackoff,
    );
    const positions = new Map(deliverable.map((d) => [d.item, d.delivered.event.position]));
    for (const item of [...plan.ack, ...plan.park.flatMap((p) => p.events)]) {
      this.counts.delete(keyOf(item.resolved));
      const position = positions.get(item);
      if (position !== undefined && (this.settledUpTo === null || position > this.settledUpTo)) {
        this.settledUpTo = position;
      }
    }
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

  /**
   * The delivered event with its own global position. A persistent subscription sends the position it read
   * the record at on both the event and the link: for a replayed parked event (a resolved link) that is the
   * link's, so the event's own is looked up.
   */
  private async recorded(resolved: PersistentSubscriptionToAllResolvedEvent): Promise<RecordedEvent | null> {
    const event = resolved.event;
    if (!event) return null;
    const position = resolved.link
      ? await this.connector.positionOf(event.streamId, event.revision)
      : positionOf(event, resolved);
    if (position === null) {
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
