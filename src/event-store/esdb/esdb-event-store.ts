import esdb, { type AppendExpectedRevision, type ResolvedEvent } from '@eventstore/db-client';
import {
  EventStore,
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
  type AppendResult,
  type ConsumerGroupInfo,
  type ConsumerGroupSettings,
  type DeliveryHandler,
  type EventToAppend,
  type ExpectedRevision,
  type GroupSubscription,
  type ParkedEvent,
  type ReadAllOptions,
  type ReadByCorrelationOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamMetadata,
} from '../event-store.port.js';
import {
  EsdbGroupSubscription,
  parseParkedReason,
  type Backoff,
  type GroupConnection,
  type GroupConnector,
} from './esdb-consumer-group.js';
import { assertValidSettings } from '../consumer-group-rules.js';
import {
  correlationStreamOf,
  eventTypeRegex,
  isSystemEvent,
  recordedEventAt,
  toEsdbMetadata,
  toRecorded,
} from './esdb-mapping.js';

// The client is CommonJS: take its named exports from the default import.
const {
  EventStoreDBClient,
  jsonEvent,
  ErrorType,
  isCommandError,
  convertToCommandError,
  eventTypeFilter,
  persistentSubscriptionToAllSettingsFromDefaults,
  START,
  END,
  FORWARDS,
  BACKWARDS,
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  PINNED,
} = esdb;

type Client = InstanceType<typeof EventStoreDBClient>;

export interface EsdbEventStoreOptions {
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

/** Events per readAll page when counting (countAll). */
const COUNT_PAGE = 5_000;

/** `$persistentsubscription-$all::<group>-parked`: links to the parked events, the reason in their metadata. */
function parkedStreamOf(group: string): string {
  return `$persistentsubscription-$all::${group}-parked`;
}

/**
 * EventStoreDB (21.10+, tested against 24.10) through @eventstore/db-client 6.2.1. A thin mapping: bigint
 * revisions and positions pass straight through; client errors become the port's errors. Needs server 22.6+
 * for the global position of stream events.
 */
export class EsdbEventStore extends EventStore {
  private readonly client: Client;
  private readonly subscriptions = new Set<EsdbGroupSubscription>();
  private readonly connector: GroupConnector;
  private closed = false;

  constructor(
    connectionString: string,
    private readonly options: EsdbEventStoreOptions = {},
  ) {
    super();
    this.client = EventStoreDBClient.connectionString(connectionString);
    this.connector = {
      ensureGroup: (settings) => this.ensureGroup(settings),
      // The client's PersistentSubscriptionToAll is a GroupConnection (checked by the compiler).
      connect: (group, bufferSize): GroupConnection =>
        this.client.subscribeToPersistentSubscriptionToAll(group, { bufferSize }),
      positionOf: (streamId, revision) => this.positionOf(streamId, revision),
    };
  }

