import { Logger } from '@nestjs/common';
import { lastWhere } from '../shared/application/monotone-search.js';
import { idInCategory, snapshotStreamName, streamName, type DomainEvent } from '../shared/domain/index.js';
import type { AggregateType, IdempotencyRecord, LoadedAggregate, PendingEvent } from './aggregate-type.js';
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

/** What a snapshot event holds: plain JSON, revisions as strings. */
export interface SnapshotData {
  stateSchemaVersion: number;
  revision: string;
  state: unknown;
  idempotency: [string, string, string][];
}

export const SNAPSHOT_EVENT_TYPE = 'AggregateSnapshotTaken';

/** Events read at once when time travel folds a long run of events. */
const FOLD_PAGE = 1000;

/** How many older snapshots time travel looks at when the one it found has another state schema. */
const OLDER_SNAPSHOTS_TRIED = 8;

/** The state as it was right after the event at `revision` (time travel). */
export interface HistoricalAggregate<State> {
  readonly state: State;
  readonly revision: bigint;
  /** The event at `revision` (its `created` is the instant the state took effect). */
  readonly event: RecordedEvent;
  /** Revision of the snapshot the fold started from (null: from the first event). */
  readonly snapshotRevision: bigint | null;
}

/** The aggregate revision a snapshot event was taken at (null for anything that is not a snapshot). */
function snapshotRevisionOf(recorded: RecordedEvent): bigint | null {
  const revision = recorded.data.revision;
  return recorded.type === SNAPSHOT_EVENT_TYPE && typeof revision === 'string' && /^\d+$/.test(revision)
    ? BigInt(revision)
    : null;
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
    const streamId = streamName(type.category, id);
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
    const snapshot = await this.snapshotAtOrBelow(type, id, revision);
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

  /**
   * The newest snapshot taken at or below `revision` whose state schema is the code's, or null. Snapshots
   * are appended as their aggregate grows, so the revisions they hold grow with the snapshot stream's own
   * revision: a search over it, reading one snapshot per probe, takes O(log n) reads. Each probe
   * interpolates (snapshots are usually SNAPSHOT_EVERY apart, so one or two probes find it) and falls back to
   * bisection, never trusting the alignment. Should two writers ever have appended out of order, the answer
   * may be an older snapshot than the best one, never a newer one than `revision`: every candidate is
   * checked. A match of another state schema sends the search to the few just before it, then gives up (the
   * caller folds from the first event).
   */
  async snapshotAtOrBelow<S, E extends DomainEvent>(
    type: AggregateType<S, E>,
    id: string,
    revision: bigint,
  ): Promise<{ state: S; revision: bigint } | null> {
    const snapshotStream = snapshotStreamName(type.category, id);
    const [newest] = await this.events.readStream(snapshotStream, { direction: 'backwards', limit: 1 });
    if (!newest) return null;
    const probed = new Map<bigint, RecordedEvent>([[newest.revision, newest]]);
    // An unreadable snapshot has no revision to compare: treat it as "too new", so it is never used.
    const atOrBelow = (recorded: RecordedEvent) => {
      const at = snapshotRevisionOf(recorded);
      return at !== null && at <= revision;
    };
    let found: bigint | null = newest.revision;
    if (!atOrBelow(newest)) {
      const [oldest] = await this.events.readStream(snapshotStream, { limit: 1 });
      if (!oldest) return null;
      probed.set(oldest.revision, oldest);
      found = await lastWhere({
        lo: oldest.revision,
        hi: newest.revision,
        test: async (k) => {
          let recorded = probed.get(k);
          if (!recorded) {
            [recorded] = await this.events.readStream(snapshotStream, { from: k, limit: 1 });
            if (!recorded) return false;
            probed.set(k, recorded);
          }
          return atOrBelow(recorded);
        },
        guess: (lo, hi) => {
          const low = probed.get(lo);
          const high = probed.get(hi);
          const r0 = low && snapshotRevisionOf(low);
          const r1 = high && snapshotRevisionOf(high);
          if (r0 == null || r1 == null || r1 <= r0) return lo + (hi - lo) / 2n;
          return lo + ((revision - r0) * (hi - lo)) / (r1 - r0);
        },
      });
    }
    const match = found === null ? undefined : probed.get(found);
    if (!match) return null;
    const usable = (recorded: RecordedEvent): boolean =>
      atOrBelow(recorded) &&
      isSnapshotData(recorded.data) &&
      recorded.data.stateSchemaVersion === type.stateSchemaVersion;
    let chosen = usable(match) ? match : undefined;
    if (!chosen && match.revision > 0n) {
      // Another schema version (or unreadable): only the few snapshots just before it are worth a look.
      const older = await this.events.readStream(snapshotStream, {
        direction: 'backwards',
        from: match.revision - 1n,
        limit: OLDER_SNAPSHOTS_TRIED,
      });
      chosen = older.find(usable);
    }
    if (!chosen) return null;
    const data = chosen.data as JsonObject & SnapshotData;
    return { state: data.state as S, revision: BigInt(data.revision) };
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
    const streamId = streamName(type.category, id);
    const empty: LoadedAggregate<S> = {
      streamId,
      state: type.initialState,
      revision: 'no_stream',
      idempotency: new Map(),
    };
    const [snapshot] = await this.events.readStream(snapshotStreamName(type.category, id), {
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
    const id = idInCategory(type.category, aggregate.streamId) ?? aggregate.streamId;
    const streamId = snapshotStreamName(type.category, id);
    const data: SnapshotData = {
      stateSchemaVersion: type.stateSchemaVersion,
      revision: aggregate.revision.toString(),
      state: aggregate.state,
      idempotency: [...aggregate.idempotency].map(([key, r]) => [key, r.requestHash, r.revision.toString()]),
    };
    const work = (async () => {
      if (!this.cappedSnapshotStreams.has(streamId)) {
        // Keeping every snapshot (0) also clears a cap an older configuration may have set.
        await this.events.setStreamMetadata(
          streamId,
          this.options.snapshotsKept > 0 ? { maxCount: this.options.snapshotsKept } : {},
        );
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
