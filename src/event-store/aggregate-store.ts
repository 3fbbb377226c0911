import { Logger } from '@nestjs/common';
import type { DomainEvent } from '../shared/domain/index.js';
import type { AggregateType, IdempotencyRecord, LoadedAggregate, PendingEvent } from './aggregate-type.js';
import {
  WrongExpectedRevisionError,
  type EventStore,
  type EventToAppend,
  type JsonObject,
  type RecordedEvent,
} from './event-store.port.js';

export interface AggregateStoreOptions {
  /** Write a snapshot each time a stream crosses a multiple of this many events. */
  readonly snapshotEvery: number;
  /** Snapshots kept per aggregate (stream metadata maxCount of the snapshot stream). */
  readonly snapshotsKept: number;
  /** Idempotency keys remembered per stream. */
  readonly idempotencyKeysPerStream: number;
  /** Aggregates kept in memory (least recently used are dropped); 0 disables the cache. */
  readonly cacheSize: number;
}

/** What a snapshot event holds: plain JSON, revisions as strings. */
interface SnapshotData {
  stateSchemaVersion: number;
  revision: string;
  state: unknown;
  idempotency: [string, string, string][];
}

export const SNAPSHOT_EVENT_TYPE = 'AggregateSnapshotTaken';

export function streamIdFor(category: string, id: string): string {
  return `${category}-${id}`;
}

/** Snapshots get a category of their own, so they never show up in `$ce-<category>` or in projections. */
export function snapshotStreamIdFor(category: string, id: string): string {
  return `${category}snapshot-${id}`;
}

function isSnapshotData(value: JsonObject): value is JsonObject & SnapshotData {
  return (
    typeof value.stateSchemaVersion === 'number' &&
    typeof value.revision === 'string' &&
    /^\d+$/.test(value.revision) &&
    typeof value.state === 'object' &&
    value.state !== null &&
    Array.isArray(value.idempotency) &&
    value.idempotency.every(
      (entry) =>
        Array.isArray(entry) && entry.length === 3 && entry.every((part) => typeof part === 'string'),
    )
  );
}

/**
 * Loads aggregates (cache, or latest usable snapshot + the events after it) and appends their new events
 * with the revision they were decided on. Also keeps each stream's idempotency memory: the last N keys seen
 * in event metadata with the hash of the request that used them.
 */
export class AggregateStore {
  private readonly logger = new Logger('AggregateStore');
  private readonly cache = new Map<string, LoadedAggregate<unknown>>();
  private readonly pendingSnapshots = new Set<Promise<void>>();
  private readonly cappedSnapshotStreams = new Set<string>();

  constructor(
    private readonly events: EventStore,
    private readonly options: AggregateStoreOptions,
  ) {}

  async load<S, E extends DomainEvent>(type: AggregateType<S, E>, id: string): Promise<LoadedAggregate<S>> {
    const streamId = streamIdFor(type.category, id);
    const cached = this.cache.get(streamId) as LoadedAggregate<S> | undefined;
    if (cached) {
      // Re-insert: a Map iterates in insertion order, which makes it an LRU.
      this.cache.delete(streamId);
      this.cache.set(streamId, cached);
      return cached;
    }
    const base = await this.latestSnapshot(type, id);
    const tail = await this.events.readStream(
      streamId,
      base.revision === 'no_stream' ? {} : { from: base.revision + 1n },
    );
    const loaded = this.fold(type, base, tail);
    this.remember(loaded);
    return loaded;
  }

