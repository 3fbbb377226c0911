import esdb, { type EventStoreDBClient, type ResolvedEvent } from '@eventstore/db-client';
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
import { isCommandErrorOf, toPortError } from './esdb-errors.js';
import {
  EsdbGroupSubscription,
  type GroupConnection,
  type GroupConnector,
} from './esdb-group-subscription.js';
import { eventTypeRegex, recordedEventAt } from './esdb-mapping.js';
import { parseParkedReason, type Backoff } from './esdb-settlement.js';

// The client is CommonJS: take its named exports from the default import.
const {
  ErrorType,
  eventTypeFilter,
  persistentSubscriptionToAllSettingsFromDefaults,
  START,
  FORWARDS,
  PINNED,
} = esdb;

export interface EsdbConsumerGroupOptions {
  /** Backoff before a retried event is delivered again (default 100 ms doubling to 10 s). */
  readonly retryBackoff?: Backoff;
  /** Backoff before a dropped group subscription resubscribes (default 200 ms doubling to 10 s). */
  readonly reconnectBackoff?: Backoff;
  /**
   * Told when a group subscription drops or fails to connect (it resubscribes by itself). Default: a
   * process warning, so that a group that cannot connect (access denied, server gone) is not silent.
   */
  readonly onGroupError?: (group: string, error: unknown) => void;
}

/**
 * Server settings of a new group. `startFrom: START` (the default END would miss history); Pinned keeps one
 * stream's events on one consumer when there are several (best effort); checkpoints at most every second and
 * after as little as one event, so that `groupInfo` follows a quiet group too (the defaults, 2 s and 10
 * events, would leave a group of a few events without a checkpoint for good).
 */
function groupSettings(settings: ConsumerGroupSettings) {
  return persistentSubscriptionToAllSettingsFromDefaults({
    startFrom: START,
    resolveLinkTos: false,
    consumerStrategyName: PINNED,
    maxRetryCount: settings.maxRetries,
    checkPointAfter: 1_000,
    checkPointLowerBound: 1,
  });
}

/** `$persistentsubscription-$all::<group>-parked`: links to the parked events, the reason in their metadata. */
function parkedStreamOf(group: string): string {
  return `$persistentsubscription-$all::${group}-parked`;
}

/**
 * The consumer groups on EventStoreDB: persistent subscriptions to `$all` (EsdbGroupSubscription), their
 * parked streams and their server-side checkpoints. Made by EsdbEventStore on its client, which it stops
 * before disposing of that client.
 */
