import { streamName } from '../../shared/domain/index.js';
import { Injectable } from '@nestjs/common';
import { AggregateStore } from '../../write-path/aggregate-store.js';
import { EventStore, type RecordedEvent } from '../../event-store/event-store.port.js';
import { seesEveryone } from '../../shared/application/access-policy.js';
import type { Actor } from '../../shared/application/command-context.js';
import { canSee } from '../../write-path/aggregate-type.js';
import { PointNotFoundError, ResourceNotFoundError } from '../../shared/application/errors.js';
import { lastWhere } from '../../shared/application/monotone-search.js';
import type { AnyAuditedAggregate, AuditView } from './audited-aggregates.js';

/** A point in a stream's history: a revision, or an instant (the last event recorded at or before it). */
export type Point = { readonly revision: bigint } | { readonly asOf: Date };

/** A stream the caller may see, with what every time-travel request needs first. */
export interface AuditedStreamRef {
  readonly audited: AnyAuditedAggregate;
  readonly id: string;
  readonly streamId: string;
  readonly first: RecordedEvent;
  readonly lastRevision: bigint;
}

export interface StateAt {
  readonly view: AuditView;
  readonly revision: bigint;
  /** When the event at `revision` was recorded (the instant the state took effect). */
  readonly at: Date;
}

/**
 * Time travel over one aggregate's stream, from the event store (the source of truth), with the write side's
 * own fold (AggregateStore.loadAt: nearest snapshot at or below the revision + the events after it).
 */
@Injectable()
export class TimeTravel {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly events: EventStore,
  ) {}

  /**
   * The stream, if it exists and the actor may see it: auditors and operators see every one, a shopper only
   * their own (the owner never changes, so the first event says it). Anything else is the same 404, so
   * nothing leaks about other customers' carts.
   */
  async open(audited: AnyAuditedAggregate, id: string, actor: Actor): Promise<AuditedStreamRef> {
    const streamId = streamName(audited.type.category, id);
    const [[first], last] = await Promise.all([
      this.events.readStream(streamId, { limit: 1 }),
      this.events.streamRevision(streamId),
    ]);
    if (!first || last === 'no_stream') throw new ResourceNotFoundError(audited.kind, id);
    const type = audited.type;
    if (!seesEveryone(type.access, actor)) {
      const opened = type.evolve(type.initialState, type.toDomainEvent(first));
      if (!canSee(type, actor, opened)) throw new ResourceNotFoundError(audited.kind, id);
    }
    return { audited, id, streamId, first, lastRevision: last };
  }

  /** The revision a point names; 404 (PointNotFoundError) for a revision past the end or an instant too early. */
  async resolve(stream: AuditedStreamRef, point: Point): Promise<bigint> {
    const { audited, id, lastRevision } = stream;
    if ('revision' in point) {
      if (point.revision > lastRevision) {
        throw new PointNotFoundError(
          'REVISION_NOT_FOUND',
          `${audited.kind} ${id} has no revision ${point.revision}: its last revision is ${lastRevision}`,
          { lastRevision: Number(lastRevision) },
        );
      }
      return point.revision;
    }
    const revision = await this.revisionAsOf(stream, point.asOf);
    if (revision === null) {
      throw new PointNotFoundError(
        'NOT_FOUND_AT_INSTANT',
        `${audited.kind} ${id} did not exist yet at ${point.asOf.toISOString()}: its first event was recorded at ${stream.first.created.toISOString()}`,
        { firstEventAt: stream.first.created.toISOString() },
      );
    }
    return revision;
  }

  /**
   * The last revision whose event was recorded at or before `instant` (null: the stream began after it). A
   * binary search over revisions, one single-event read per probe: O(log n) reads. Events sharing a
   * millisecond are ordered by revision, so the answer is the last of them. `created` is the store's clock
   * and grows along a stream; should that clock ever step back, the answer is still a revision recorded at
   * or before the instant whose next event was recorded after it.
   */
  async revisionAsOf(stream: AuditedStreamRef, instant: Date): Promise<bigint | null> {
    const limit = instant.getTime();
    return lastWhere({
      lo: 0n,
      hi: stream.lastRevision,
      test: async (revision) => {
        const event =
          revision === 0n
            ? stream.first
            : (await this.events.readStream(stream.streamId, { from: revision, limit: 1 }))[0];
        return event !== undefined && event.created.getTime() <= limit;
      },
    });
  }

  /** The view as it was right after the event at `revision` (which must exist). */
  async stateAt(stream: AuditedStreamRef, revision: bigint): Promise<StateAt> {
    const { audited, id } = stream;
    const loaded = await this.aggregates.loadAt(audited.type, id, revision);
    if (!loaded || !audited.type.exists(loaded.state)) {
      throw new PointNotFoundError(
        'REVISION_NOT_FOUND',
        `${audited.kind} ${id} has no state at revision ${revision}`,
        { lastRevision: Number(stream.lastRevision) },
      );
    }
    return { view: audited.view(id, loaded.state), revision, at: loaded.event.created };
  }
}
