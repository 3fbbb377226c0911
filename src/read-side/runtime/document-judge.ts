import { idInCategory, streamName } from '../../shared/domain/index.js';
import {
  InvalidPositionError,
  type EventStore,
  type JsonObject,
  type RecordedEvent,
} from '../../event-store/event-store.port.js';
import { sameJson } from '../same-json.js';
import type { DocumentWrite, ReadDocument } from '../read-store.port.js';
import type { AnyProjection } from './projection.js';
import { applyEvent } from './projection-runner.js';
import { diffFields } from './jobs/document-diff.js';
import type { FieldDrift } from './jobs/job.js';

/**
 * How a read document is judged against the events: the one rule shared by `verify` (a complete check, job by
 * job) and the consistency sampler (a few documents a second, in the background). A document records the
 * stream revision it reflects; it is right when it equals its stream folded from the first event up to that
 * revision — never further, so a document that is merely behind (lag) is never drift, whatever the delivery
 * did (duplicates, reordering, redelivery: the runtime applies each stream exactly in revision order, healing
 * gaps from the store).
 */

/** What a document (or entry) should be, from a clean fold of its stream. */
export interface Expected {
  readonly revision: bigint;
  readonly position: bigint;
  readonly data: JsonObject;
}

/** The verdict on a document (or entry) found in the live generation. */
export type FoundJudgement =
  | { readonly verdict: 'ok' }
  | {
      readonly verdict: 'drift';
      /** `changed`: it differs from its fold; `extra`: no event accounts for it. */
      readonly kind: 'changed' | 'extra';
      readonly live: ReadDocument;
      readonly expected: Expected | null;
      /** The stream it was judged against (null: an entry whose event is not this projection's). */
      readonly streamId: string | null;
    };

/** Same revision, position and data (projectedAt is the store's clock: never compared). */
export const sameDocument = (a: ReadDocument | undefined, b: ReadDocument | undefined): boolean =>
  a !== undefined &&
  b !== undefined &&
  a.revision === b.revision &&
  a.position === b.position &&
  sameJson(a.data, b.data);

/** Judges documents and entries of one projection against its streams in the event store. */
export class DocumentJudge {
  constructor(
    private readonly events: EventStore,
    readonly projection: AnyProjection,
  ) {}

  /** The stream of a per-stream document (`order-<id>` for the `orders` document `<id>`). */
  streamOf(documentId: string): string {
    return streamName(this.projection.category, documentId);
  }

  /** A per-stream document: compared with its stream folded up to the revision it records. */
  async judgeDocument(found: ReadDocument): Promise<FoundJudgement> {
    const streamId = this.streamOf(found.id);
    const folded = await this.fold(streamId, found.revision);
    if (!folded) return { verdict: 'drift', kind: 'extra', live: found, expected: null, streamId };
    const expected = folded.document;
    if (sameDocument(found, { ...expected, id: found.id, projectedAt: found.projectedAt })) {
      return { verdict: 'ok' };
    }
    return { verdict: 'drift', kind: 'changed', live: found, expected, streamId };
  }

  /**
   * The event an entry (keyed by event id) comes from, when it is one of this projection's: read at the
   * entry's position (positions are the store's own, never computed: see event-store.port.ts).
   */
  async sourceOfEntry(id: string, position: bigint): Promise<RecordedEvent | null> {
    const event = await this.events.eventAt(position).catch((error: unknown) => {
      if (error instanceof InvalidPositionError) return null;
      throw error;
    });
    return event &&
      (id === event.id || id.startsWith(`${event.id}:`)) &&
      idInCategory(this.projection.category, event.streamId) !== null
      ? event
      : null;
  }

  /** What the entry `id` of `source` should be (undefined: a clean fold gives no such entry). */
  async expectedEntry(source: RecordedEvent, id: string): Promise<Expected | undefined> {
    const folded = await this.fold(source.streamId, source.revision);
    // A fold that stopped before the event (a poison) has no entry for it.
    return folded?.document.revision === source.revision ? folded.entries.get(id) : undefined;
  }

  /**
   * An entry found in the live generation: compared with the entry its event gives in a clean fold. Its event
   * is the one at `position` (default: the position the entry records; verify passes its shadow's).
   */
  async judgeEntry(found: ReadDocument, position = found.position): Promise<FoundJudgement> {
    const source = await this.sourceOfEntry(found.id, position);
    const expected = source ? await this.expectedEntry(source, found.id) : undefined;
    const streamId = source?.streamId ?? null;
    if (!expected) return { verdict: 'drift', kind: 'extra', live: found, expected: null, streamId };
    if (sameDocument(found, { ...expected, id: found.id, projectedAt: found.projectedAt })) {
      return { verdict: 'ok' };
    }
    return { verdict: 'drift', kind: 'changed', live: found, expected, streamId };
  }

  /**
   * The stream folded from its first event up to `revision` (or its last event, if it has fewer): the
   * document and the entries of the last event folded. Null when the stream has no event at all. A poison
   * event stops the fold right before it (as the live projection stops).
   */
  async fold(
    streamId: string,
    revision: bigint,
  ): Promise<{ document: Expected; entries: Map<string, Expected> } | null> {
    const run: RecordedEvent[] = await this.events.readStream(streamId, {
      from: 0n,
      limit: Number(revision + 1n),
    });
    let data: object | null = null;
    let last: RecordedEvent | null = null;
    let entries: DocumentWrite[] = [];
    for (const recorded of run) {
      try {
        const step = applyEvent(this.projection, data, recorded);
        data = step.data;
        entries = step.entries;
        last = recorded;
      } catch {
        break;
      }
    }
    if (!last || data === null) return null;
    const at = { revision: last.revision, position: last.position };
    return {
      document: { ...at, data: data as JsonObject },
      entries: new Map(
        entries.map((e) => [e.id, { revision: e.revision, position: e.position, data: e.data }]),
      ),
    };
  }
}

/** Paths as a reader sees the document over HTTP: `data.<field>…`, and `meta.revision` / `meta.position`. */
export function fieldDrift(live: ReadDocument, expected: Expected, max = 50): FieldDrift[] {
  const fields: FieldDrift[] = [];
  if (live.revision !== expected.revision) {
    fields.push({ path: 'meta.revision', live: Number(live.revision), expected: Number(expected.revision) });
  }
  if (live.position !== expected.position) {
    fields.push({ path: 'meta.position', live: Number(live.position), expected: Number(expected.position) });
  }
  fields.push(...diffFields(live.data, expected.data, max, 'data'));
  return fields;
}
