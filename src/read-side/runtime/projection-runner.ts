import { idInCategory } from '../../shared/domain/index.js';
import type { DeliveredEvent, DeliveryOutcome } from '../../event-store/consumer-groups.port.js';
import type { EventStore, JsonObject, RecordedEvent } from '../../event-store/event-store.port.js';
import type { DocumentWrite, ReadDocument, ReadStore } from '../read-store.port.js';
import type { FreshnessMonitor } from './freshness.js';
import type { AnyProjection, ProjectedEvent } from './projection.js';
import type { ReadModelNotifier } from './read-model-notifier.js';

const ACK: DeliveryOutcome = { action: 'ack' };
/** Rounds of re-reading documents that another writer changed under us, before asking for redelivery. */
const CONFLICT_ROUNDS = 3;

export interface ProjectionTarget {
  /** Physical collection of the per-stream documents. */
  readonly documents: string;
  /** Physical collection of the entries, when the projection has some. */
  readonly entries?: string;
}

/** What one batch did (for metrics and tests). */
export interface BatchReport {
  /** Events folded into documents (duplicates excluded, healed events included). */
  readonly applied: number;
  /** Events read back from the event store to fill gaps in what was delivered. */
  readonly healed: number;
  readonly failedStreams: number;
}

/**
 * One step of a projection, pure: the document after `recorded` (given the one before it, null before the
 * stream's first event) and the entries it adds, as the writes the runner makes (entry ids: the event id,
 * then `<event id>:<n>` for further entries). Throws what the projection throws (a poison event). Shared by
 * the runner and by `verify`, which folds streams itself to know what a document should be.
 */
