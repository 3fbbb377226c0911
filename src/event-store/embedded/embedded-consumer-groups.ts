import {
  ConsumerGroups,
  type ConsumerGroupInfo,
  type ConsumerGroupSettings,
  type DeliveryHandler,
  type GroupSubscription,
  type ParkedEvent,
} from '../consumer-groups.port.js';
import { EventStoreUnavailableError } from '../event-store.port.js';
import { assertValidSettings } from '../consumer-group-rules.js';
import { DeliveryLoops, resolveGroupLoopOptions, type GroupLoopOptions } from '../group-loops.js';
import { ConsumerGroupTables } from './embedded-consumer-group-tables.js';
import { GroupDeliveryLoop, type AppendNotifier, type ConsumerGroupStats } from './embedded-delivery-loop.js';

/** instanceId: the owner `groupInfo` names while a group has a subscriber in this process. */
export type ConsumerGroupOptions = GroupLoopOptions;

/**
 * The embedded store's consumer groups: durable checkpoints, retries and parked events in the store's file
 * (ConsumerGroupTables, on a connection of their own), delivered by one GroupDeliveryLoop per group that
 * sleeps until the store's append notification, a retry's due time or a stop wakes it.
 *
 * Made by EmbeddedEventStore, which closes it before its own connection: a handler in flight may still append.
 */
export class EmbeddedConsumerGroups extends ConsumerGroups {
  private readonly tables: ConsumerGroupTables;
  private readonly loops = new DeliveryLoops<GroupDeliveryLoop>();
  private readonly onError: (group: string, error: unknown) => void;
  private readonly instanceId: string;
  private closed = false;

  constructor(
    file: string,
    private readonly notifier: AppendNotifier,
    options: ConsumerGroupOptions = {},
  ) {
    super();
    const { instanceId, retry, onError } = resolveGroupLoopOptions(options);
    this.instanceId = instanceId;
    this.onError = onError;
    this.tables = new ConsumerGroupTables(file, retry);
  }

  subscribeToGroup(settings: ConsumerGroupSettings, handler: DeliveryHandler): GroupSubscription {
    this.assertOpen();
    assertValidSettings(settings);
    // A loop still stopping settles its last batch first: the next one starts from its checkpoint.
    return this.loops.subscribe(
      settings,
      handler,
      (previous) =>
        new GroupDeliveryLoop(this.tables, this.notifier, { settings, onError: this.onError, previous }),
    );
  }

  async listParked(group: string, options: { limit?: number } = {}): Promise<ParkedEvent[]> {
    this.assertOpen();
    return this.tables.listParked(group, options.limit ?? -1);
  }

  /** Parked → pending with retry count 0, due now; a loop of this group running here is woken at once. */
  async replayParked(group: string, options: { limit?: number } = {}): Promise<number> {
    this.assertOpen();
    const { limit } = options;
    if (limit !== undefined && limit <= 0) return 0;
    const now = Date.now();
    const count = this.tables.replayParked(group, limit ?? -1, now);
    if (count > 0) this.loops.get(group)?.dueBy(now);
    return count;
  }

  /**
   * A loop of the group running here knows a newer checkpoint than the file (it writes skips lazily). The
   * file is this process's alone, so the group's owner is this process while it has a subscriber here.
   */
  async groupInfo(group: string): Promise<ConsumerGroupInfo> {
    this.assertOpen();
    const loop = this.loops.get(group);
    const live = loop?.settledCheckpoint();
    const checkpoint = live !== undefined ? live : this.tables.checkpoint(group);
    return {
      group,
      checkpoint: checkpoint === null ? null : BigInt(checkpoint),
      parkedCount: this.tables.parkedCount(group),
      owner: loop && !loop.stopping ? this.instanceId : null,
    };
  }

  /** What a group's delivery loop in this process has done (null: no subscriber here). Diagnostics, tests. */
  stats(group: string): ConsumerGroupStats | null {
    return this.loops.get(group)?.snapshot() ?? null;
  }

  /** Stops every delivery loop (each settles its batch in flight), then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.loops.stopAll();
    this.tables.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreUnavailableError('the event store is closed');
  }
}
