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
  RecordedEvent,
} from '../event-store.port.js';
import { assertValidSettings, outcomesOf } from '../consumer-group-rules.js';
import { recordedEventAt } from './esdb-mapping.js';

/**
 * A consumer group on EventStoreDB: a persistent subscription to `$all`, filtered by event type, read in
 * micro-batches. The pure parts (backoff, outcome → ack/nack, parked reasons, batching) are exported for
 * unit tests; the subscription itself talks to the server through a narrow `GroupConnector`, so that it can
 * be tested without one.
 *
 * How the port's outcomes map onto the server:
 * - `ack` → `ack`.
 * - `park` → `nack(PARK, reason)`. The server prefixes the reason ("Client explicitly NAK'ed message.\n");
 *   `parseParkedReason` takes it off again.
 * - `retry` → `nack(RETRY)` after a backoff (the server retries at once, the port asks for a backoff: the
 *   event stays in flight meanwhile, capped at 10 s, well under the 30 s message timeout). A `retry` of an
 *   event that already had `maxRetries` retries is sent as `nack(PARK, reason)` by this adapter instead of
 *   letting the server park it: the server would park it with its own reason ("Reached retry count of N")
 *   and lose the consumer's. The group's `maxRetryCount` is the same number, so events that time out or
 *   whose connection drops are still parked by the server after as many deliveries.
 * - The parked stream does not record the retry count: the adapter appends it to the reason as a last line
 *   `[retryCount=N]`, and reads it back from there.
 */

export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_RETRY_BACKOFF: Backoff = { baseMs: 100, maxMs: 10_000 };
export const DEFAULT_RECONNECT_BACKOFF: Backoff = { baseMs: 200, maxMs: 10_000 };

/** base × 2^attempt, capped (attempt 0 → base). */
export function backoffMs(attempt: number, { baseMs, maxMs }: Backoff): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
}

/** Events in flight per connection: a batch being handled and the next one filling up meanwhile. */
export function bufferSizeFor(batchSize: number): number {
  return Math.min(Math.max(batchSize * 2, 10), 2_000);
}

const SERVER_NAK_PREFIX = "Client explicitly NAK'ed message.\n";
const RETRY_COUNT_LINE = /\n\[retryCount=(\d+)\]$/;
const SERVER_MAX_RETRIES = /^(?:Reached retry count of|Max retry count reached:?) (\d+)/;

/** The reason sent with `nack(PARK)`: the consumer's, plus the retry count the parked stream cannot hold. */
export function parkReason(reason: string, retryCount: number): string {
  return `${reason}\n[retryCount=${retryCount}]`;
}

/** Reason and retry count of a parked event, from the reason the server recorded (0 when it did not say). */
export function parseParkedReason(recorded: string): { reason: string; retryCount: number } {
  let reason = recorded.startsWith(SERVER_NAK_PREFIX) ? recorded.slice(SERVER_NAK_PREFIX.length) : recorded;
  const line = RETRY_COUNT_LINE.exec(reason);
  if (line) {
    reason = reason.slice(0, line.index);
    return { reason, retryCount: Number(line[1]) };
  }
  const serverParked = SERVER_MAX_RETRIES.exec(reason);
  return { reason, retryCount: serverParked ? Number(serverParked[1]) : 0 };
}

export interface SettlementPlan<T> {
  readonly ack: T[];
  /** Parked now, grouped by reason (one nack per reason). */
  readonly park: { readonly reason: string; readonly events: T[] }[];
  /** Retried after `delayMs`, grouped by reason and delay. */
  readonly retry: { readonly reason: string; readonly delayMs: number; readonly events: T[] }[];
}

/** What to tell the server about a handled batch. `items[i]` had outcome `outcomes[i]`. */
export function planSettlement<T>(
  items: readonly { readonly token: T; readonly retryCount: number }[],
  outcomes: readonly DeliveryOutcome[],
  maxRetries: number,
  retryBackoff: Backoff,
): SettlementPlan<T> {
  const plan: SettlementPlan<T> = { ack: [], park: [], retry: [] };
  const park = (reason: string, token: T): void => {
    const group = plan.park.find((g) => g.reason === reason);
    if (group) group.events.push(token);
    else plan.park.push({ reason, events: [token] });
  };
  items.forEach(({ token, retryCount }, i) => {
    const outcome: DeliveryOutcome = outcomes[i] ?? { action: 'retry', reason: 'no outcome' };
    switch (outcome.action) {
      case 'ack':
        plan.ack.push(token);
        return;
      case 'park':
        park(parkReason(outcome.reason, retryCount), token);
        return;
      case 'retry': {
        if (retryCount + 1 > maxRetries) {
          park(parkReason(outcome.reason, retryCount), token);
          return;
        }
        const delayMs = backoffMs(retryCount, retryBackoff);
        const group = plan.retry.find((g) => g.reason === outcome.reason && g.delayMs === delayMs);
        if (group) group.events.push(token);
        else plan.retry.push({ reason: outcome.reason, delayMs, events: [token] });
        return;
      }
      default: {
        const unknown: never = outcome;
        throw new Error(`unknown delivery outcome ${JSON.stringify(unknown)}`);
      }
    }
  });
  return plan;
}

/**
 * Collects what arrives during one turn of the event loop (flushed on setImmediate) into batches of at most
 * `maxBatch`, and hands them to `handle` one at a time: the next batch fills up while one is handled.
 */
export class MicroBatcher<T> {
  private queue: T[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly maxBatch: number,
    private readonly handle: (batch: T[]) => Promise<void>,
  ) {}

  push(item: T): void {
    if (this.closed) return;
    this.queue.push(item);
    this.schedule();
  }

  /** Forgets queued items (not the batch in flight), e.g. those of a connection that is gone. */
  drop(predicate: (item: T) => boolean): void {
    this.queue = this.queue.filter((item) => !predicate(item));
  }

  get queued(): number {
    return this.queue.length;
  }

  /** No batch after this one; resolves once the batch in flight (if any) is handled. Queued items are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue = [];
    await this.inFlight;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.closed || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight || this.closed) return;
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.inFlight = this.handle(batch)
      .catch(() => undefined)
      .finally(() => {
        this.inFlight = null;
        this.schedule();
      });
  }
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

/** One subscriber of a group: connects, batches, settles, and resubscribes with backoff until stopped. */
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
