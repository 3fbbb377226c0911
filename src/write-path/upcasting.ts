import type { DomainEvent } from '../shared/domain/index.js';
import type { JsonObject, RecordedEvent } from '../event-store/event-store.port.js';

/** Turns the data of `type` at schema version `from` into version `from + 1`. */
export type Upcaster = (data: JsonObject) => JsonObject;
/** Per event type, per source version. Published event types are never edited in place: add an entry here. */
export type Upcasters = Readonly<Record<string, Readonly<Record<number, Upcaster>>>>;

export class UnknownEventError extends Error {
  constructor(type: string, version: unknown) {
    super(`cannot read event ${type} (schema version ${String(version)})`);
    this.name = 'UnknownEventError';
  }
}

/**
 * Builds the `toDomainEvent` of an aggregate: checks that the type is one of its events and upcasts older
 * schema versions step by step to the current one. Anything it cannot read throws instead of being folded
 * partially.
 */
export function eventReader<Event extends DomainEvent>(
  types: readonly Event['type'][],
  currentVersion: number,
  upcasters: Upcasters = {},
): (recorded: Pick<RecordedEvent, 'type' | 'data' | 'metadata'>) => Event {
  const known = new Set<string>(types);
  return (recorded) => {
    const version = recorded.metadata.schemaVersion ?? 1;
    if (!known.has(recorded.type) || typeof version !== 'number' || version > currentVersion || version < 1) {
      throw new UnknownEventError(recorded.type, version);
    }
    let data = recorded.data;
    for (let v = version; v < currentVersion; v++) {
      const step = upcasters[recorded.type]?.[v];
      if (!step) throw new UnknownEventError(recorded.type, v);
      data = step(data);
    }
    return { type: recorded.type, data } as unknown as Event;
  };
}
