import { idInCategory, streamName, type DomainEvent } from '../shared/domain/index.js';
import type { AggregateType, IdempotencyRecord, LoadedAggregate, PendingEvent } from './aggregate-type.js';
import { Snapshots } from './snapshots.js';
import {
  WrongExpectedRevisionError,
  type EventStore,
  type EventToAppend,
  type JsonObject,
  type RecordedEvent,
} from '../event-store/event-store.port.js';

export interface AggregateStoreOptions {
  /** Write a snapshot each time a stream crosses a multiple of this many events. */
  readonly snapshotEvery: number;
  /**
   * Snapshots kept per aggregate (stream metadata maxCount of the snapshot stream); 0 keeps every one. Older
   * snapshots are what time travel (`loadAt`) starts from, so a cap makes it fold further on long streams.
   */
  readonly snapshotsKept: number;
  /** Idempotency keys remembered per stream. */
  readonly idempotencyKeysPerStream: number;
  /** Aggregates kept in memory (least recently used are dropped); 0 disables the cache. */
  readonly cacheSize: number;
}

/** Events read at once when time travel folds a long run of events. */
const FOLD_PAGE = 1000;

/** The state as it was right after the event at `revision` (time travel). */
export interface HistoricalAggregate<State> {
  readonly state: State;
  readonly revision: bigint;
  /** The event at `revision` (its `created` is the instant the state took effect). */
  readonly event: RecordedEvent;
  /** Revision of the snapshot the fold started from (null: from the first event). */
  readonly snapshotRevision: bigint | null;
}

/**
 * Loads aggregates (cache, or latest usable snapshot + the events after it) and appends their new events
 * with the revision they were decided on. Also keeps each stream's idempotency memory: the last N keys seen
 * in event metadata with the hash of the request that used them.
 */
export class AggregateStore {
  private readonly cache = new Map<string, LoadedAggregate<unknown>>();
  private readonly snapshots: Snapshots;

  constructor(
    private readonly events: EventStore,
    private readonly options: AggregateStoreOptions,
  ) {
    this.snapshots = new Snapshots(events, options);
  }

  async load<S, E extends DomainEvent>(type: AggregateType<S, E>, id: string): Promise<LoadedAggregate<S>> {
    const streamId = streamName(type.category, id);
    const cached = this.cache.get(streamId) as LoadedAggregate<S> | undefined;
    if (cached) {
      // Re-insert: a Map iterates in insertion order, which makes it an LRU.
      this.cache.delete(streamId);
      this.cache.set(streamId, cached);
      return cached;
    }
    const base = (await this.snapshots.latest(type, id, streamId)) ?? {
      streamId,
      state: type.initialState,
      revision: 'no_stream',
      idempotency: new Map(),
    };
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
  ): Promise<{ aggregate: LoadedAggregate<S>; position: bigint; duplicate: boolean }> {
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
    if ((before + 1n) / every !== (result.nextExpectedRevision + 1n) / every) {
      this.snapshots.write(type, idInCategory(type.category, current.streamId)!, aggregate);
    }
    return { aggregate, position: result.position, duplicate: result.duplicate === true };
  }

  /**
   * The aggregate as it was right after its event at `revision` (null when the stream has no such event):
   * the newest usable snapshot at or below it, plus the events after that snapshot folded with the same
   * `toDomainEvent`/`evolve` as `load`. With every SNAPSHOT_EVERY-th state kept (SNAPSHOTS_KEPT=0) that is at
   * most SNAPSHOT_EVERY events read, wherever the revision is in the stream.
   */
  async loadAt<S, E extends DomainEvent>(
    type: AggregateType<S, E>,
    id: string,
    revision: bigint,
  ): Promise<HistoricalAggregate<S> | null> {
    if (revision < 0n) return null;
    const streamId = streamName(type.category, id);
    const snapshot = await this.snapshots.atOrBelow(type, id, revision);
    let state = snapshot === null ? type.initialState : snapshot.state;
    let next = snapshot === null ? 0n : snapshot.revision + 1n;
    if (next > revision) {
      // A snapshot exactly at the target: its event is still needed, for the instant.
      const [event] = await this.events.readStream(streamId, { from: revision, limit: 1 });
      return event?.revision === revision ? { state, revision, event, snapshotRevision: revision } : null;
    }
    // In pages: without a usable snapshot this may be the whole stream, which must never sit in memory.
    let last: RecordedEvent | undefined;
    while (next <= revision) {
      const remaining = revision - next + 1n;
      const page = await this.events.readStream(streamId, {
        from: next,
        limit: remaining < BigInt(FOLD_PAGE) ? Number(remaining) : FOLD_PAGE,
      });
      if (page.length === 0) break;
      for (const recorded of page) state = type.evolve(state, type.toDomainEvent(recorded));
      last = page[page.length - 1]!;
      next = last.revision + 1n;
    }
    if (last?.revision !== revision) return null;
    return { state, revision, event: last, snapshotRevision: snapshot?.revision ?? null };
  }

  /** Whether `load` would answer this stream from the cache (which may be behind the store). */
  isCached(streamId: string): boolean {
    return this.cache.has(streamId);
  }

  invalidate(streamId: string): void {
    this.cache.delete(streamId);
  }

  /**
   * A strongly consistent read (QP-1, docs/architecture.md#read-patterns): the aggregate folded up to the
   * stream's current revision. The cache answers only when it is provably current (another process may have
   * appended since).
   */
  async loadConsistent<S, E extends DomainEvent>(
    type: AggregateType<S, E>,
    id: string,
  ): Promise<LoadedAggregate<S>> {
    const [loaded, revision] = await Promise.all([
      this.load(type, id),
      this.events.streamRevision(streamName(type.category, id)),
    ]);
    if (loaded.revision === revision) return loaded;
    this.invalidate(loaded.streamId);
    return this.load(type, id);
  }

  /** Waits for snapshots still being written (shutdown, tests). */
  flushSnapshots(): Promise<void> {
    return this.snapshots.flush();
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

  private remember(aggregate: LoadedAggregate<unknown>): void {
    // An aggregate that does not exist is never cached: whoever creates it next (a process manager, another
    // instance, a tool writing to the store) would otherwise stay invisible here — told 404 — until evicted.
    // What exists can only move on, which a conditional append notices; existence cannot be taken back.
    if (this.options.cacheSize <= 0 || aggregate.revision === 'no_stream') return;
    this.cache.delete(aggregate.streamId);
    this.cache.set(aggregate.streamId, aggregate);
    if (this.cache.size > this.options.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}
