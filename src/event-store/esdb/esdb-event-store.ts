import esdb, { type AppendExpectedRevision } from '@eventstore/db-client';
import {
  EventStore,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadByCorrelationOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamMetadata,
} from '../event-store.port.js';
import { EsdbConsumerGroups, type EsdbConsumerGroupOptions } from './esdb-consumer-groups.js';
import { isCommandErrorOf, toPortError } from './esdb-errors.js';
import {
  correlationStreamOf,
  eventTypeRegex,
  isSystemEvent,
  toEsdbMetadata,
  toRecorded,
} from './esdb-mapping.js';

// The client is CommonJS: take its named exports from the default import.
const {
  EventStoreDBClient,
  jsonEvent,
  ErrorType,
  eventTypeFilter,
  START,
  END,
  FORWARDS,
  BACKWARDS,
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
} = esdb;

type Client = InstanceType<typeof EventStoreDBClient>;

/** Options of the store's consumer groups (the store itself has none). */
export type EsdbEventStoreOptions = EsdbConsumerGroupOptions;

/** Events per readAll page when counting (countAll). */
const COUNT_PAGE = 5_000;

/**
 * EventStoreDB (21.10+, tested against 24.10) through @eventstore/db-client 6.2.1. A thin mapping: bigint
 * revisions and positions pass straight through; client errors become the port's errors (esdb-errors.ts).
 * Needs server 22.6+ for the global position of stream events.
 *
 * It makes the consumer groups on the same client too (`consumerGroups`, the adapter's ConsumerGroups port),
 * and stops them in `close()` before disposing of the client.
 */
export class EsdbEventStore extends EventStore {
  readonly consumerGroups: EsdbConsumerGroups;
  private readonly client: Client;

  constructor(connectionString: string, options: EsdbEventStoreOptions = {}) {
    super();
    this.client = EventStoreDBClient.connectionString(connectionString);
    this.consumerGroups = new EsdbConsumerGroups(this.client, options);
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
      throw toPortError(error, streamId, expected);
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
      if (isCommandErrorOf(error, ErrorType.STREAM_NOT_FOUND)) return [];
      throw toPortError(error, streamId);
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
      throw toPortError(error, '$all');
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
        else reject(toPortError(error, '$all'));
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

  /**
   * Position of the newest event that is not a system event (what readAll would return last), -1n when there
   * is none. System events are skipped because the server writes them by itself (statistics, subscription
   * checkpoints, parked links): a head that moves without any application append would make a consumer's lag
   * never reach zero.
   */
  async headPosition(): Promise<bigint> {
    try {
      const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END });
      for await (const resolved of read) {
        const event = resolved.event;
        if (!event || isSystemEvent(event)) continue;
        return event.position?.commit ?? resolved.commitPosition ?? -1n;
      }
    } catch (error) {
      throw toPortError(error, '$all');
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
      if (isCommandErrorOf(error, ErrorType.STREAM_NOT_FOUND)) return [];
      throw toPortError(error, streamId);
    }
    return out;
  }

  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    try {
      await this.client.setStreamMetadata(
        streamId,
        metadata.maxCount !== undefined ? { maxCount: metadata.maxCount } : {},
      );
    } catch (error) {
      throw toPortError(error, streamId);
    }
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    try {
      const { metadata } = await this.client.getStreamMetadata(streamId);
      return metadata?.maxCount !== undefined ? { maxCount: Number(metadata.maxCount) } : {};
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.STREAM_NOT_FOUND)) return {};
      throw toPortError(error, streamId);
    }
  }

  /** Stops every group subscription (each settles its batch in flight) before closing the connection. */
  async close(): Promise<void> {
    await this.consumerGroups.close();
    await this.client.dispose();
  }
}
