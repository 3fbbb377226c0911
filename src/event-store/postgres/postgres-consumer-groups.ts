import type { Pool } from 'pg';
import {
  ConsumerGroups,
  type ConsumerGroupInfo,
  type ConsumerGroupSettings,
  type DeliveryHandler,
  type GroupSubscription,
  type ParkedEvent,
} from '../consumer-groups.port.js';
import { assertValidSettings, type RetrySchedule } from '../consumer-group-rules.js';
import { DeliveryLoops, resolveGroupLoopOptions, type GroupLoopOptions } from '../group-loops.js';
import { EventStoreUnavailableError } from '../event-store.port.js';
import { PostgresConsumerGroupTables } from './postgres-consumer-group-tables.js';
import { PostgresDeliveryLoop, type GroupSignals } from './postgres-delivery-loop.js';
import { toPortError } from './postgres-errors.js';
import { GroupLeases } from './postgres-leases.js';
import type { PostgresNotifier } from './postgres-notifier.js';

/** instanceId: the owner named on this instance's leases; onError is told about the leases' failures too. */
export interface PostgresConsumerGroupOptions extends GroupLoopOptions {
  /** PROJECTION_LEASE_MS: a group's owner that stops renewing loses it after this long. Default 10 s. */
  readonly leaseMs?: number;
  /** Fallback poll of a delivery loop when no notification comes (PROJECTION_HEARTBEAT_MS). Default 1 s. */
  readonly pollMs?: number;
}

const DEFAULT_LEASE_MS = 10_000;
const DEFAULT_POLL_MS = 1_000;

/**
 * The PostgreSQL store's consumer groups: checkpoints, retries and parked events in PostgreSQL (the same
 * tables and rules as the embedded store's), one delivery loop per group in this instance, woken by LISTEN/
 * NOTIFY with a poll as the fallback — and leases, so that among several instances each group is delivered by
 * one at a time and the groups spread over the live instances (postgres-leases.ts).
 *
 * Made by PostgresEventStore, which closes it before its pool: a handler in flight may still append.
 */
export class PostgresConsumerGroups extends ConsumerGroups {
  readonly instanceId: string;
  private readonly tables: PostgresConsumerGroupTables;
  private readonly leases: GroupLeases;
  private readonly signals: GroupSignals;
  private readonly loops = new DeliveryLoops<PostgresDeliveryLoop>();
  private readonly onError: (group: string, error: unknown) => void;
  private readonly options: PostgresConsumerGroupOptions;
  private readonly retry: RetrySchedule;
  private closed = false;

  constructor(
    pool: Pool,
    notifier: PostgresNotifier,
    channels: { readonly events: string; readonly groups: string },
    options: PostgresConsumerGroupOptions = {},
  ) {
    super();
    this.options = options;
    const { instanceId, retry, onError } = resolveGroupLoopOptions(options);
    this.instanceId = instanceId;
    this.retry = retry;
    this.onError = onError;
    this.tables = new PostgresConsumerGroupTables(pool, channels.groups);
    this.leases = new GroupLeases(pool, {
      instanceId: this.instanceId,
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      channel: channels.groups,
      onError: (error) => this.onError('(leases)', error),
    });
    this.signals = {
      onAppended: (listener) => notifier.on(channels.events, listener),
      onReplayed: (group, listener) =>
        notifier.on(channels.groups, (payload) => {
          if (payload === `replay:${group}`) listener();
        }),
      onReconnected: (listener) => notifier.onConnected(listener),
    };
    // Another instance released a lease: maybe ours to take. After a reconnection: maybe one was missed.
    notifier.on(channels.groups, (payload) => {
      if (payload.startsWith('lease:')) this.leases.nudge();
    });
    notifier.onConnected(() => this.leases.nudge());
  }

  subscribeToGroup(settings: ConsumerGroupSettings, handler: DeliveryHandler): GroupSubscription {
    this.assertOpen();
    assertValidSettings(settings);
    // A loop still stopping settles its last batch (and releases the lease) first.
    return this.loops.subscribe(
      settings,
      handler,
      (previous) =>
        new PostgresDeliveryLoop(this.tables, this.leases, this.signals, {
          settings,
          retry: this.retry,
          pollMs: this.options.pollMs ?? DEFAULT_POLL_MS,
          onError: this.onError,
          previous,
        }),
    );
  }

  async listParked(group: string, options: { limit?: number } = {}): Promise<ParkedEvent[]> {
    this.assertOpen();
    return this.run('list parked events', () => this.tables.listParked(group, options.limit ?? null));
  }

  /** Parked → pending with retry count 0, due now; the group's owner (here or elsewhere) is told at once. */
  async replayParked(group: string, options: { limit?: number } = {}): Promise<number> {
    this.assertOpen();
    const { limit } = options;
    if (limit !== undefined && limit <= 0) return 0;
    const count = await this.run('replay parked events', () =>
      this.tables.replayParked(group, limit ?? null),
    );
    if (count > 0) this.loops.get(group)?.dueNow();
    return count;
  }

  /**
   * Checkpoint, parked count and owner (the holder of an unexpired lease) from the database; a loop of the
   * group delivering here knows a newer checkpoint (it writes skips lazily).
   */
  async groupInfo(group: string): Promise<ConsumerGroupInfo> {
    this.assertOpen();
    const info = await this.run('read a consumer group', () => this.tables.info(group));
    const live = this.loops.get(group)?.settledCheckpoint();
    const checkpoint =
      live === undefined || live === null || (info.checkpoint !== null && info.checkpoint >= live)
        ? info.checkpoint
        : live;
    return { group, checkpoint, parkedCount: info.parkedCount, owner: info.owner };
  }

  /** Stops every delivery loop (each settles its batch in flight), then releases the leases. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.loops.stopAll();
    await this.leases.close();
  }

  private async run<T>(doing: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw toPortError(error, doing);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreUnavailableError('the event store is closed');
  }
}