  async append<S, E extends DomainEvent>(
    type: AggregateType<S, E>,
    current: LoadedAggregate<S>,
    events: readonly PendingEvent<E>[],
  ): Promise<{ aggregate: LoadedAggregate<S>; position: bigint }> {
    const toAppend: EventToAppend[] = events.map(({ id, event, metadata }) => ({
      id,
      type: event.type,
      data: event.data as JsonObject,
      metadata,
    }));
    let result;
    try {
      result = await this.events.append(current.streamId, toAppend, current.revision);
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) this.cache.delete(current.streamId);
      throw error;
    }
    const first = current.revision === 'no_stream' ? 0n : current.revision + 1n;
    const recorded = events.map(({ event, metadata }, i) => ({
      type: event.type,
      data: event.data as JsonObject,
      metadata,
      revision: first + BigInt(i),
    }));
    const aggregate = this.fold(type, current, recorded, true);
    this.remember(aggregate);
    const before = current.revision === 'no_stream' ? -1n : current.revision;
    const every = BigInt(this.options.snapshotEvery);
    if ((before + 1n) / every !== (result.nextExpectedRevision + 1n) / every) this.snapshot(type, aggregate);
    return { aggregate, position: result.position };
  }

  invalidate(streamId: string): void {
    this.cache.delete(streamId);
  }

  /** Waits for snapshots still being written (shutdown, tests). */
  async flushSnapshots(): Promise<void> {
    while (this.pendingSnapshots.size > 0) await Promise.all([...this.pendingSnapshots]);
  }

  private fold<S, E extends DomainEvent>(
    type: AggregateType<S, E>,
    base: LoadedAggregate<S>,
    events: readonly (Pick<RecordedEvent, 'type' | 'data' | 'metadata' | 'revision'> & { event?: E })[],
    alreadyDomain = false,
  ): LoadedAggregate<S> {
    let state = base.state;
    let revision = base.revision;
    let idempotency = base.idempotency;
    let copied = false;
    for (const recorded of events) {
      const event = alreadyDomain
        ? ({ type: recorded.type, data: recorded.data } as unknown as E)
        : type.toDomainEvent(recorded);
      state = type.evolve(state, event);
      revision = recorded.revision;
      const { idempotencyKey, requestHash } = recorded.metadata;
      if (typeof idempotencyKey === 'string' && typeof requestHash === 'string') {
        if (!copied) {
          // Loaded aggregates are shared through the cache: never mutate one in place.
          idempotency = new Map(idempotency);
          copied = true;
        }
        const map = idempotency as Map<string, IdempotencyRecord>;
        map.delete(idempotencyKey);
        map.set(idempotencyKey, { requestHash, revision: recorded.revision });
        if (map.size > this.options.idempotencyKeysPerStream) map.delete(map.keys().next().value!);
      }
    }
    return { streamId: base.streamId, state, revision, idempotency };
  }

  private async latestSnapshot<S, E extends DomainEvent>(
    type: AggregateType<S, E>,
    id: string,
  ): Promise<LoadedAggregate<S>> {
    const streamId = streamIdFor(type.category, id);
    const empty: LoadedAggregate<S> = {
      streamId,
      state: type.initialState,
      revision: 'no_stream',
      idempotency: new Map(),
    };
    const [snapshot] = await this.events.readStream(snapshotStreamIdFor(type.category, id), {
      direction: 'backwards',
      limit: 1,
    });
    if (!snapshot || snapshot.type !== SNAPSHOT_EVENT_TYPE) return empty;
    const data = snapshot.data;
    // A snapshot of another state shape (or an unreadable one) is ignored, never trusted: replay instead.
    if (!isSnapshotData(data) || data.stateSchemaVersion !== type.stateSchemaVersion) return empty;
    return {
      streamId,
      state: data.state as S,
      revision: BigInt(data.revision),
      idempotency: new Map(
        data.idempotency.map(([key, requestHash, revision]) => [
          key,
          { requestHash, revision: BigInt(revision) },
        ]),
      ),
    };
  }

  private remember(aggregate: LoadedAggregate<unknown>): void {
    if (this.options.cacheSize <= 0) return;
    this.cache.delete(aggregate.streamId);
    this.cache.set(aggregate.streamId, aggregate);
    if (this.cache.size > this.options.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Written off the command's critical path: a failed snapshot only costs a longer load later. */
  private snapshot<S, E extends DomainEvent>(type: AggregateType<S, E>, aggregate: LoadedAggregate<S>): void {
    if (aggregate.revision === 'no_stream') return;
    const id = aggregate.streamId.slice(type.category.length + 1);
    const streamId = snapshotStreamIdFor(type.category, id);
    const data: SnapshotData = {
      stateSchemaVersion: type.stateSchemaVersion,
      revision: aggregate.revision.toString(),
      state: aggregate.state,
      idempotency: [...aggregate.idempotency].map(([key, r]) => [key, r.requestHash, r.revision.toString()]),
    };
    const work = (async () => {
      if (!this.cappedSnapshotStreams.has(streamId)) {
        await this.events.setStreamMetadata(streamId, { maxCount: this.options.snapshotsKept });
        this.cappedSnapshotStreams.add(streamId);
      }
      await this.events.append(
        streamId,
        [
          {
            id: crypto.randomUUID(),
            type: SNAPSHOT_EVENT_TYPE,
            data: data as unknown as JsonObject,
            metadata: { schemaVersion: 1 },
          },
        ],
        'any',
      );
    })()
      .catch((error: unknown) =>
        this.logger.warn(`snapshot of ${aggregate.streamId} failed: ${String(error)}`),
      )
      .finally(() => this.pendingSnapshots.delete(work));
    this.pendingSnapshots.add(work);
  }
}
