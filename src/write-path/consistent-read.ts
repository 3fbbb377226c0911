import { streamName, type DomainEvent } from '../shared/domain/index.js';
import type { AggregateStore } from './aggregate-store.js';
import type { AggregateType, LoadedAggregate } from './aggregate-type.js';
import type { EventStore } from '../event-store/event-store.port.js';

/**
 * A strongly consistent read: the aggregate folded up to the stream's current revision. The aggregate
 * cache is used only when it is provably current (another process may have appended since).
 */
export async function loadConsistent<State, Event extends DomainEvent>(
  aggregates: AggregateStore,
  events: EventStore,
  type: AggregateType<State, Event>,
  id: string,
): Promise<LoadedAggregate<State>> {
  const [loaded, revision] = await Promise.all([
    aggregates.load(type, id),
    events.streamRevision(streamName(type.category, id)),
  ]);
  if (loaded.revision === revision) return loaded;
  aggregates.invalidate(loaded.streamId);
  return aggregates.load(type, id);
}