  async append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    const expectedRevision: AppendExpectedRevision =
      expected === 'any'
        ? ANY
        : expected === 'no_stream'
          ? NO_STREAM
          : expected === 'stream_exists'
            ? STREAM_EXISTS
            : expected;
    try {
      const result = await this.client.appendToStream(
        streamId,
        events.map((e) =>
          jsonEvent({ id: e.id, type: e.type, data: e.data, metadata: toEsdbMetadata(e.metadata) }),
        ),
        { expectedRevision },
      );
      return { nextExpectedRevision: result.nextExpectedRevision, position: result.position?.commit ?? -1n };
    } catch (error) {
      throw this.translate(error, streamId, expected);
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    if (options.limit === 0) return [];
    const backwards = options.direction === 'backwards';
    const out: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.from ?? (backwards ? END : START),
        ...(options.limit !== undefined ? { maxCount: options.limit } : {}),
      });
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        if (event) out.push(event);
      }
    } catch (error) {
      if (isCommandError(error as Error) && (error as { type?: string }).type === ErrorType.STREAM_NOT_FOUND)
        return [];
      throw this.translate(error, streamId);
    }
    return out;
  }

  async streamRevision(streamId: string): Promise<bigint | 'no_stream'> {
    const [last] = await this.readStream(streamId, { direction: 'backwards', limit: 1 });
    return last ? last.revision : 'no_stream';
  }

  /**
   * 6.x `readAll` cannot filter on the server: system events are dropped here. With `eventTypes`, see
   * readAllOfTypes.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = options.after ?? -1n;
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    const out: RecordedEvent[] = [];
    if (limit <= 0) return out;
    if (options.eventTypes !== undefined) return this.readAllOfTypes(after, limit, options.eventTypes);
    try {
      const read = this.client.readAll({
        direction: FORWARDS,
        fromPosition: after < 0n ? START : { commit: after, prepare: after },
      });
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        if (!event || event.type.startsWith('$') || event.streamId.startsWith('$') || event.position <= after)
          continue;
        out.push(event);
        if (out.length >= limit) break;
      }
    } catch (error) {
      throw this.translate(error, '$all');
    }
    return out;
  }

  /**
   * `readAll` by event type, filtered on the server: a catch-up `subscribeToAll` with an event-type filter
   * (6.x `readAll` has no filter), from `after` (exclusive) until the limit, the head or `caughtUp` (server
   * 23.10+). Only matching events cross the wire, which matters for a rebuild that wants 1% of the log; the
   * alternative, reading everything and filtering here, moves every event (snapshots included) to find them.
   * The head read first bounds the read (events appended meanwhile belong to the next page), and a filter
   * checkpoint past the head ends it too, so a server that does not send `caughtUp` still finishes as soon as
   * it has searched past the head.
   */
  private async readAllOfTypes(
    after: bigint,
    limit: number,
    types: readonly string[],
  ): Promise<RecordedEvent[]> {
    if (types.length === 0) return [];
    const head = await this.headPosition();
    if (head <= after) return [];
    return new Promise<RecordedEvent[]>((resolve, reject) => {
      const out: RecordedEvent[] = [];
      let done = false;
      const finish = (error?: unknown): void => {
        if (done) return;
        done = true;
        void subscription.unsubscribe().catch(() => undefined);
        if (error === undefined) resolve(out);
        else reject(this.translate(error, '$all'));
      };
      const subscription = this.client.subscribeToAll({
        fromPosition: after < 0n ? START : { commit: after, prepare: after },
        resolveLinkTos: false,
        filter: eventTypeFilter({
          regex: eventTypeRegex(types),
          checkpointReached: (_subscription, position) => {
            if (position.commit >= head) finish();
          },
        }),
      });
      subscription.on('data', (resolved) => {
        if (done) return;
        let event: RecordedEvent | null;
        try {
          event = toRecorded(resolved);
        } catch (error) {
          finish(error);
          return;
        }
        if (!event || isSystemEvent(event) || event.position <= after) return;
        if (event.position > head) {
          finish();
          return;
        }
        out.push(event);
        if (out.length >= limit || event.position === head) finish();
      });
      subscription.on('caughtUp', () => finish());
      subscription.on('error', (error) => finish(error));
      subscription.on('end', () => finish());
    });
  }

  /**
   * Position of the newest event that is not a system event (what readAll would return last), -1n when there
   * is none. System events are skipped because the server writes them by itself (statistics, subscription
   * checkpoints, parked links): a head that moves without any application append would make a consumer's lag
   * never reach zero.
   */
  /**
   * EventStoreDB keeps no count: pages of readAll (filtered on the server for event types) are counted and
   * dropped, so memory stays at one page and the cost is bounded by the limit.
   */
  async countAll(options: ReadAllOptions = {}): Promise<number> {
    const cap = options.limit ?? Number.MAX_SAFE_INTEGER;
    let after = options.after ?? -1n;
    let counted = 0;
    while (counted < cap) {
      const page = await this.readAll({
        after,
        limit: Math.min(COUNT_PAGE, cap - counted),
        ...(options.eventTypes !== undefined && { eventTypes: options.eventTypes }),
      });
      counted += page.length;
      const last = page[page.length - 1];
      if (!last || page.length < Math.min(COUNT_PAGE, cap - counted + page.length)) break;
      after = last.position;
    }
    return counted;
  }

  async headPosition(): Promise<bigint> {
    try {
      const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END });
      for await (const resolved of read) {
        const event = resolved.event;
        if (!event || isSystemEvent(event)) continue;
        return event.position?.commit ?? resolved.commitPosition ?? -1n;
      }
    } catch (error) {
      throw this.translate(error, '$all');
    }
    return -1n;
  }

  /**
   * Reads the `$bc-<correlationId>` stream of the `$by_correlation_id` system projection, resolving its links.
   * Server side this needs the projection subsystem (`RunProjections=System` or `All`) with
   * `$by_correlation_id` started; it keys events by `$correlationId`, which `append` writes (see
   * toEsdbMetadata). The projection links events in `$all` order, so the links are in position order; a
   * correlation is a handful of events, so skipping to `after` by reading from the start is cheap. A link
   * whose event is gone (scavenged) is skipped.
   */
  async readByCorrelation(
    correlationId: string,
    options: ReadByCorrelationOptions = {},
  ): Promise<RecordedEvent[]> {
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    const after = options.after ?? -1n;
    const out: RecordedEvent[] = [];
    if (limit <= 0) return out;
    const streamId = correlationStreamOf(correlationId);
    try {
      const read = this.client.readStream(streamId, {
        direction: FORWARDS,
        fromRevision: START,
        resolveLinkTos: true,
      });
      for await (const resolved of read) {
        const event = toRecorded(resolved);
        if (!event || event.position <= after) continue;
        out.push(event);
        if (out.length >= limit) break;
      }
    } catch (error) {
      if (isCommandError(error as Error) && (error as { type?: string }).type === ErrorType.STREAM_NOT_FOUND)
        return [];
      throw this.translate(error, streamId);
    }
    return out;
  }

  /**
   * See esdb-consumer-group.ts for the mapping of outcomes onto ack/nack. The group is created on first use
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
   * the last line of the reason (see esdb-consumer-group.ts); a link whose event is gone (scavenged) is
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
      if (
        isCommandError(error as Error) &&
        (error as { type?: string }).type === ErrorType.PERSISTENT_SUBSCRIPTION_DOES_NOT_EXIST
      )
        return 0;
      throw this.translate(error, parkedStreamOf(group));
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
      };
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (
        isCommandError(error as Error) &&
        (type === ErrorType.PERSISTENT_SUBSCRIPTION_DOES_NOT_EXIST || type === ErrorType.NOT_FOUND)
      )
        return { group, checkpoint: null, parkedCount: 0 };
      throw this.translate(error, group);
    }
  }

  private async ensureGroup(settings: ConsumerGroupSettings): Promise<void> {
    try {
      await this.client.createPersistentSubscriptionToAll(settings.group, groupSettings(settings), {
        filter: eventTypeFilter({ regex: eventTypeRegex(settings.eventTypes) }),
      });
    } catch (error) {
      if (
        isCommandError(error as Error) &&
        (error as { type?: string }).type === ErrorType.PERSISTENT_SUBSCRIPTION_EXISTS
      )
        return;
      throw this.translate(error, settings.group);
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
      if (isCommandError(error as Error) && (error as { type?: string }).type === ErrorType.STREAM_NOT_FOUND)
        return [];
      throw this.translate(error, parkedStreamOf(group));
    }
    return out;
  }

  private async positionOf(streamId: string, revision: bigint): Promise<bigint | null> {
    const read = this.client.readStream(streamId, { fromRevision: revision, maxCount: 1 });
    for await (const resolved of read)
      return resolved.event?.position?.commit ?? resolved.commitPosition ?? null;
    return null;
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    try {
      await this.client.setStreamMetadata(
        streamId,
        metadata.maxCount !== undefined ? { maxCount: metadata.maxCount } : {},
      );
    } catch (error) {
      throw this.translate(error, streamId);
    }
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    try {
      const { metadata } = await this.client.getStreamMetadata(streamId);
      return metadata?.maxCount !== undefined ? { maxCount: Number(metadata.maxCount) } : {};
    } catch (error) {
      if (isCommandError(error as Error) && (error as { type?: string }).type === ErrorType.STREAM_NOT_FOUND)
        return {};
      throw this.translate(error, streamId);
    }
  }

  /** Stops every group subscription (each settles its batch in flight) before closing the connection. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.subscriptions.clear();
    await this.client.dispose();
  }

  private translate(raw: unknown, streamId: string, expected?: ExpectedRevision): Error {
    // Some client paths (e.g. the server-features probe before an append) reject with the raw gRPC error.
    const error = raw instanceof Error ? convertToCommandError(raw) : raw;
    if (error instanceof Error && isCommandError(error)) {
      if (error.type === ErrorType.WRONG_EXPECTED_VERSION && expected !== undefined) {
        const actual = (error as unknown as { actualVersion: bigint | string }).actualVersion;
        return new WrongExpectedRevisionError(
          streamId,
          expected,
          typeof actual === 'bigint' ? actual : 'no_stream',
        );
      }
      if (
        error.type === ErrorType.TIMEOUT ||
        error.type === ErrorType.UNAVAILABLE ||
        error.type === ErrorType.CANCELLED ||
        error.type === ErrorType.DEADLINE_EXCEEDED ||
        error.type === ErrorType.NOT_LEADER
      ) {
        return new EventStoreUnavailableError(`EventStoreDB is unavailable: ${error.message}`, {
          cause: error,
        });
      }
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** A field of the parked link's metadata, whatever the server's JSON casing (`Reason` or `reason`). */
function metadataField(metadata: unknown, name: string): unknown {
  if (metadata === null || typeof metadata !== 'object' || metadata instanceof Uint8Array) return undefined;
  const entry = Object.entries(metadata).find(([key]) => key.toLowerCase() === name);
  return entry?.[1];
}
