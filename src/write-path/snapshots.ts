import { Logger } from '@nestjs/common';
import type { EventStore, JsonObject, RecordedEvent } from '../event-store/event-store.port.js';
import { lastWhere } from '../shared/application/monotone-search.js';
import { snapshotStreamName, type DomainEvent } from '../shared/domain/index.js';
import type { AggregateType, LoadedAggregate } from './aggregate-type.js';

/** What a snapshot event holds: plain JSON, revisions as strings. */
export interface SnapshotData {
  stateSchemaVersion: number;
  revision: string;
  state: unknown;
  idempotency: [string, string, string][];
}

export const SNAPSHOT_EVENT_TYPE = 'AggregateSnapshotTaken';

/** How many older snapshots time travel looks at when the one it found has another state schema. */
const OLDER_SNAPSHOTS_TRIED = 8;

export interface SnapshotOptions {
  /**
   * Snapshots kept per aggregate (stream metadata maxCount of the snapshot stream); 0 keeps every one. Older
   * snapshots are what time travel starts from, so a cap makes it fold further on long streams.
   */
  readonly snapshotsKept: number;
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
 * An aggregate's snapshots, in a stream of their own (`<category>snapshot-<id>`): the state with its
 * revision, its state schema version and its idempotency memory. A snapshot of another state schema (or an
 * unreadable one) is ignored, never trusted: the caller folds from further back instead.
 */
export class Snapshots {
  private readonly logger = new Logger('Snapshots');
  private readonly pending = new Set<Promise<void>>();
  private readonly cappedStreams = new Set<string>();

  constructor(
    private readonly events: EventStore,
    private readonly options: SnapshotOptions,
  ) {}

  /** The aggregate as its newest usable snapshot holds it, or null when there is none. */
  async latest<S, E extends DomainEvent>(
    type: AggregateType<S, E>,
    id: string,
    streamId: string,
  ): Promise<LoadedAggregate<S> | null> {
    const [snapshot] = await this.events.readStream(snapshotStreamName(type.category, id), {
      direction: 'backwards',
      limit: 1,
    });
    if (!snapshot || snapshot.type !== SNAPSHOT_EVENT_TYPE) return null;
    const data = snapshot.data;
    if (!isSnapshotData(data) || data.stateSchemaVersion !== type.stateSchemaVersion) return null;
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
  async atOrBelow<S, E extends DomainEvent>(
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

  /** Written off the command's critical path: a failed snapshot only costs a longer load later. */
  write<S, E extends DomainEvent>(
    type: AggregateType<S, E>,
    id: string,
    aggregate: LoadedAggregate<S>,
  ): void {
    if (aggregate.revision === 'no_stream') return;
    const streamId = snapshotStreamName(type.category, id);
    const data: SnapshotData = {
      stateSchemaVersion: type.stateSchemaVersion,
      revision: aggregate.revision.toString(),
      state: aggregate.state,
      idempotency: [...aggregate.idempotency].map(([key, r]) => [key, r.requestHash, r.revision.toString()]),
    };
    const work = (async () => {
      if (!this.cappedStreams.has(streamId)) {
        // Keeping every snapshot (0) also clears a cap an older configuration may have set.
        await this.events.setStreamMetadata(
          streamId,
          this.options.snapshotsKept > 0 ? { maxCount: this.options.snapshotsKept } : {},
        );
        this.cappedStreams.add(streamId);
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
      .finally(() => this.pending.delete(work));
    this.pending.add(work);
  }

  /** Waits for snapshots still being written (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
