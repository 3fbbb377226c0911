import esdb, {
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { lastWhere } from '../../shared/application/monotone-search.js';
import {
  EventStore,
  InvalidPositionError,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
  type JsonObject,
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
  positionOf,
  toEsdbMetadata,
  toRecorded,
} from './esdb-mapping.js';
import { readRawMetadata, updateRawMetadata } from './esdb-metadata.js';
import { deadlineError, drain, withDeadline, type Deadline } from './esdb-reads.js';
import { checkServer, serverVersionOf, type ServerCheck } from './esdb-server.js';

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

export interface EsdbEventStoreOptions extends EsdbConsumerGroupOptions {
  /**
   * How long an append, or a read between two records, may wait for the server before it fails with
   * EventStoreUnavailableError. Default: the connection string's `defaultDeadline`, else 10 s (the client's
   * own default for unary calls; it gives streaming reads and appends none).
   */
  readonly deadlineMs?: number;
}

/** Records per page of a `$all` read. Every read says how many it wants, so the server ends it by itself. */
const ALL_PAGE = 500;
/** Fewest records per page of a forward `$all` read, whatever the limit. */
const MIN_PAGE = 100;
/** Records per page of a backwards `$all` read looking for the newest application event. */
const HEAD_PAGE = 32;
/** Links per probe of a `$bc-` stream (a few may point to events that are gone). */
const PROBE_PAGE = 8;

/** `defaultDeadline` of the connection string, as the client parses it (milliseconds). */
export function defaultDeadlineOf(connectionString: string): number | undefined {
  const match = /[?&]defaultDeadline=(\d+)/i.exec(connectionString);
  return match ? Number(match[1]) : undefined;
}

/**
 * EventStoreDB (23.10+, tested against 24.10) through @eventstore/db-client 6.2.1. Revisions and positions pass
 * straight through as bigint; client errors become the port's errors (esdb-errors.ts). What bites, and why the
 * code reads as it does, is in docs/eventstoredb.md:
 * - every streaming read says how many records it wants and is cancelled when left early, so that no gRPC
 *   stream stays open on the server (esdb-reads.ts);
 * - `$all` holds system records (`$>` links written by projections and parking, statistics, checkpoints):
 *   they are skipped before anything is decoded;
 * - positions are only ever ones the server handed out (record boundaries);
 * - appends and reads have a deadline of our own.
 *
 * It makes the consumer groups on the same client too (`consumerGroups`, the adapter's ConsumerGroups port),
 * and stops them in `close()` before disposing of the client.
 */
export class EsdbEventStore extends EventStore {
  readonly consumerGroups: EsdbConsumerGroups;
  private readonly client: Client;
  private readonly deadlineMs: number;
  private serverCheck: Promise<ServerCheck> | null = null;

  constructor(
    connectionString: string,
    private readonly options: EsdbEventStoreOptions = {},
  ) {
    super();
    this.client = EventStoreDBClient.connectionString(connectionString);
    this.deadlineMs = options.deadlineMs ?? defaultDeadlineOf(connectionString) ?? 10_000;
    this.consumerGroups = new EsdbConsumerGroups(this.client, options, {
      serverCheck: () => this.checkServer(),
      readMatching: (after, types, limit) => this.readAll({ after, eventTypes: types, limit }),
      deadlineMs: this.deadlineMs,
    });
  }

  /**
   * Asks the server its version and refuses one this adapter cannot work with (older than 23.10, or older
   * than 24.10.14 for Pinned consumer groups) with a message that says so. Called at start by the module and
   * before the first consumer group is created; a failure to reach the server is not remembered (asked again
   * next time).
   */
  checkServer(): Promise<ServerCheck> {
    this.serverCheck ??= serverVersionOf(this.client, this.deadline('the server features request'))
      .then((version) => checkServer(version, this.options.consumerStrategy ?? 'RoundRobin'))
      .catch((error: unknown) => {
        this.serverCheck = null;
        throw toPortError(error, 'the server');
      });
    return this.serverCheck;
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
      const appending = this.client.appendToStream(
        streamId,
        events.map((e) =>
          jsonEvent({ id: e.id, type: e.type, data: e.data, metadata: toEsdbMetadata(e.metadata) }),
        ),
        // The server's deadline for the write; ours below covers an answer that never comes.
        { expectedRevision, deadline: this.deadlineMs },
      );
      const result = await withDeadline(appending, {
        ms: this.deadlineMs + 1_000,
        what: `the append to ${streamId} (it may have been written: retrying with the same event ids is safe)`,
      });
      return { nextExpectedRevision: result.nextExpectedRevision, position: result.position?.commit ?? -1n };
    } catch (error) {
      throw toPortError(error, { streamId, expected });
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
      await drain(
        read,
        (resolved) => {
          const event = toRecorded(resolved);
          if (event) out.push(event);
        },
        this.deadline(`a read of ${streamId}`),
      );
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
   * 6.x `readAll` cannot filter on the server: system records are skipped here, before anything is decoded
   * (a `$>` link's data is `N@stream`, not JSON). With `eventTypes`, see readAllOfTypes.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const after = assertPosition(options.after ?? -1n);
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    if (options.eventTypes !== undefined) return this.readAllOfTypes(after, limit, options.eventTypes);
    const out: RecordedEvent[] = [];
    if (limit <= 0) return out;
    // System records interleave with the application's (a log starts with hundreds): never pages of one.
    await this.scanAll(after, Math.min(Math.max(limit, MIN_PAGE), ALL_PAGE), (resolved) => {
      const event = toRecorded(resolved);
      if (event) out.push(event);
      return out.length < limit;
    });
    return out;
  }

  /**
   * `readAll` by event type, filtered on the server: a catch-up `subscribeToAll` with an event-type filter
   * (6.x `readAll` has no filter), from `after` (exclusive) until the limit or `caughtUp` (server 23.10+,
   * checked at start). Only matching events cross the wire, which matters for a rebuild that wants 1% of the
   * log; the alternative, reading everything and filtering here, moves every event (snapshots included).
   */
  private async readAllOfTypes(
    after: bigint,
    limit: number,
    types: readonly string[],
  ): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    if (types.length === 0 || limit <= 0) return out;
    await this.subscribeMatching(after, types, (resolved) => {
      const event = toRecorded(resolved);
      if (event) out.push(event);
      return out.length < limit;
    });
    return out;
  }

  /**
   * EventStoreDB keeps no count: records are counted as they stream by, without being decoded into events —
   * one filtered subscription for event types, pages of `$all` otherwise — and the cost is bounded by the
   * limit.
   */
  async countAll(options: ReadAllOptions = {}): Promise<number> {
    const after = assertPosition(options.after ?? -1n);
    const cap = options.limit ?? Number.MAX_SAFE_INTEGER;
    let counted = 0;
    if (cap <= 0) return counted;
    const count = (): boolean => ++counted < cap;
    if (options.eventTypes === undefined) await this.scanAll(after, ALL_PAGE, count);
    else if (options.eventTypes.length > 0) await this.subscribeMatching(after, options.eventTypes, count);
    return counted;
  }

  /**
   * Position of the newest event that is not a system event (what readAll would return last), -1n when there
   * is none. System events are skipped because the server writes them by itself (statistics, subscription
   * checkpoints, parked links): a head that moves without any application append would make a consumer's lag
   * never reach zero. Backwards pages of a few records, each ended by the server.
   */
  async headPosition(): Promise<bigint> {
    let from: bigint | null = null;
    try {
      for (;;) {
        let records = 0;
        let head: bigint | null = null;
        let last: bigint | null = null;
        const read = this.client.readAll({
          direction: BACKWARDS,
          fromPosition: from === null ? END : { commit: from, prepare: from },
          maxCount: HEAD_PAGE,
        });
        await drain(
          read,
          (resolved) => {
            records += 1;
            const event = resolved.event;
            const position = event ? positionOf(event, resolved) : null;
            if (!event || position === null || (from !== null && position >= from)) return true;
            last = position;
            if (isSystemEvent(event)) return true;
            head = position;
            return false;
          },
          this.deadline('a backwards read of $all'),
        );
        if (head !== null) return head;
        if (records < HEAD_PAGE || last === null) return -1n;
        from = last;
      }
    } catch (error) {
      throw toPortError(error, '$all');
    }
  }

  async eventAt(position: bigint): Promise<RecordedEvent | null> {
    if (assertPosition(position) === -1n) return null;
    let found: RecordedEvent | null = null;
    try {
      const read = this.client.readAll({
        direction: FORWARDS,
        fromPosition: { commit: position, prepare: position },
        maxCount: 1,
      });
      await drain(
        read,
        (resolved) => {
          const event = resolved.event;
          if (event && !isSystemEvent(event) && positionOf(event, resolved) === position) {
            found = toRecorded(resolved);
          }
          return false;
        },
        this.deadline('a read of $all'),
      );
    } catch (error) {
      throw toPortError(error, { streamId: '$all', position });
    }
    return found;
  }

  /**
   * Reads the `$bc-<correlationId>` stream of the `$by_correlation_id` system projection, resolving its links.
   * Server side this needs the projection subsystem (`RunProjections=System` or `All`) with
   * `$by_correlation_id` started; it keys events by `$correlationId`, which `append` writes (see
   * toEsdbMetadata). The projection links events in `$all` order, so the links are in position order: a page
   * after a position starts at the first link past it, found by a binary search over the links (a page never
   * re-reads the stream from its start). A link whose event is gone (scavenged) is skipped.
   */
  async readByCorrelation(
    correlationId: string,
    options: ReadByCorrelationOptions = {},
  ): Promise<RecordedEvent[]> {
    const after = assertPosition(options.after ?? -1n);
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    const out: RecordedEvent[] = [];
    if (limit <= 0) return out;
    const streamId = correlationStreamOf(correlationId);
    try {
      let from = after < 0n ? 0n : await this.firstLinkAfter(streamId, after);
      while (from !== null) {
        const page = Math.min(limit - out.length + PROBE_PAGE, ALL_PAGE);
        let links = 0;
        await drain(
          this.client.readStream(streamId, {
            direction: FORWARDS,
            fromRevision: from,
            resolveLinkTos: true,
            maxCount: page,
          }),
          (resolved) => {
            links += 1;
            // The link's revision in `$bc-` (the record itself when it could not be resolved).
            const record = resolved.link ?? resolved.event;
            if (record) from = record.revision + 1n;
            const event = toRecorded(resolved);
            if (event && event.position > after) out.push(event);
            return out.length < limit;
          },
          this.deadline(`a read of ${streamId}`),
        );
        if (out.length >= limit || links < page) break;
      }
    } catch (error) {
      if (isCommandErrorOf(error, ErrorType.STREAM_NOT_FOUND)) return out;
      throw toPortError(error, streamId);
    }
    return out.slice(0, limit);
  }

  /**
   * The first revision of a `$bc-` stream whose event lies after `after` (null: none). The value probed at a
   * revision is the position of the first event still there at or after it, which grows with the revision,
   * gone events included.
   */
  private async firstLinkAfter(streamId: string, after: bigint): Promise<bigint | null> {
    const [newest] = await this.readLinks(streamId, END, 1, BACKWARDS);
    const newestLink = newest?.link ?? newest?.event;
    if (!newestLink) return null;
    const hi = newestLink.revision;
    const lastAtOrBefore = await lastWhere({
      lo: 0n,
      hi,
      test: async (revision) => {
        const links = await this.readLinks(streamId, revision, PROBE_PAGE, FORWARDS);
        const present = links.find((resolved) => resolved.event !== undefined);
        if (!present) return links.length < PROBE_PAGE; // nothing after: as if before `after`
        return (toRecorded(present)?.position ?? after + 1n) <= after;
      },
    });
    const first = lastAtOrBefore === null ? 0n : lastAtOrBefore + 1n;
    return first > hi ? null : first;
  }

  private async readLinks(
    streamId: string,
    fromRevision: bigint | typeof END,
    maxCount: number,
    direction: typeof FORWARDS | typeof BACKWARDS,
  ): Promise<ResolvedEvent[]> {
    const out: ResolvedEvent[] = [];
    await drain(
      this.client.readStream(streamId, { direction, fromRevision, maxCount, resolveLinkTos: true }),
      (resolved) => {
        out.push(resolved);
      },
      this.deadline(`a read of ${streamId}`),
    );
    return out;
  }

  /** Changes `$maxCount` and keeps the rest of the stream's metadata (truncation, ACLs): see esdb-metadata.ts. */
  async setStreamMetadata(streamId: string, metadata: StreamMetadata): Promise<void> {
    await updateRawMetadata(
      this.client,
      streamId,
      (raw) => {
        const next: JsonObject = { ...raw };
        if (metadata.maxCount === undefined) delete next.$maxCount;
        else next.$maxCount = metadata.maxCount;
        return next;
      },
      this.deadline(`the metadata of ${streamId}`),
    );
  }

  async getStreamMetadata(streamId: string): Promise<StreamMetadata> {
    const { raw } = await readRawMetadata(
      this.client,
      streamId,
      this.deadline(`the metadata of ${streamId}`),
    );
    const maxCount = raw.$maxCount;
    return typeof maxCount === 'number' ? { maxCount } : {};
  }

  /** Stops every group subscription (each settles its batch in flight) before closing the connection. */
  async close(): Promise<void> {
    await this.consumerGroups.close();
    await this.client.dispose();
  }

  /**
   * Forward pages of `$all` from `after` (exclusive), `pageSize` records each, ended by the server; system
   * records are skipped (not decoded), and `visit` sees the others until it answers false. A read of `$all`
   * starts *at* its position, so each page after the first skips the record it starts from.
   */
  private async scanAll(
    after: bigint,
    pageSize: number,
    visit: (resolved: AllStreamResolvedEvent) => boolean,
  ): Promise<void> {
    let from = after;
    try {
      for (;;) {
        const wanted = from < 0n ? pageSize : pageSize + 1;
        let records = 0;
        let enough = false;
        await drain(
          this.client.readAll({
            direction: FORWARDS,
            fromPosition: from < 0n ? START : { commit: from, prepare: from },
            maxCount: wanted,
          }),
          (resolved) => {
            records += 1;
            const event = resolved.event;
            const position = event ? positionOf(event, resolved) : resolved.commitPosition;
            if (position === undefined || position === null || position <= from) return true;
            from = position;
            if (!event || isSystemEvent(event)) return true;
            enough = !visit(resolved);
            return !enough;
          },
          this.deadline('a read of $all'),
        );
        if (enough || records < wanted) return;
      }
    } catch (error) {
      throw toPortError(error, { streamId: '$all', position: after });
    }
  }

  /**
   * A filtered catch-up subscription to `$all` from `after` (exclusive): `visit` sees each matching event
   * until it answers false, the server says it caught up, or the subscription ends. The subscription is
   * cancelled in every case; the server's filter checkpoints keep the deadline from expiring while it scans
   * long stretches of other events.
   */
  private subscribeMatching(
    after: bigint,
    types: readonly string[],
    visit: (resolved: AllStreamResolvedEvent) => boolean,
  ): Promise<void> {
    const deadline = this.deadline('a filtered subscription to $all');
    return new Promise<void>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (error?: unknown): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        void subscription.unsubscribe().catch(() => undefined);
        if (error === undefined) resolve();
        else reject(toPortError(error, { streamId: '$all', position: after }));
      };
      const alive = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(deadlineError(deadline)), deadline.ms);
      };
      const subscription = this.client.subscribeToAll({
        fromPosition: after < 0n ? START : { commit: after, prepare: after },
        resolveLinkTos: false,
        filter: eventTypeFilter({ regex: eventTypeRegex(types), checkpointReached: () => alive() }),
      });
      alive();
      subscription.on('data', (resolved) => {
        if (done) return;
        alive();
        const event = resolved.event;
        if (!event || isSystemEvent(event)) return;
        try {
          if (!visit(resolved)) finish();
        } catch (error) {
          finish(error);
        }
      });
      // The client emits `caughtUp` while it transforms the server's message, after the events before it.
      subscription.on('caughtUp', () => finish());
      subscription.on('error', (error) => finish(error));
      subscription.on('end', () => finish());
    });
  }

  private deadline(what: string): Deadline {
    return { ms: this.deadlineMs, what };
  }
}

/**
 * The port's rule: -1n or a position the store handed out. Below -1 is refused here; a position that is not a
 * record boundary is refused by the server (mapped by toPortError).
 */
function assertPosition(position: bigint): bigint {
  if (position < -1n) throw new InvalidPositionError(position);
  return position;
}