export class EsdbConsumerGroups extends ConsumerGroups {
  private readonly subscriptions = new Set<EsdbGroupSubscription>();
  private readonly connector: GroupConnector;
  private closed = false;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly options: EsdbConsumerGroupOptions = {},
  ) {
    super();
    this.connector = {
      ensureGroup: (settings) => this.ensureGroup(settings),
      // The client's PersistentSubscriptionToAll is a GroupConnection (checked by the compiler).
      connect: (group, bufferSize): GroupConnection =>
        this.client.subscribeToPersistentSubscriptionToAll(group, { bufferSize }),
      positionOf: (streamId, revision) => this.positionOf(streamId, revision),
    };
  }

  /**
   * See esdb-settlement.ts for the mapping of outcomes onto ack/nack. The group is created on first use
   * (an existing group keeps the settings it was created with: the server cannot change a `$all` filter).
   */
  subscribeToGroup(settings: ConsumerGroupSettings, handler: DeliveryHandler): GroupSubscription {
    // A disposed client would make the subscription resubscribe forever.
    if (this.closed) throw new EventStoreUnavailableError('the event store is closed');
    assertValidSettings(settings);
    const subscription = new EsdbGroupSubscription(this.connector, settings, handler, {
      ...(this.options.retryBackoff ? { retryBackoff: this.options.retryBackoff } : {}),
      ...(this.options.reconnectBackoff ? { reconnectBackoff: this.options.reconnectBackoff } : {}),
      onError:
        this.options.onGroupError ??
        ((group, error) =>
          process.emitWarning(
            `consumer group ${group}: ${error instanceof Error ? error.message : String(error)}`,
            'ConsumerGroupWarning',
          )),
    });
    this.subscriptions.add(subscription);
    subscription.start();
    return {
      stop: async () => {
        await subscription.stop();
        this.subscriptions.delete(subscription);
      },
    };
  }

  /**
   * Reads the group's parked stream: links to the parked events, resolved to the events themselves, each with
   * `{ Added, Reason, SubscriptionEventNumber }` metadata written by the server. The retry count comes from
   * the last line of the reason (see esdb-settlement.ts); a link whose event is gone (scavenged) is
   * skipped. Needs a user allowed to read system streams (admins; any user in insecure mode).
   */
  async listParked(group: string, options: { limit?: number } = {}): Promise<ParkedEvent[]> {
    const out: ParkedEvent[] = [];
    for (const { resolved, position } of await this.readParked(group, options.limit)) {
      const event = resolved.event;
      if (!event || position === null) continue;
      const link = resolved.link;
      const metadata = link?.metadata;
      const recorded = metadataField(metadata, 'reason');
      const { reason, retryCount } = parseParkedReason(typeof recorded === 'string' ? recorded : '');
      const added = metadataField(metadata, 'added');
      const parkedAt = typeof added === 'string' && !Number.isNaN(Date.parse(added)) ? new Date(added) : null;
      out.push({
        event: recordedEventAt(event, position),
        reason,
        retryCount,
        parkedAt: parkedAt ?? link?.created ?? event.created,
      });
    }
    return out;
  }

  /**
   * Replays the oldest `limit` parked events (all without a limit). The server's `stopAt` is an event number
   * of the parked stream (exclusive), not a count: it is one past the last link read here. Answers how many
   * were asked for; the server replays them asynchronously.
   */
  async replayParked(group: string, options: { limit?: number } = {}): Promise<number> {
    if (options.limit !== undefined && options.limit <= 0) return 0;
    const parked = await this.readParked(group, options.limit);
    const last = parked[parked.length - 1];
    if (!last) return 0;
    const stopAt = options.limit === undefined ? undefined : (last.resolved.link?.revision ?? -1n) + 1n;
    try {
      await this.client.replayParkedMessagesToAll(
        group,
        stopAt === undefined || stopAt <= 0n ? {} : { stopAt },
      );
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.PERSISTENT_SUBSCRIPTION_DOES_NOT_EXIST)) return 0;
      throw toPortError(error, parkedStreamOf(group));
    }
    return parked.length;
  }

  /** Checkpoint and parked count as the server reports them; the server checkpoints lazily (≤ 1 s here). */
  async groupInfo(group: string): Promise<ConsumerGroupInfo> {
    try {
      const info = await this.client.getPersistentSubscriptionToAllInfo(group);
      return {
        group,
        checkpoint: info.stats.lastCheckpointedEventPosition?.commit ?? null,
        parkedCount: Number(info.stats.parkedMessageCount),
        // Competing consumers: the server hands events to subscribers on every instance, none owns the group.
        owner: null,
      };
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.PERSISTENT_SUBSCRIPTION_DOES_NOT_EXIST, ErrorType.NOT_FOUND))
        return { group, checkpoint: null, parkedCount: 0, owner: null };
      throw toPortError(error, group);
    }
  }

  /** Stops every group subscription (each settles its batch in flight); the client stays the store's. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.subscriptions.clear();
  }

  private async ensureGroup(settings: ConsumerGroupSettings): Promise<void> {
    try {
      await this.client.createPersistentSubscriptionToAll(settings.group, groupSettings(settings), {
        filter: eventTypeFilter({ regex: eventTypeRegex(settings.eventTypes) }),
      });
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.PERSISTENT_SUBSCRIPTION_EXISTS)) return;
      throw toPortError(error, settings.group);
    }
  }

  /** The parked stream's oldest links, resolved; a missing stream (nothing ever parked) reads as empty. */
  private async readParked(
    group: string,
    limit?: number,
  ): Promise<{ resolved: ResolvedEvent; position: bigint | null }[]> {
    const out: { resolved: ResolvedEvent; position: bigint | null }[] = [];
    try {
      const read = this.client.readStream(parkedStreamOf(group), {
        direction: FORWARDS,
        fromRevision: START,
        resolveLinkTos: true,
        ...(limit !== undefined ? { maxCount: limit } : {}),
      });
      for await (const resolved of read) {
        const event = resolved.event;
        // The resolved event's own position (server 22.6+); else look it up: the read's is the link's.
        const position = event
          ? (event.position?.commit ?? (await this.positionOf(event.streamId, event.revision)))
          : null;
        out.push({ resolved, position });
      }
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.STREAM_NOT_FOUND)) return [];
      throw toPortError(error, parkedStreamOf(group));
    }
    return out;
  }

  private async positionOf(streamId: string, revision: bigint): Promise<bigint | null> {
    const read = this.client.readStream(streamId, { fromRevision: revision, maxCount: 1 });
    for await (const resolved of read)
      return resolved.event?.position?.commit ?? resolved.commitPosition ?? null;
    return null;
  }
}

/** A field of the parked link's metadata, whatever the server's JSON casing (`Reason` or `reason`). */
function metadataField(metadata: unknown, name: string): unknown {
  if (metadata === null || typeof metadata !== 'object' || metadata instanceof Uint8Array) return undefined;
  const entry = Object.entries(metadata).find(([key]) => key.toLowerCase() === name);
  return entry?.[1];
}
