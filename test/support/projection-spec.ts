import type { DomainEvent } from '../../src/shared/domain/index.js';
import type { JsonObject } from '../../src/event-store/event-store.port.js';
import type { ProjectedEvent, Projection } from '../../src/read-side/runtime/projection.js';

let position = 1000n;

/** A projected event of `streamId` at `revision`, with a plausible position, time and metadata. */
export function projected<E extends DomainEvent>(
  streamId: string,
  revision: number,
  event: E,
  at = new Date(Date.UTC(2026, 4, 2, 14, 3, revision)),
  metadata: JsonObject = { actor: 'c-1', schemaVersion: 1 },
): ProjectedEvent<E> {
  position += 1n;
  return {
    event,
    id: `00000000-0000-4000-8000-${String(revision).padStart(12, '0')}`,
    streamId,
    revision: BigInt(revision),
    position,
    created: at,
    metadata,
  };
}

/**
 * `projectionSpec(p).given(events).then(document)` — folds the events through the projection's pure
 * functions, as the runtime does for one stream, and compares the document (and the entries).
 */
export function projectionSpec<Doc extends object, E extends DomainEvent>(projection: Projection<Doc, E>) {
  return {
    given(events: readonly ProjectedEvent<E>[]) {
      let doc: Doc | null = null;
      const entries: JsonObject[] = [];
      for (const event of events) {
        doc = projection.evolve(doc, event);
        for (const entry of projection.entriesFor?.(doc, event) ?? []) entries.push(entry.data);
      }
      // Documents must be plain JSON: what goes in must come back out of a read store unchanged.
      expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
      return {
        then(expected: Doc): void {
          expect(doc).toEqual(expected);
        },
        thenEntries(expected: readonly JsonObject[]): void {
          expect(entries).toEqual(expected);
        },
        get document(): Doc | null {
          return doc;
        },
      };
    },
  };
}