export function applyEvent(
  projection: AnyProjection,
  doc: object | null,
  recorded: RecordedEvent,
): { data: object; entries: DocumentWrite[] } {
  const projected: ProjectedEvent = {
    event: projection.readEvent(recorded),
    id: recorded.id,
    streamId: recorded.streamId,
    revision: recorded.revision,
    position: recorded.position,
    created: recorded.created,
    metadata: recorded.metadata,
  };
  const data = projection.evolve(doc, projected);
  const entries = (projection.entriesFor?.(data, projected) ?? []).map((entry, index): DocumentWrite => ({
    id: index === 0 ? recorded.id : `${recorded.id}:${index}`,
    expectedRevision: null,
    revision: recorded.revision,
    position: recorded.position,
    data: entry.data,
  }));
  return { data, entries };
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Applies delivered events to one generation of one projection so that, whatever the delivery does
 * (duplicates, reordering, redelivery after a crash, competing instances), every document ends exactly as
 * if each event of its stream had been applied once, in revision order:
 * - events at or below the revision a document records are duplicates: acknowledged, nothing written;
 * - otherwise the stream is folded from the document's revision + 1 up to the newest delivered revision —
 *   from the batch when it holds that whole run, else read from the event store (a gap is healed, never
 *   skipped);
 * - the new document is written conditionally on the revision it was folded from, so two writers can never
 *   both apply a step; a lost race is re-folded from the winner's document.
 * A stream whose events cannot be folded (a poison event) keeps everything before it and gets `retry` for
 * it and its later events — they fail with it, so they are parked together — while every other stream of
 * the batch goes on.
 */
export class ProjectionRunner {
  /**
   * What this runner last wrote or read, by document id (least recently used dropped first): a document found
   * here is not read again before its next step. Sound because a stale entry only ever costs a round: the
   * write is conditional on the revision it was folded from, so a document someone else moved on conflicts
   * and is read afresh. Worth it on servers where a read by id is slow (FerretDB 1.x scans for each).
   */
  private readonly cache = new Map<string, ReadDocument>();

  constructor(
    readonly projection: AnyProjection,
    readonly target: ProjectionTarget,
    private readonly events: EventStore,
    private readonly store: ReadStore,
    private readonly notifier?: ReadModelNotifier,
    /** Documents kept by the write-through cache; 0 turns it off. */
    private readonly cacheSize = 0,
    /**
     * Told the append time of every event applied (the live runner's only: a rebuild's applications are not
     * freshness).
     */
    private readonly freshness?: FreshnessMonitor,
  ) {}

  async handle(batch: readonly DeliveredEvent[]): Promise<DeliveryOutcome[]> {
    return (await this.handleWithReport(batch)).outcomes;
  }

  /** `onProgress`: called as each read or write of the batch completes (evidence of a live, slow batch). */
  async handleWithReport(
    batch: readonly DeliveredEvent[],
    onProgress?: () => void,
  ): Promise<{ outcomes: DeliveryOutcome[]; report: BatchReport }> {
    const progress = { onProgress };
    const outcomes: DeliveryOutcome[] = batch.map(() => ACK);
    const byStream = new Map<string, number[]>();
    batch.forEach(({ event }, index) => {
      // Events of other categories (or of snapshot streams) are not this projection's: acknowledged.
      if (idInCategory(this.projection.category, event.streamId) === null) return;
      const indices = byStream.get(event.streamId);
      if (indices) indices.push(index);
      else byStream.set(event.streamId, [index]);
    });

    let applied = 0;
    let healed = 0;
    let failedStreams = 0;
    let pending = [...byStream.keys()];
    for (let round = 0; round < CONFLICT_ROUNDS && pending.length > 0; round++) {
      // A stream whose first event is in the batch has, in all likelihood, no document yet: it is folded from
      // nothing without a lookup and inserted (expected: absent). Should a document exist after all (a
      // redelivery), the insert conflicts and the next round reads it. New streams thus cost no read, and
      // reads by id are what some servers make slow (FerretDB 1.x scans the collection for each).
      // Later rounds re-read what lost a race: whatever is cached for it is what lost.
      const cached = new Map<string, ReadDocument>();
      if (round === 0) {
        for (const streamId of pending) {
          const hit = this.cached(this.documentId(streamId));
          if (hit) cached.set(hit.id, hit);
        }
      }
      const lookups =
        round === 0
          ? pending.filter(
              (streamId) =>
                !cached.has(this.documentId(streamId)) && !this.startsInBatch(batch, byStream.get(streamId)!),
            )
          : pending;
      const current =
        lookups.length > 0
          ? await this.store.getMany(this.target.documents, lookups.map(this.documentId))
          : new Map<string, ReadDocument>();
      onProgress?.();
      for (const doc of current.values()) this.remember(doc);
      for (const [id, doc] of cached) current.set(id, doc);
      const writes: DocumentWrite[] = [];
      const entries: DocumentWrite[] = [];
      const streamOf = new Map<string, string>();
      /** What each write would count once it is known not to have lost a race. */
      const counted = new Map<
        string,
        { applied: number; healed: number; failed: boolean; created: readonly number[] }
      >();
      for (const streamId of pending) {
        const indices = byStream.get(streamId)!;
        // This round decides the stream's outcomes afresh (an earlier round's lost race decided nothing).
        for (const i of indices) outcomes[i] = ACK;
        const id = this.documentId(streamId);
        const doc = current.get(id) ?? null;
        try {
          const step = await this.fold(
            streamId,
            doc,
            indices.map((i) => batch[i]!.event),
          );
          if (!step) continue; // only duplicates
          writes.push({
            id,
            expectedRevision: doc ? doc.revision : null,
            revision: step.last.revision,
            position: step.last.position,
            data: step.data,
          });
          entries.push(...step.entries);
          streamOf.set(id, streamId);
          counted.set(id, {
            applied: step.applied,
            healed: step.healed,
            failed: step.failure !== undefined,
            created: step.created,
          });
          if (step.failure) {
            // The events before the poison are written; it and everything after it wait for a redelivery.
            const reason = `${this.projection.name} cannot apply ${streamId}@${step.failure.revision}: ${errorText(step.failure.error)}`;
            for (const i of indices) {
              if (batch[i]!.event.revision >= step.failure.revision)
                outcomes[i] = { action: 'retry', reason };
            }
          }
        } catch (error) {
          failedStreams++;
          const reason = `${this.projection.name} cannot apply ${streamId}: ${errorText(error)}`;
          for (const i of indices) outcomes[i] = { action: 'retry', reason };
        }
      }
      // Entries first: if the document write then loses a race, the winner folded the same events into the
      // same entries (keyed by event id), so what was written stays right.
      if (entries.length > 0 && this.target.entries) {
        await this.store.write(this.target.entries, entries, progress);
      }
      const { conflicts } =
        writes.length > 0
          ? await this.store.write(this.target.documents, writes, progress)
          : { conflicts: [] };
      const lost = new Set(conflicts);
      const writtenAt = new Date();
      const appliedAt = writtenAt.getTime();
      for (const write of writes) {
        if (lost.has(write.id)) {
          this.cache.delete(write.id);
          continue;
        }
        const { id, revision, position, data } = write;
        this.remember({ id, revision, position, data, projectedAt: writtenAt });
        const step = counted.get(write.id)!;
        applied += step.applied;
        healed += step.healed;
        if (step.failed) failedStreams++;
        this.freshness?.applied(this.projection.name, appliedAt, step.created);
        this.notifier?.applied(this.projection.name, write.id, write.revision);
      }
      pending = conflicts.map((id) => streamOf.get(id)!);
    }
    for (const streamId of pending) {
      for (const i of byStream.get(streamId)!) {
        outcomes[i] = { action: 'retry', reason: `${streamId} kept changing under concurrent writers` };
      }
    }
    return { outcomes, report: { applied, healed, failedStreams } };
  }

  private cached(id: string): ReadDocument | undefined {
    const doc = this.cache.get(id);
    if (doc) {
      // Re-inserted: a Map iterates in insertion order, which makes it an LRU.
      this.cache.delete(id);
      this.cache.set(id, doc);
    }
    return doc;
  }

  private remember(doc: ReadDocument): void {
    if (this.cacheSize <= 0) return;
    this.cache.delete(doc.id);
    this.cache.set(doc.id, doc);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Whether the stream's first event (revision 0) is among the delivered ones. */
  private startsInBatch(batch: readonly DeliveredEvent[], indices: readonly number[]): boolean {
    return indices.some((i) => batch[i]!.event.revision === 0n);
  }

  private readonly documentId = (streamId: string): string =>
    idInCategory(this.projection.category, streamId) ?? streamId;

  /**
   * Folds `streamId` from the document's revision + 1 to the newest delivered revision. Null when every
   * delivered event is at or below the document's revision.
   */
  private async fold(
    streamId: string,
    doc: ReadDocument | null,
    delivered: readonly RecordedEvent[],
  ): Promise<{
    data: JsonObject;
    last: RecordedEvent;
    entries: DocumentWrite[];
    applied: number;
    healed: number;
    /** Append times (epoch ms) of the events applied, when freshness is measured (else empty). */
    created: number[];
    /** The first event that could not be applied (the document stops right before it). */
    failure?: { revision: bigint; error: unknown };
  } | null> {
    const from = doc ? doc.revision + 1n : 0n;
    let newest = -1n;
    for (const event of delivered) if (event.revision > newest) newest = event.revision;
    if (newest < from) return null;

    const count = Number(newest - from + 1n);
    const byRevision = new Map<bigint, RecordedEvent>();
    for (const event of delivered) if (event.revision >= from) byRevision.set(event.revision, event);
    let run: RecordedEvent[];
    let healed = 0;
    if (byRevision.size === count) {
      run = [...byRevision.values()].sort((a, b) => (a.revision < b.revision ? -1 : 1));
    } else {
      run = await this.events.readStream(streamId, { from, limit: count });
      healed = count - byRevision.size;
      if (run.length !== count || run[0]?.revision !== from || run[count - 1]?.revision !== newest) {
        throw new Error(`the event store returned ${run.length} of revisions ${from}..${newest}`);
      }
    }

    let data = (doc?.data ?? null) as object | null;
    const entries: DocumentWrite[] = [];
    let last: RecordedEvent | null = null;
    let applied = 0;
    const created: number[] = [];
    const measure = this.freshness !== undefined;
    for (const recorded of run) {
      let next: object;
      let made: DocumentWrite[];
      try {
        ({ data: next, entries: made } = applyEvent(this.projection, data, recorded));
      } catch (error) {
        if (!last) throw error;
        return {
          data: data as JsonObject,
          last,
          entries,
          applied,
          healed,
          created,
          failure: { revision: recorded.revision, error },
        };
      }
      data = next;
      entries.push(...made);
      last = recorded;
      applied++;
      if (measure) created.push(recorded.created.getTime());
    }
    return { data: data as JsonObject, last: last!, entries, applied, healed, created };
  }
}
